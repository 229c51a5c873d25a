#include "workloads/training.h"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

constexpr arch::DType kFp32 = arch::DType::Fp32;
constexpr std::string_view kRecompute = ".recompute";  // the suffix of an op run again in the backward pass

// Builds a pass op by op: each forward op of the inference builder (a prefill over the
// micro-batch) becomes its training form, with the ops of its backward pass and the tensors
// its backward pass needs. Tensors are named by the op that produced them, so one kept by two
// ops (the attention's output, which the output projection also needs) counts once.
class PassBuilder {
 public:
  PassBuilder(const ModelConfig& config, const TrainingOptions& options, uint64_t tp)
      : config_(config), options_(options), tp_(tp) {}

  // Starts a pass of ops (a layer, the embeddings, the head) whose first op reads `input`.
  void start(std::string input, bool sharded) {
    forward_.clear();
    backward_.clear();
    saved_.clear();
    last_ = std::move(input);
    qk_ = "attn.qkv_proj";
    sharded_ = sharded;
    adapters_ = 0;
    pass_input_ = {last_, sharded_};
    qkv_input_ = pass_input_;
    mlp_branched_ = false;
  }

  void add(const Op& op, bool in_layer) {
    if (in_layer && starts_parallel_mlp(op)) {
      // The MLP of a parallel layer reads the layer's input (its own norm of it), or with one
      // norm for both what the QKV projection read, gathered already under sequence
      // parallelism.
      const bool shared = config_.block_layout == BlockLayout::ParallelSharedNorm;
      std::tie(last_, sharded_) = shared ? qkv_input_ : pass_input_;
      mlp_branched_ = true;
    }
    switch (op.kind) {
      case OpKind::KvCacheAppend:
      case OpKind::KvCacheRead:
        return;  // training keeps no cache
      case OpKind::Linear:
        add_linear(op, in_layer);
        return;
      case OpKind::AllReduce:
        add_reduction(op);
        return;
      case OpKind::AllToAll:
        forward(op);
        backward({Op(op.name + ".grad", OpKind::AllToAll, op.shape)});
        return;
      case OpKind::LayerNorm:
      case OpKind::RmsNorm: {
        const Op norm = sharded_rows(op);
        const uint64_t rows = norm.shape_as<RowsShape>().rows;
        save(last_, rows * norm.shape_as<RowsShape>().cols);
        // The statistics a row: mean and rstd, or rstd alone, in fp32.
        save(op.name + ".stats", rows * (op.kind == OpKind::LayerNorm ? 2 : 1), kFp32);
        forward(norm);
        backward({Op(op.name + ".grad", op.kind == OpKind::LayerNorm ? OpKind::LayerNormBackward
                                                                     : OpKind::RmsNormBackward,
                     norm.shape)});
        return;
      }
      case OpKind::ResidualAdd: {
        // Its backward pass hands dy to both branches; where they met, their gradients add. A
        // sub-block's output is dropped out before it joins the residual stream.
        const Op add = sharded_rows(op);
        if (op.name == "attn.residual" || op.name == "mlp.residual") {
          const auto& rows = add.shape_as<RowsShape>();
          const std::string block = op.name.substr(0, op.name.find('.'));
          add_dropout(block + ".output_dropout", rows.rows, rows.cols, config_.hidden_dropout);
        }
        forward(add);
        backward({Op(op.name + ".grad", OpKind::ResidualAdd, add.shape)});
        return;
      }
      case OpKind::Gelu:
      case OpKind::Relu:
      case OpKind::SiluMul:
      case OpKind::GeluMul: {
        const auto& s = op.shape_as<RowsShape>();
        const bool gated = op.kind == OpKind::SiluMul || op.kind == OpKind::GeluMul;
        save(last_, s.rows * s.cols * (gated ? 2 : 1));
        forward(op);
        const OpKind grad = op.kind == OpKind::Gelu      ? OpKind::GeluBackward
                            : op.kind == OpKind::Relu    ? OpKind::ReluBackward
                            : op.kind == OpKind::SiluMul ? OpKind::SiluMulBackward
                                                         : OpKind::GeluMulBackward;
        backward({Op(op.name + ".grad", grad, op.shape)});
        return;
      }
      case OpKind::Softcap: {
        // Its gradient reads its output (of unfused attention's scores, selective recomputation
        // runs it again instead).
        const auto& s = op.shape_as<SoftcapShape>();
        if (!attention_core(op) || options_.recompute == Recompute::None) save(op.name, s.rows * s.cols);
        forward(op);
        backward({Op(op.name + ".grad", OpKind::SoftcapBackward, op.shape)});
        return;
      }
      case OpKind::Rope:
        // The rotation by minus the angle; the positions are all it needs.
        qk_ = op.name;
        forward(op);
        backward({Op(op.name + ".grad", OpKind::Rope, op.shape)});
        return;
      case OpKind::Attention:
        add_attention(op);
        return;
      case OpKind::BatchedMatmul:
        add_batched_matmul(op);
        return;
      case OpKind::Softmax: {
        const auto& s = op.shape_as<SoftmaxShape>();
        if (!attention_core(op) || options_.recompute == Recompute::None) save(op.name, s.rows * s.cols);
        forward(op);
        backward({Op(op.name + ".grad", OpKind::SoftmaxBackward, op.shape)});
        if (attention_core(op)) add_dropout("attn.dropout", s.rows, s.cols, config_.attention_dropout);
        return;
      }
      case OpKind::Embedding: {
        const Op lookup = sharded_rows(op);
        forward(lookup);
        backward({Op(op.name + ".grad", OpKind::EmbeddingBackward, lookup.shape)});
        return;
      }
      default:
        throw InputError("training: op '" + op.name + "' (" + kind_name(op.kind) + ") has no backward pass here");
    }
  }

  // The backward ops of the pass in their order: the forward ops' in reverse.
  std::vector<Op> backward_ops() const {
    std::vector<Op> ops;
    for (auto it = backward_.rbegin(); it != backward_.rend(); ++it) ops.insert(ops.end(), it->begin(), it->end());
    return ops;
  }

  const std::vector<Op>& forward_ops() const { return forward_; }
  const std::vector<SavedTensor>& saved() const { return saved_; }
  uint64_t sharded_rows_of(uint64_t rows) const { return sequence_parallel() ? rows / tp_ : rows; }

  // The vocabulary-parallel head: the final norm, the logits of every token and the loss.
  void add_head(const ModelConfig& shard, uint64_t tokens, bool owns_table) {
    if (shard.norm_placement == NormPlacement::Pre) {
      add(Op("final_norm", shard.norm == Norm::RmsNorm ? OpKind::RmsNorm : OpKind::LayerNorm,
             RowsShape{tokens, shard.hidden_size}),
          false);
    }
    add_linear(Op("lm_head", OpKind::Linear,
                  LinearShape{tokens, shard.vocab_size, shard.hidden_size, false,
                              owns_table ? WeightRole::Own : WeightRole::Borrowed, 1, 0, TensorSplit::Column}),
               false);
    if (shard.logit_softcap > 0) {
      add(Op("lm_head.softcap", OpKind::Softcap, SoftcapShape{tokens, shard.vocab_size, shard.logit_softcap}), false);
    }
    const RowsShape logits{tokens, shard.vocab_size};
    save("loss.softmax", tokens * shard.vocab_size);
    forward(Op("loss", OpKind::CrossEntropy, logits));
    // Vocabulary-parallel cross entropy (Megatron): the devices agree on each token's maximum
    // logit, its target's logit and its sum of exponentials, a float each.
    if (tp_ > 1) {
      for (const char* what : {"loss.max_all_reduce", "loss.target_all_reduce", "loss.sum_all_reduce"}) {
        forward(Op(what, OpKind::AllReduce, CollectiveShape{tokens, 1, tp_}, kFp32));
      }
    }
    backward({Op("loss.grad", OpKind::CrossEntropyBackward, logits)});
    if (!options_.teacher) return;
    // Distillation's loss, KL(teacher ‖ student): the student's log-softmax against the
    // teacher's probabilities, summed a token over the vocabulary's shards; its gradient is the
    // student's softmax less the teacher's probabilities.
    forward(Op("distill.loss", OpKind::CrossEntropy, logits));
    if (tp_ > 1) forward(Op("distill.loss_all_reduce", OpKind::AllReduce, CollectiveShape{tokens, 1, tp_}, kFp32));
    backward({Op("distill.loss.grad", OpKind::CrossEntropyBackward, logits)});
  }

  uint64_t adapters() const { return adapters_; }

  // Dropout with probability p (none when p is 0) of the last op's rows × cols output; its
  // mask, a byte an element, kept for the backward pass (unless the attention core's, which
  // selective recomputation draws again).
  void add_dropout(const std::string& name, uint64_t rows, uint64_t cols, double p) {
    if (p == 0) return;
    const Op dropout(name, OpKind::Dropout, DropoutShape{rows, cols, p});
    if (!attention_core(dropout) || options_.recompute == Recompute::None) {
      save(name + ".mask", rows * cols, arch::DType::Int8);
    }
    forward(dropout);
    backward({Op(name + ".grad", OpKind::DropoutBackward, dropout.shape)});
  }

  // The embeddings' dropout, after their sum.
  void add_embedding_dropout(uint64_t tokens, uint64_t hidden, double p) {
    add_dropout("embed.dropout", sharded_ && sequence_parallel() ? tokens / tp_ : tokens, hidden, p);
  }

 private:
  bool sequence_parallel() const { return options_.sequence_parallel && tp_ > 1; }

  void forward(Op op) {
    last_ = op.name;
    forward_.push_back(std::move(op));
  }

  void backward(std::vector<Op> ops) { backward_.push_back(std::move(ops)); }

  void save(const std::string& name, uint64_t elements, std::optional<arch::DType> format = std::nullopt) {
    const auto same = [&](const SavedTensor& t) { return t.name == name; };
    if (std::find_if(saved_.begin(), saved_.end(), same) == saved_.end()) saved_.push_back({name, elements, format});
  }

  // Under sequence parallelism a token-wise op outside the attention and MLP blocks sees only
  // its device's share of the tokens.
  Op sharded_rows(const Op& op) const {
    if (!sharded_ || !sequence_parallel()) return op;
    if (const auto* s = std::get_if<RowsShape>(&op.shape)) {
      return Op(op.name, op.kind, RowsShape{s->rows / tp_, s->cols});
    }
    const auto& e = op.shape_as<EmbeddingShape>();
    return Op(op.name, op.kind, EmbeddingShape{e.tokens / tp_, e.hidden, e.vocab});
  }

  // Whether selective recomputation recomputes the op: unfused attention's scores, their soft
  // cap, softmax and dropout.
  static bool attention_core(const Op& op) {
    return op.name == "attn.scores" || op.name == "attn.softcap" || op.name == "attn.softmax" ||
           op.name == "attn.dropout";
  }

  // The first op of a parallel layer's MLP branch.
  bool starts_parallel_mlp(const Op& op) const {
    return config_.block_layout != BlockLayout::Sequential && !mlp_branched_ && op.name.rfind("mlp.", 0) == 0;
  }

  // A row-parallel projection's partial sums completed: an all-reduce, or under sequence
  // parallelism a reduce-scatter that leaves each device its tokens (and an all-gather of
  // their gradients in the backward pass).
  void add_reduction(const Op& op) {
    const auto& s = op.shape_as<CollectiveShape>();
    if (!sequence_parallel() || s.group != CollectiveGroup::Tensor) {
      forward(op);
      return;
    }
    forward(Op(op.name, OpKind::ReduceScatter, s));
    sharded_ = true;
    backward({Op(op.name + ".grad", OpKind::AllGather, CollectiveShape{s.rows / tp_, s.cols, tp_})});
  }

  // X·W and its two backward products, dX = dY·Wᵀ and dW = Xᵀ·dY (weight gradients added into
  // the fp32 main gradients in the product's epilogue, Megatron's gradient-accumulation fusion;
  // bias gradients, a column sum of dY, left out). A column-parallel linear's input gradient
  // is summed over the tensor-parallel devices (reduce-scattered under sequence parallelism,
  // whose all-gathered input the backward pass gathers again); both overlap the products, as
  // Megatron does. Under fp8 a layer's linear casts X before its product and dY before its
  // backward products, and keeps X's fp8 transpose rather than X.
  void add_linear(const Op& op, bool in_layer) {
    const auto& s = op.shape_as<LinearShape>();
    const bool column = s.split == TensorSplit::Column && tp_ > 1;
    const bool gather = column && sequence_parallel() && sharded_;
    const bool lora = in_layer && options_.lora_rank > 0 && s.groups == 1 && s.split != TensorSplit::Whole;
    const bool trains = !(in_layer && options_.lora_rank > 0) && s.weight != WeightRole::Gradient;
    const std::optional<arch::DType> product =
        in_layer && options_.fp8 ? std::optional<arch::DType>(arch::DType::Fp8) : std::nullopt;
    const uint64_t input_rows = gather ? s.m / tp_ : s.m;
    if (gather) {
      forward(Op(op.name + ".all_gather", OpKind::AllGather, CollectiveShape{input_rows, s.k, tp_}));
      last_ = op.name + ".input";
      sharded_ = false;
    }
    const std::string input = last_;
    if (op.name == "attn.qkv_proj") qkv_input_ = {input, sharded_};
    if (product) forward(Op(op.name + ".input_cast", OpKind::Quantize, RowsShape{s.m * s.groups, s.k}));
    if (trains || lora) save(product ? op.name + ".input_cast" : input, input_rows * s.k * s.groups, product);
    forward(Op(op.name, op.kind, op.shape, product));
    std::vector<Op> grads;
    if (gather) {
      grads.emplace_back(op.name + ".input_all_gather", OpKind::AllGather,
                         CollectiveShape{input_rows, s.k, tp_, CollectiveGroup::Tensor, true});
    }
    if (product) grads.emplace_back(op.name + ".grad_output_cast", OpKind::Quantize, RowsShape{s.m * s.groups, s.n});
    grads.emplace_back(op.name + ".grad_input", OpKind::Linear,
                       LinearShape{s.m, s.k, s.n, false, WeightRole::Borrowed, s.groups, 0, s.split}, product);
    if (gather) grads.emplace_back(op.name + ".wait", OpKind::WaitComm, WaitShape{0});
    if (lora) add_adapter(op, grads);
    if (column) {
      const OpKind reduce = gather ? OpKind::ReduceScatter : OpKind::AllReduce;
      grads.emplace_back(op.name + ".grad_input_reduce", reduce,
                         CollectiveShape{s.m, s.k, tp_, CollectiveGroup::Tensor, true});
    }
    if (trains) {
      grads.emplace_back(op.name + ".grad_weight", OpKind::Linear,
                         LinearShape{s.k, s.n, s.m, false, WeightRole::Gradient, s.groups, 0, s.split}, product);
    }
    if (column) grads.emplace_back(op.name + ".grad_wait", OpKind::WaitComm, WaitShape{0});
    backward(std::move(grads));
  }

  // LoRA's A[k×r]·B[r×n] beside a frozen linear, its output added to the linear's. Under tensor
  // parallelism B is split with a column-parallel linear's output, A with a row-parallel
  // linear's input (whose all-reduce then sums the adapter's partial products too).
  void add_adapter(const Op& op, std::vector<Op>& grads) {
    const auto& s = op.shape_as<LinearShape>();
    const uint64_t r = options_.lora_rank;
    const bool row = s.split == TensorSplit::Row;
    forward(Op(op.name + ".lora_a", OpKind::Linear,
               LinearShape{s.m, r, s.k, false, WeightRole::Own, 1, 0, row ? TensorSplit::Row : TensorSplit::Whole}));
    save(op.name + ".lora_a", s.m * r);
    forward(Op(op.name + ".lora_b", OpKind::Linear,
               LinearShape{s.m, s.n, r, false, WeightRole::Own, 1, 0, row ? TensorSplit::Whole : TensorSplit::Column}));
    forward(Op(op.name + ".lora_add", OpKind::ResidualAdd, RowsShape{s.m, s.n}));
    last_ = op.name;
    adapters_ += s.k * r + r * s.n;
    grads.emplace_back(op.name + ".lora_b.grad_weight", OpKind::Linear,
                       LinearShape{r, s.n, s.m, false, WeightRole::Gradient});
    grads.emplace_back(op.name + ".lora_b.grad_input", OpKind::Linear,
                       LinearShape{s.m, r, s.n, false, WeightRole::Borrowed});
    grads.emplace_back(op.name + ".lora_a.grad_weight", OpKind::Linear,
                       LinearShape{s.k, r, s.m, false, WeightRole::Gradient});
    grads.emplace_back(op.name + ".lora_a.grad_input", OpKind::Linear,
                       LinearShape{s.m, s.k, r, false, WeightRole::Borrowed});
    grads.emplace_back(op.name + ".lora_grad_add", OpKind::ResidualAdd, RowsShape{s.m, s.k});
  }

  // FlashAttention keeps Q, K, V, its output and each query row's log-sum-exp, and recomputes
  // the probabilities in its backward pass.
  void add_attention(const Op& op) {
    const auto& s = op.shape_as<AttentionShape>();
    const uint64_t q = s.batch * s.heads * s.q_len * s.head_dim;
    const uint64_t kv = s.batch * s.kv_heads * s.kv_len * s.head_dim;
    save(qk_ + ".q", q);
    save(qk_ + ".k", kv);
    save("attn.qkv_proj.v", kv);
    save(op.name, q);
    save(op.name + ".lse", s.batch * s.heads * s.q_len, kFp32);
    forward(op);
    backward({Op(op.name + ".grad", OpKind::AttentionBackward, op.shape)});
  }

  // Unfused attention's products: scores = Q·Kᵀ and context = P·V, each keeping both operands;
  // dA = dC·Bᵀ and dB = Aᵀ·dC, the query heads of a group summing into their shared B. Under
  // selective recomputation the scores and the softmax are run again before the context's
  // backward pass, and P is not kept.
  void add_batched_matmul(const Op& op) {
    const auto& s = op.shape_as<BatchedMatmulShape>();
    const uint64_t a = s.batch * s.m * s.k;
    const uint64_t b = s.batch / s.b_shared_by * s.k * s.n;
    const bool scores = op.name == "attn.scores";
    // Full recomputation runs the whole layer again anyway; selective runs the core here.
    const bool recompute = options_.recompute == Recompute::Selective;
    if (scores) {
      save(qk_ + ".q", a);
      save(qk_ + ".k", b);
    } else {
      if (!recompute) save(last_, a);
      save("attn.qkv_proj.v", b);
    }
    std::vector<Op> grads;
    if (!scores && recompute) {
      for (const Op& core : forward_) {
        if (attention_core(core)) grads.emplace_back(core.name + std::string(kRecompute), core.kind, core.shape);
      }
    }
    forward(op);
    grads.emplace_back(op.name + ".grad_a", OpKind::BatchedMatmul,
                       BatchedMatmulShape{s.batch, s.m, s.k, s.n, s.b_shared_by});
    grads.emplace_back(op.name + ".grad_b", OpKind::BatchedMatmul,
                       BatchedMatmulShape{s.batch / s.b_shared_by, s.k, s.n, s.m * s.b_shared_by});
    backward(std::move(grads));
  }

  const ModelConfig& config_;
  const TrainingOptions& options_;
  uint64_t tp_;
  std::vector<Op> forward_;
  std::vector<std::vector<Op>> backward_;  // per forward op, in execution order
  std::vector<SavedTensor> saved_;
  std::string last_;             // the op whose output the next op reads
  std::string qk_ = "attn.qkv_proj";  // where Q and K come from: the projection, or RoPE
  bool sharded_ = false;         // tokens split over the tensor-parallel devices
  uint64_t adapters_ = 0;        // LoRA parameters added so far
  // What the pass's first op and the QKV projection read (last_ and sharded_ then), where a
  // parallel layer's MLP branch starts from; and whether it has started.
  std::pair<std::string, bool> pass_input_;
  std::pair<std::string, bool> qkv_input_;
  bool mlp_branched_ = false;
};

void check(const ModelConfig& config, const TrainingOptions& options, uint64_t tp) {
  validate(config);
  if (!config.causal) throw InputError(config.name + ": training is modelled for decoders (a language-model loss)");
  if (options.micro_batch == 0 || options.seq == 0) {
    throw InputError(config.name + ": a training step needs a micro-batch and a sequence length of at least 1");
  }
  if (!options.sequence_parallel || tp == 1) return;
  if (config.mixture_of_experts()) {
    throw InputError(config.name + ": sequence parallelism with a mixture of experts is not modelled");
  }
  if (options.micro_batch * options.seq % tp != 0) {
    throw InputError(config.name + ": sequence parallelism splits the micro-batch's " +
                     std::to_string(options.micro_batch * options.seq) + " tokens over " + std::to_string(tp) +
                     " devices, which do not divide them");
  }
}

// The teacher's forward pass on the devices of `slice`: its layers in proportion to the
// student's of the slice, its embeddings on the first stage, and on the last its logits of every
// token and their vocabulary-parallel softmax, the soft targets. No tensor is kept and no
// gradient taken; its KV cache is not written.
OpGraph teacher_forward(const ModelConfig& teacher, const ModelConfig& student, const TrainingOptions& options,
                        const ModelSlice& slice, uint64_t slice_layers, bool first, bool last) {
  const uint64_t student_layers = student.num_hidden_layers, teacher_layers = teacher.num_hidden_layers;
  const uint64_t begin = slice.first_layer * teacher_layers / student_layers;
  const uint64_t end = last ? teacher_layers : (slice.first_layer + slice_layers) * teacher_layers / student_layers;
  if (end == begin) {
    throw InputError("teacher " + teacher.name + ": its " + std::to_string(teacher_layers) +
                     " layers, split over the stages as the student's " + std::to_string(student_layers) +
                     " are, leave stage " + std::to_string(slice.stage) + " none");
  }
  ModelSlice share = slice;
  share.first_layer = begin;
  share.layers = end - begin;
  const uint64_t tp = slice.tensor_parallel;
  const uint64_t tokens = options.micro_batch * options.seq;
  const OpGraph inference = build_model(teacher, Phase::prefill(options.micro_batch, options.seq), options.attention,
                                        share);
  const auto named = [](const Op& op) { return Op("teacher." + op.name, op.kind, op.shape, op.format); };
  const auto computed = [&](const std::vector<Op>& ops) {
    std::vector<Op> kept;
    for (const Op& op : ops) {
      if (op.kind != OpKind::KvCacheAppend && op.kind != OpKind::KvCacheRead) kept.push_back(named(op));
    }
    return kept;
  };
  OpGraph graph;
  graph.name = teacher.name + " teacher, forward";
  graph.prologue = computed(inference.prologue);
  if (!first && tp > 1) {
    graph.prologue.emplace_back("teacher.pipeline.all_gather", OpKind::AllGather,
                                CollectiveShape{tokens / tp, teacher.hidden_size, tp});
  }
  for (const LayerBlock& block : inference.layers) {
    LayerBlock kept{{}, block.repeats, {}};
    for (const std::vector<Op>& layer : block.layer_ops()) {
      const std::vector<Op> ops = computed(layer);
      if (!block.layer_sizes.empty()) kept.layer_sizes.push_back(ops.size());
      kept.ops.insert(kept.ops.end(), ops.begin(), ops.end());
    }
    graph.layers.push_back(std::move(kept));
  }
  if (!last) return graph;
  const ModelConfig shard = tensor_parallel_shard(teacher, tp);
  if (shard.norm_placement == NormPlacement::Pre) {
    graph.epilogue.emplace_back("teacher.final_norm", shard.norm == Norm::RmsNorm ? OpKind::RmsNorm : OpKind::LayerNorm,
                                RowsShape{tokens, shard.hidden_size});
  }
  const WeightRole table = teacher.tied_embeddings && first ? WeightRole::Borrowed : WeightRole::Own;
  graph.epilogue.emplace_back(
      "teacher.lm_head", OpKind::Linear,
      LinearShape{tokens, shard.vocab_size, shard.hidden_size, false, table, 1, 0, TensorSplit::Column});
  if (shard.logit_softcap > 0) {
    graph.epilogue.emplace_back("teacher.lm_head.softcap", OpKind::Softcap,
                                SoftcapShape{tokens, shard.vocab_size, shard.logit_softcap});
  }
  graph.epilogue.emplace_back("distill.teacher_softmax", OpKind::Softmax, SoftmaxShape{tokens, shard.vocab_size});
  if (tp > 1) {
    for (const char* what : {"distill.teacher_max_all_reduce", "distill.teacher_sum_all_reduce"}) {
      graph.epilogue.emplace_back(what, OpKind::AllReduce, CollectiveShape{tokens, 1, tp}, kFp32);
    }
  }
  return graph;
}

void check_teacher(const ModelConfig& student, const ModelConfig& teacher) {
  validate(teacher);
  if (!teacher.causal) throw InputError("teacher " + teacher.name + ": distillation is modelled for decoders");
  if (teacher.vocab_size != student.vocab_size) {
    throw InputError("teacher " + teacher.name + ": its vocabulary of " + std::to_string(teacher.vocab_size) +
                     " tokens is not the student's " + std::to_string(student.vocab_size) +
                     "; its probabilities must be over the same tokens");
  }
}

bool is_recomputation(const Op& op) {
  return op.name.size() > kRecompute.size() &&
         op.name.compare(op.name.size() - kRecompute.size(), kRecompute.size(), kRecompute) == 0;
}

uint64_t parameters_of(const std::vector<Op>& ops) {
  uint64_t total = 0;
  for (const Op& op : ops) total += op.parameters();
  return total;
}

}  // namespace

std::string_view to_string(Recompute recompute) {
  switch (recompute) {
    case Recompute::None: return "none";
    case Recompute::Selective: return "selective";
    case Recompute::Full: return "full";
  }
  return "none";
}

std::optional<Recompute> parse_recompute(std::string_view text) {
  for (const Recompute r : {Recompute::None, Recompute::Selective, Recompute::Full}) {
    if (text == to_string(r)) return r;
  }
  return std::nullopt;
}

uint64_t TrainingGraphs::parameters() const {
  uint64_t total = edge_parameters;
  for (size_t b = 0; b < layer_parameters.size(); ++b) total += layer_parameters[b] * forward.layers[b].repeats;
  return total;
}

uint64_t TrainingGraphs::trainable() const {
  uint64_t total = edge_trainable;
  for (size_t b = 0; b < layer_trainable.size(); ++b) total += layer_trainable[b] * forward.layers[b].repeats;
  return total;
}

uint64_t TrainingGraphs::fp8_parameters() const {
  uint64_t total = 0;
  forward.for_each_op([&](const Op& op, uint64_t repeats) {
    if (op.kind == OpKind::Linear && op.format == arch::DType::Fp8) total += op.parameters() * repeats;
  });
  return total;
}

uint64_t TrainingGraphs::saved_bytes(arch::DType compute) const {
  uint64_t total = 0;
  for (const SavedTensor& t : edge_saved) total += t.bytes(compute);
  for (size_t b = 0; b < layer_saved.size(); ++b) {
    for (const SavedTensor& t : layer_saved[b]) total += t.bytes(compute) * forward.layers[b].repeats;
  }
  return total;
}

TrainingGraphs build_training_step(const ModelConfig& config, const TrainingOptions& options, const ModelSlice& slice,
                                   const StageNeighbours& neighbours) {
  const uint64_t tp = slice.tensor_parallel;
  check(config, options, tp);
  const OpGraph inference =
      build_model(config, Phase::prefill(options.micro_batch, options.seq), options.attention, slice);
  const ModelConfig shard = tensor_parallel_shard(config, tp);
  const uint64_t tokens = options.micro_batch * options.seq;
  const uint64_t hidden = config.hidden_size;
  const bool first = !inference.prologue.empty();
  const bool last = slice.first_layer + inference.layer_count() == config.num_hidden_layers;
  const bool sp = options.sequence_parallel && tp > 1;
  // What crosses between stages: each device's 1/tp of the hidden states (the tokens it holds
  // under sequence parallelism; else Megatron's scatter-gather, the receiver all-gathering).
  const uint64_t boundary_rows = tokens / tp;
  const bool gather_boundary = tp > 1 && !sp;
  const auto boundary_gather = [&](const std::string& name) {
    return Op(name, OpKind::AllGather, CollectiveShape{boundary_rows, hidden, tp});
  };

  TrainingGraphs graphs;
  graphs.forward.name = config.name + " training step, forward";
  graphs.backward.name = config.name + " training step, backward";
  PassBuilder pass(config, options, tp);

  // The embeddings, or the hidden states from the stage before; in the backward pass, the
  // embeddings' gradients, or the input's gradient sent back.
  pass.start("tokens", false);
  if (first) {
    for (const Op& op : inference.prologue) pass.add(op, false);
    pass.add_embedding_dropout(tokens, hidden, config.embedding_dropout);
    graphs.forward.prologue = pass.forward_ops();
    graphs.backward.epilogue = pass.backward_ops();
    graphs.edge_saved = pass.saved();
  } else {
    if (gather_boundary) graphs.forward.prologue.push_back(boundary_gather("pipeline.all_gather"));
    graphs.backward.epilogue.emplace_back("pipeline.send_grad", OpKind::Send,
                                          SendShape{boundary_rows, hidden, slice.stage, neighbours.previous.value()});
  }
  graphs.edge_parameters = parameters_of(graphs.forward.prologue);

  std::vector<LayerBlock> backward_layers;
  for (const LayerBlock& block : inference.layers) {
    // A run of several layers: each a pass of its own, their backward passes in reverse.
    LayerBlock forward{{}, block.repeats, {}};
    LayerBlock backward{{}, block.repeats, {}};
    std::vector<SavedTensor> saved;
    uint64_t parameters = 0, adapters = 0;
    for (const std::vector<Op>& layer : block.layer_ops()) {
      pass.start("layer.input", sp);
      for (const Op& op : layer) pass.add(op, true);
      std::vector<Op> layer_backward = pass.backward_ops();
      std::vector<SavedTensor> layer_saved = pass.saved();
      if (options.recompute == Recompute::Full) {
        // Only the layer's input is kept; its whole forward pass runs again first.
        std::vector<Op> again;
        for (const Op& op : pass.forward_ops()) {
          again.emplace_back(op.name + std::string(kRecompute), op.kind, op.shape, op.format);
        }
        layer_backward.insert(layer_backward.begin(), again.begin(), again.end());
        layer_saved = {{"layer.input", pass.sharded_rows_of(tokens) * hidden, std::nullopt}};
      }
      if (!block.layer_sizes.empty()) {
        forward.layer_sizes.push_back(pass.forward_ops().size());
        backward.layer_sizes.insert(backward.layer_sizes.begin(), layer_backward.size());
      }
      forward.ops.insert(forward.ops.end(), pass.forward_ops().begin(), pass.forward_ops().end());
      backward.ops.insert(backward.ops.begin(), layer_backward.begin(), layer_backward.end());
      saved.insert(saved.end(), layer_saved.begin(), layer_saved.end());
      parameters += parameters_of(pass.forward_ops());
      adapters += pass.adapters();
    }
    graphs.forward.layers.push_back(std::move(forward));
    backward_layers.push_back(std::move(backward));
    graphs.layer_saved.push_back(std::move(saved));
    graphs.layer_parameters.push_back(parameters);
    graphs.layer_trainable.push_back(options.lora_rank > 0 ? adapters : parameters);
  }
  graphs.backward.layers.assign(backward_layers.rbegin(), backward_layers.rend());

  // The head and the loss, or the hidden states sent on; in the backward pass, the loss's and
  // the head's gradients, or those of the output received back.
  if (last) {
    pass.start(graphs.forward.layers.empty() ? "tokens" : "layer.output", sp);
    // Tied embeddings: the head reads the embedding table, or its own copy on a later stage.
    pass.add_head(shard, tokens, !config.tied_embeddings || !first);
    graphs.forward.epilogue = pass.forward_ops();
    graphs.backward.prologue = pass.backward_ops();
    graphs.edge_saved.insert(graphs.edge_saved.end(), pass.saved().begin(), pass.saved().end());
    graphs.edge_parameters += parameters_of(graphs.forward.epilogue);
  } else {
    graphs.forward.epilogue.emplace_back("pipeline.send", OpKind::Send,
                                         SendShape{boundary_rows, hidden, slice.stage, neighbours.next.value()});
    if (gather_boundary) graphs.backward.prologue.push_back(boundary_gather("pipeline.grad_all_gather"));
  }
  graphs.edge_trainable = options.lora_rank > 0 ? 0 : graphs.edge_parameters;
  if (options.teacher) {
    check_teacher(config, *options.teacher);
    graphs.teacher = teacher_forward(*options.teacher, config, options, slice, inference.layer_count(), first, last);
    graphs.teacher_parameters = graphs.teacher.total_parameters();
    if (last) graphs.edge_saved.push_back({"distill.teacher_softmax", tokens * shard.vocab_size, std::nullopt});
    // The teacher's hidden states travel with the student's.
    for (std::vector<Op>* ops : {&graphs.forward.prologue, &graphs.forward.epilogue}) {
      for (Op& op : *ops) {
        if (auto* send = std::get_if<SendShape>(&op.shape); send && op.name == "pipeline.send") {
          send->cols += options.teacher->hidden_size;
        }
      }
    }
  }
  graphs.backward.for_each_op([&](const Op& op, uint64_t repeats) {
    if (is_recomputation(op)) graphs.recomputed_macs += op.macs() * repeats;
  });
  return graphs;
}

}  // namespace tessel::workloads
