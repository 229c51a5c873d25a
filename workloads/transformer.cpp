#include "workloads/transformer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "workloads/counts.h"
#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

std::string impl_text(AttentionImpl impl) {
  return impl == AttentionImpl::Fused ? "fused attention" : "unfused attention";
}

void check_step_size(const ModelConfig& config, const Phase& phase) {
  const uint64_t flops = step_flops_bound(config, phase);
  if (flops > kMaxFlops) {
    throw InputError(config.name + ": " + phase_text(phase) + ": " + too_many_flops(flops) +
                     "; give fewer sequences or tokens");
  }
}

void check(const ModelConfig& config, const Phase& phase) {
  validate(config);
  if (phase.batch == 0 || phase.q_len == 0 || phase.kv_len < phase.q_len) {
    const std::string got = "batch " + std::to_string(phase.batch) + ", q_len " +
                            std::to_string(phase.q_len) + ", kv_len " +
                            std::to_string(phase.kv_len);
    throw InputError(config.name +
                     ": a phase needs batch >= 1, q_len >= 1 and kv_len >= q_len, got " + got);
  }
  if (!config.causal && (phase.kind == Phase::Decode || phase.cached_len() > 0)) {
    throw InputError(config.name + " is an encoder: it has no KV cache and no decode phase (" +
                     phase_text(phase) + ")");
  }
  check_step_size(config, phase);
}

OpKind norm_kind(const ModelConfig& config) {
  return config.norm == Norm::RmsNorm ? OpKind::RmsNorm : OpKind::LayerNorm;
}

// What one device of a mixture-of-experts layer runs: its experts (experts / ep of them) and
// the tokens they get. A token picks k of the E experts; over the t tokens of the expert group
// (the tokens of all its ep replicas) an expert gets none with probability (1 - k/E)^t, so
// few tokens keep some experts idle. The device's share, t/ep tokens × k, spreads evenly over
// its active experts, but for the busiest, which gets `skew` times the mean.
struct ExpertLoad {
  uint64_t held = 0;           // experts the device holds
  uint64_t even_experts = 0;   // active experts at the mean load
  uint64_t tokens_each = 0;    // their tokens
  uint64_t hot_tokens = 0;     // the busiest expert's; 0: none stands out
  uint64_t assignments = 0;    // (token, expert) pairs the device computes
};

ExpertLoad expert_load(const ModelConfig& config, uint64_t tokens, uint64_t ep, double skew) {
  ExpertLoad load;
  const double experts = static_cast<double>(config.experts);
  const double k = static_cast<double>(config.experts_per_token);
  load.held = config.experts / ep;
  const double group_tokens = static_cast<double>(tokens * ep);
  const double active_share = 1.0 - std::pow(1.0 - k / experts, group_tokens);
  const uint64_t active = std::clamp<uint64_t>(
      static_cast<uint64_t>(std::ceil(static_cast<double>(load.held) * active_share - 1e-9)), 1, load.held);
  const uint64_t share = tokens * config.experts_per_token;
  load.tokens_each = (share + active - 1) / active;
  load.even_experts = active;
  if (skew > 1.0) {
    load.hot_tokens = std::min(static_cast<uint64_t>(std::ceil(skew * static_cast<double>(share) /
                                                               static_cast<double>(active))),
                               tokens * ep);
    load.even_experts = active - 1;
  }
  load.assignments = load.even_experts * load.tokens_each + load.hot_tokens;
  return load;
}

// What sets a layer's ops apart from another's in one phase: experts or a dense MLP, and a
// sliding window that narrows its attention (only where the phase reaches past the window).
// A layer whose linears a precision recipe keeps wide (keep_layers) differs too.
struct LayerKind {
  bool experts = false;
  bool windowed = false;
  bool kept_wide = false;

  bool operator==(const LayerKind& other) const {
    return experts == other.experts && windowed == other.windowed && kept_wide == other.kept_wide;
  }
};

// Appends the ops of one layer for one model and phase.
class LayerBuilder {
 public:
  LayerBuilder(const ModelConfig& config, const std::vector<Phase>& groups, const ModelSlice& slice)
      : config_(config), groups_(groups), rows_(batch_tokens(groups)), gpus_(slice.tensor_parallel), slice_(slice) {}

  std::vector<Op> build(AttentionImpl impl, LayerKind kind) {
    ops_.clear();
    const bool pre_norm = config_.norm_placement == NormPlacement::Pre;
    const bool parallel = config_.block_layout != BlockLayout::Sequential;
    if (pre_norm) add_norm("attn.norm");
    add_attention(impl, kind.windowed);
    if (parallel) {
      // Both sub-blocks read the layer's input (or the one norm of it); their partial sums meet
      // before the one all-reduce and the residual add.
      if (config_.block_layout == BlockLayout::Parallel) add_norm("mlp.norm");
      add_mlp(false);
      add_rows("mlp.attn_sum", OpKind::ResidualAdd, config_.hidden_size);
      add_all_reduce("mlp.all_reduce");
      add_rows("mlp.residual", OpKind::ResidualAdd, config_.hidden_size);
      return std::move(ops_);
    }
    add_all_reduce("attn.all_reduce");
    if (config_.post_sublayer_norms) add_norm("attn.post_norm");
    add_rows("attn.residual", OpKind::ResidualAdd, config_.hidden_size);
    if (!pre_norm) add_norm("attn.norm");
    if (pre_norm) add_norm("mlp.norm");
    if (kind.experts) {
      add_experts();
    } else {
      add_mlp(true);
    }
    if (config_.post_sublayer_norms) add_norm("mlp.post_norm");
    add_rows("mlp.residual", OpKind::ResidualAdd, config_.hidden_size);
    if (!pre_norm) add_norm("mlp.norm");
    return std::move(ops_);
  }

 private:
  void add_norm(std::string name) {
    add_rows(std::move(name), norm_kind(config_), config_.hidden_size);
  }

  void add_rows(std::string name, OpKind kind, uint64_t cols) {
    ops_.emplace_back(std::move(name), kind, RowsShape{rows_, cols});
  }

  void add_linear(std::string name, uint64_t n, uint64_t k, TensorSplit split, bool bias) {
    ops_.emplace_back(std::move(name), OpKind::Linear, LinearShape{rows_, n, k, bias, WeightRole::Own, 1, 0, split});
  }

  // A windowed layer keeps the window's latest positions: a query sees at most `window`
  // positions up to its own, so of the cache it reads the window − 1 before the first new
  // token at most, and a prompt longer than the window leaves only its last `window` in the
  // cache (a rolling buffer, as HF's sliding-window cache).
  void add_attention(AttentionImpl impl, bool windowed) {
    const uint64_t heads = config_.num_attention_heads;
    const uint64_t kv_heads = config_.num_key_value_heads;
    // Q, K and V as one GEMM: it reads the normalised input once and gives the array one
    // wide N instead of three narrow ones (GPT-2's c_attn, vLLM's QKVParallelLinear); the
    // weights and MACs are those of the three projections.
    add_linear("attn.qkv_proj", (heads + 2 * kv_heads) * config_.head_dim, config_.hidden_size, TensorSplit::Column,
               config_.linear_bias || config_.qkv_bias);
    if (config_.positional == Positional::Rope) {
      // Q and K rotated by one kernel, sharing each position's cos/sin reads.
      ops_.emplace_back("attn.rope", OpKind::Rope, RopeShape{rows_, heads + kv_heads, config_.rotary_dim()});
    }
    for (const Phase& group : groups_) add_group_attention(group, impl, windowed);
    add_linear("attn.o_proj", config_.hidden_size, heads * config_.head_dim, TensorSplit::Row, config_.linear_bias);
  }

  // The cache and attention ops of one group of alike sequences.
  void add_group_attention(const Phase& group, AttentionImpl impl, bool windowed) {
    const uint64_t heads = config_.num_attention_heads;
    const uint64_t kv_heads = config_.num_key_value_heads;
    const uint64_t head_dim = config_.head_dim;
    const uint64_t window = windowed ? config_.sliding_window : 0;
    const uint64_t cached = windowed ? std::min(group.cached_len(), window - 1) : group.cached_len();
    const uint64_t kv_len = cached + group.q_len;
    if (config_.causal) {
      ops_.emplace_back("attn.kv_cache_append", OpKind::KvCacheAppend,
                        KvCacheShape{group.batch, windowed ? std::min(group.q_len, window) : group.q_len,
                                     kv_heads, head_dim});
    }
    if (cached > 0) {
      ops_.emplace_back("attn.kv_cache_read", OpKind::KvCacheRead,
                        KvCacheShape{group.batch, cached, kv_heads, head_dim});
    }
    // A single query per sequence sees every position: its causal mask hides nothing.
    const bool masked = config_.causal && group.q_len > 1;
    const double softcap = config_.attention_softcap;
    if (impl == AttentionImpl::Fused) {
      ops_.emplace_back("attn.attention", OpKind::Attention,
                        AttentionShape{group.batch, heads, kv_heads, group.q_len, kv_len, head_dim, masked, cached,
                                       kv_len > window ? window : 0, softcap});
    } else {
      // One batch entry per (sequence, query head); the heads/kv_heads consecutive query
      // heads of a group share one K/V head. The scores are computed whole and masked, the
      // window's as the causal mask's, as eager attention does.
      const uint64_t matrices = group.batch * heads;
      const uint64_t shared = heads / kv_heads;
      ops_.emplace_back("attn.scores", OpKind::BatchedMatmul,
                        BatchedMatmulShape{matrices, group.q_len, kv_len, head_dim, shared, head_dim * cached});
      if (softcap > 0) {
        ops_.emplace_back("attn.softcap", OpKind::Softcap, SoftcapShape{matrices * group.q_len, kv_len, softcap});
      }
      ops_.emplace_back("attn.softmax", OpKind::Softmax, SoftmaxShape{matrices * group.q_len, kv_len, masked});
      ops_.emplace_back("attn.context", OpKind::BatchedMatmul,
                        BatchedMatmulShape{matrices, group.q_len, head_dim, kv_len, shared, cached * head_dim});
    }
  }

  // Sums the GPUs' partial products of a row-parallel projection.
  void add_all_reduce(std::string name) {
    if (gpus_ > 1) {
      ops_.emplace_back(std::move(name), OpKind::AllReduce, CollectiveShape{rows_, config_.hidden_size, gpus_});
    }
  }

  // `reduce`: the all-reduce after the down projection (a parallel layer reduces both
  // sub-blocks at once, after their sum).
  void add_mlp(bool reduce) {
    const uint64_t hidden = config_.hidden_size;
    const uint64_t intermediate = config_.intermediate_size;
    const bool bias = config_.linear_bias;
    const std::optional<ActivationSparsity>& sparsity = config_.quant.activation_sparsity;
    if (sparsity && (sparsity->predicts("mlp.gate_up_proj") || sparsity->predicts("mlp.up_proj"))) {
      // Deja Vu's and PowerInfer's predictor: a low-rank MLP scoring each neuron from the MLP's
      // input, run before the projections whose outputs it picks.
      add_linear("mlp.predictor_in", sparsity->predictor_rank, hidden, TensorSplit::Whole, false);
      add_linear("mlp.predictor_out", intermediate, sparsity->predictor_rank, TensorSplit::Column, false);
    }
    switch (config_.activation) {
      case Activation::SiluGated:
      case Activation::GeluGated:
        // gate and up as one GEMM of 2 × intermediate columns, for the reason Q, K and V are
        // one; the gated activation reads both halves.
        add_linear("mlp.gate_up_proj", 2 * intermediate, hidden, TensorSplit::Column, bias);
        if (config_.activation == Activation::SiluGated) {
          add_rows("mlp.silu_mul", OpKind::SiluMul, intermediate);
        } else {
          add_rows("mlp.gelu_mul", OpKind::GeluMul, intermediate);
        }
        break;
      case Activation::Gelu:
        add_linear("mlp.up_proj", intermediate, hidden, TensorSplit::Column, bias);
        add_rows("mlp.gelu", OpKind::Gelu, intermediate);
        break;
      case Activation::Relu:
        add_linear("mlp.up_proj", intermediate, hidden, TensorSplit::Column, bias);
        add_rows("mlp.relu", OpKind::Relu, intermediate);
        break;
    }
    add_linear("mlp.down_proj", hidden, intermediate, TensorSplit::Row, bias);
    if (reduce) add_all_reduce("mlp.all_reduce");
  }

  // Route, send each token to its experts' devices, run the experts (and the shared ones),
  // sum the shards' partial products, bring the outputs back, and weigh them together.
  void add_experts() {
    const uint64_t hidden = config_.hidden_size;
    const uint64_t ep = slice_.expert_parallel;
    const uint64_t k = config_.experts_per_token;
    ops_.emplace_back("moe.router", OpKind::Linear, LinearShape{rows_, config_.experts, hidden});
    ops_.emplace_back("moe.topk", OpKind::Softmax, SoftmaxShape{rows_, config_.experts, false});
    if (ep > 1) {
      ops_.emplace_back("moe.dispatch", OpKind::AllToAll,
                        CollectiveShape{rows_ * k, hidden, ep, CollectiveGroup::Expert});
    }
    const ExpertLoad load = expert_load(config_, rows_, ep, slice_.expert_skew);
    const bool hot = load.hot_tokens > 0;
    if (load.even_experts > 0) {
      add_expert_mlp("moe.experts", load.tokens_each, load.even_experts, load.held - (hot ? 1 : 0));
    }
    if (hot) add_expert_mlp("moe.hot_expert", load.hot_tokens, 1, load.even_experts > 0 ? 1 : load.held);
    const uint64_t shared = config_.shared_experts;
    if (shared > 0) add_expert_mlp("moe.shared", rows_, 1, 1, shared);
    // Qwen-MoE's gate of the shared experts, one logit a token; its sigmoid scales their
    // output inside the weighted sum below.
    if (config_.shared_expert_gate) ops_.emplace_back("moe.shared_gate", OpKind::Linear, LinearShape{rows_, 1, hidden});
    if (gpus_ > 1) {
      ops_.emplace_back("moe.all_reduce", OpKind::AllReduce,
                        CollectiveShape{load.assignments + (shared > 0 ? rows_ : 0), hidden, gpus_});
    }
    if (ep > 1) {
      ops_.emplace_back("moe.combine", OpKind::AllToAll,
                        CollectiveShape{rows_ * k, hidden, ep, CollectiveGroup::Expert});
    }
    // The k experts' outputs (and the shared experts') added up, each row of each a
    // two-operand add.
    const uint64_t adds = k - 1 + (shared > 0 ? 1 : 0);
    if (adds > 0) ops_.emplace_back("moe.weighted_sum", OpKind::ResidualAdd, RowsShape{rows_ * adds, hidden});
  }

  // `groups` gated MLPs of `width` times the expert's width (this device's share of it) over
  // `tokens` tokens each, with the weights of `held` of them.
  void add_expert_mlp(const std::string& name, uint64_t tokens, uint64_t groups, uint64_t held, uint64_t width = 1) {
    const uint64_t hidden = config_.hidden_size;
    const uint64_t columns = width * config_.expert_intermediate_size;
    const std::optional<ActivationSparsity>& sparsity = config_.quant.activation_sparsity;
    if (sparsity && sparsity->predicts(name + ".gate_up_proj")) {
      // A predictor for each expert, as Turbo Sparse and PowerInfer-2 give Mixtral's: it scores
      // the expert's neurons from the tokens routed to it, so it runs on the expert's tokens.
      const uint64_t rank = sparsity->predictor_rank;
      ops_.emplace_back(name + ".predictor_in", OpKind::Linear,
                        LinearShape{tokens, rank, hidden, false, WeightRole::Own, groups, held, TensorSplit::Whole});
      ops_.emplace_back(name + ".predictor_out", OpKind::Linear,
                        LinearShape{tokens, columns, rank, false, WeightRole::Own, groups, held, TensorSplit::Column});
    }
    ops_.emplace_back(
        name + ".gate_up_proj", OpKind::Linear,
        LinearShape{tokens, 2 * columns, hidden, false, WeightRole::Own, groups, held, TensorSplit::Column});
    ops_.emplace_back(name + ".silu_mul", OpKind::SiluMul, RowsShape{tokens * groups, columns});
    ops_.emplace_back(name + ".down_proj", OpKind::Linear,
                      LinearShape{tokens, hidden, columns, false, WeightRole::Own, groups, held, TensorSplit::Row});
  }

  const ModelConfig& config_;
  const std::vector<Phase>& groups_;
  uint64_t rows_;
  uint64_t gpus_;
  const ModelSlice& slice_;
  std::vector<Op> ops_;
};

// Layers of the given kinds, in order, as blocks: each run of one kind, or of a short pattern of kinds
// (Gemma 2's sliding and global layers in turn), held once and repeated. At each layer the
// period covering the most layers wins, the shortest on a tie.
std::vector<LayerBlock> layer_blocks(const std::vector<LayerKind>& kinds,
                                     const std::function<std::vector<Op>(LayerKind)>& layer_ops) {
  constexpr size_t kLongestPattern = 8;
  std::vector<LayerBlock> blocks;
  for (size_t i = 0; i < kinds.size();) {
    size_t best_period = 1, best_cover = 0;
    for (size_t period = 1; period <= kLongestPattern && i + period <= kinds.size(); ++period) {
      size_t cover = period;
      while (i + cover < kinds.size() && kinds[i + cover] == kinds[i + cover % period]) ++cover;
      cover -= cover % period;
      if (cover > best_cover && (period == 1 || cover >= 2 * period)) {
        best_period = period;
        best_cover = cover;
      }
    }
    LayerBlock block;
    block.repeats = best_cover / best_period;
    for (size_t j = 0; j < best_period; ++j) {
      std::vector<Op> ops = layer_ops(kinds[i + j]);
      if (best_period > 1) block.layer_sizes.push_back(ops.size());
      block.ops.insert(block.ops.end(), ops.begin(), ops.end());
    }
    blocks.push_back(std::move(block));
    i += best_cover;
  }
  return blocks;
}

std::vector<Op> embeddings(const ModelConfig& config, uint64_t tokens, uint64_t gpus) {
  const uint64_t hidden = config.hidden_size;
  std::vector<Op> ops;
  ops.emplace_back("embed.tokens", OpKind::Embedding,
                   EmbeddingShape{tokens, hidden, config.vocab_size});
  // Each GPU looks up the tokens of its vocabulary slice, zeros elsewhere; the sum completes them.
  if (gpus > 1) ops.emplace_back("embed.all_reduce", OpKind::AllReduce, CollectiveShape{tokens, hidden, gpus});
  if (config.positional == Positional::Learned) {
    ops.emplace_back("embed.positions", OpKind::Embedding,
                     EmbeddingShape{tokens, hidden, config.position_table_size});
    ops.emplace_back("embed.add_positions", OpKind::ResidualAdd, RowsShape{tokens, hidden});
  }
  if (config.type_vocab_size > 0) {
    ops.emplace_back("embed.token_types", OpKind::Embedding,
                     EmbeddingShape{tokens, hidden, config.type_vocab_size});
    ops.emplace_back("embed.add_token_types", OpKind::ResidualAdd, RowsShape{tokens, hidden});
  }
  // A post-norm stack (BERT) normalises its input here; a pre-norm layer does it itself.
  if (config.norm_placement == NormPlacement::Post) {
    ops.emplace_back("embed.norm", norm_kind(config), RowsShape{tokens, hidden});
  }
  return ops;
}

// The logits of `rows` tokens.
std::vector<Op> lm_head(const ModelConfig& config, uint64_t rows, uint64_t gpus) {
  std::vector<Op> ops;
  if (!config.causal || rows == 0) return ops;
  if (config.norm_placement == NormPlacement::Pre) {
    ops.emplace_back("final_norm", norm_kind(config), RowsShape{rows, config.hidden_size});
  }
  ops.emplace_back(
      "lm_head", OpKind::Linear,
      LinearShape{rows, config.vocab_size, config.hidden_size, false,
                  config.tied_embeddings ? WeightRole::Borrowed : WeightRole::Own, 1, 0, TensorSplit::Column});
  // Element-wise, so each GPU caps its own share of the vocabulary.
  if (config.logit_softcap > 0) {
    ops.emplace_back("lm_head.softcap", OpKind::Softcap, SoftcapShape{rows, config.vocab_size, config.logit_softcap});
  }
  if (gpus > 1) {
    ops.emplace_back("lm_head.all_gather", OpKind::AllGather, CollectiveShape{rows, config.vocab_size, gpus});
  }
  return ops;
}

// "", or e.g. ", 4-way tensor parallel (one GPU's shard)".
std::string parallel_text(uint64_t gpus) {
  return gpus > 1 ? ", " + std::to_string(gpus) + "-way tensor parallel (one GPU's shard)" : "";
}

// A step of the groups' sequences on one device's slice: `sampled` tokens get logits.
OpGraph build_step(const ModelConfig& config, const std::vector<Phase>& groups, uint64_t sampled,
                   const std::string& what, AttentionImpl impl, const ModelSlice& slice) {
  const uint64_t total = config.num_hidden_layers;
  const uint64_t layers = slice.layers == 0 && slice.first_layer < total ? total - slice.first_layer : slice.layers;
  if (layers == 0 || slice.first_layer + layers > total) {
    throw InputError(config.name + ": layers " + std::to_string(slice.first_layer) + " to " +
                     std::to_string(slice.first_layer + layers) + " are not among its " + std::to_string(total));
  }
  const bool first = slice.first_layer == 0;
  const bool last = slice.first_layer + layers == total;
  const uint64_t tp = slice.tensor_parallel;
  const ModelConfig shard = tensor_parallel_shard(config, tp);
  OpGraph graph;
  graph.name = config.name + ", " + what + ", " + impl_text(impl) + parallel_text(tp);
  if (!first || !last) {
    graph.name +=
        ", layers " + std::to_string(slice.first_layer) + "-" + std::to_string(slice.first_layer + layers - 1);
  }
  if (config.mixture_of_experts() && config.experts % slice.expert_parallel != 0) {
    throw InputError(config.name + ": " + std::to_string(slice.expert_parallel) + "-way expert parallelism: it does "
                     "not divide the " + std::to_string(config.experts) + " experts");
  }
  if (slice.expert_skew < 1.0) throw InputError(config.name + ": the expert skew must be at least 1 (uniform)");
  const uint64_t tokens = batch_tokens(groups);
  if (first) graph.prologue = embeddings(shard, tokens, tp);
  uint64_t longest = 0;
  for (const Phase& group : groups) longest = std::max(longest, group.kv_len);
  std::vector<LayerKind> kinds;
  for (uint64_t layer = slice.first_layer; layer < slice.first_layer + layers; ++layer) {
    kinds.push_back({config.expert_layer(layer), config.sliding(layer) && longest > config.sliding_window,
                     config.quant.keeps_layer(layer, total)});
  }
  LayerBuilder builder(shard, groups, slice);
  const QuantRecipe kept_layer_recipe = config.quant.for_kept_layer();
  graph.layers = layer_blocks(kinds, [&](LayerKind kind) {
    std::vector<Op> ops = builder.build(impl, kind);
    apply_quant(ops, kind.kept_wide ? kept_layer_recipe : config.quant, shard.head_dim);
    return ops;
  });
  if (last) {
    graph.epilogue = lm_head(shard, sampled, tp);
  } else {
    graph.epilogue.emplace_back("pipeline.send", OpKind::Send,
                                SendShape{tokens, config.hidden_size, slice.stage, slice.stage + 1});
  }
  apply_quant(graph.prologue, config.quant, shard.head_dim);
  apply_quant(graph.epilogue, config.quant, shard.head_dim);
  return graph;
}

}  // namespace

Phase Phase::prefill(uint64_t batch, uint64_t seq) { return {Prefill, batch, seq, seq}; }

Phase Phase::decode(uint64_t batch, uint64_t cached) { return {Decode, batch, 1, cached + 1}; }

std::string phase_text(const Phase& phase) {
  if (phase.kind == Phase::Decode && phase.q_len == 1) {
    return "decode batch " + std::to_string(phase.batch) + ", " +
           std::to_string(phase.cached_len()) + " cached";
  }
  if (phase.kind == Phase::Prefill && phase.cached_len() == 0) {
    return "prefill batch " + std::to_string(phase.batch) + ", " + std::to_string(phase.q_len) +
           " tokens";
  }
  return std::string(phase.kind == Phase::Decode ? "decode" : "prefill") + " batch " +
         std::to_string(phase.batch) + ", " + std::to_string(phase.q_len) + " new tokens, " +
         std::to_string(phase.kv_len) + " positions";
}

uint64_t step_flops_bound(const ModelConfig& config, const Phase& phase) {
  const auto mul = [](uint64_t a, uint64_t b) { return saturating_mul(a, b); };
  const auto add = [](uint64_t a, uint64_t b) { return saturating_add(a, b); };
  const uint64_t tokens = mul(phase.batch, phase.q_len);
  const uint64_t layers = config.num_hidden_layers;
  const uint64_t heads_width = mul(config.num_attention_heads, config.head_dim);
  // Weights a layer's linears hold per hidden unit: Q, K, V and the output projection, the
  // MLP (gated: three matrices) and the experts a token takes beside the shared ones.
  const uint64_t qkv = mul(add(config.num_attention_heads, mul(2, config.num_key_value_heads)), config.head_dim);
  const uint64_t experts = add(config.experts_per_token, config.shared_experts);
  const uint64_t mlp = mul(3, add(config.intermediate_size, mul(experts, config.expert_intermediate_size)));
  const uint64_t width = add(mul(add(add(qkv, heads_width), mlp), layers), config.vocab_size);
  const uint64_t linears = mul(mul(2, tokens), mul(config.hidden_size, width));
  const uint64_t attention = mul(mul(4, mul(tokens, phase.kv_len)), mul(heads_width, layers));
  return add(linears, attention);
}

void check_steps_size(const ModelConfig& config, const std::vector<Phase>& phases) {
  uint64_t flops = 0;
  for (const Phase& phase : phases) {
    check_step_size(config, phase);
    flops = saturating_add(flops, step_flops_bound(config, phase));
  }
  if (flops > kMaxFlops) {
    throw InputError(config.name + ": the request's " + std::to_string(phases.size()) + " steps together are " +
                     too_many_flops(flops) + "; give fewer sequences, tokens or steps");
  }
}

ModelConfig tensor_parallel_shard(const ModelConfig& config, uint64_t gpus) {
  validate(config);
  if (gpus == 0) throw InputError(config.name + ": tensor parallelism needs at least 1 GPU");
  if (gpus == 1) return config;
  const auto refuse = [&](const std::string& field, uint64_t size) {
    throw InputError(config.name + ": " + std::to_string(gpus) + "-way tensor parallelism: " +
                     std::to_string(gpus) + " does not divide " + field + " (" + std::to_string(size) + ")");
  };
  if (config.num_attention_heads % gpus != 0) refuse("num_attention_heads", config.num_attention_heads);
  if (config.intermediate_size % gpus != 0) refuse("intermediate_size", config.intermediate_size);
  if (config.expert_intermediate_size % gpus != 0) refuse("expert_intermediate_size", config.expert_intermediate_size);
  const uint64_t kv_heads = config.num_key_value_heads;
  if (kv_heads % gpus != 0 && gpus % kv_heads != 0) refuse("num_key_value_heads", kv_heads);
  ModelConfig shard = config;
  shard.num_attention_heads = config.num_attention_heads / gpus;
  shard.num_key_value_heads = kv_heads % gpus == 0 ? kv_heads / gpus : 1;
  shard.intermediate_size = config.intermediate_size / gpus;
  shard.expert_intermediate_size = config.expert_intermediate_size / gpus;
  shard.vocab_size = (config.vocab_size + gpus - 1) / gpus;
  return shard;
}

uint64_t kv_cache_bytes(const ModelConfig& shard, uint64_t batch, uint64_t positions, uint64_t first_layer,
                        uint64_t layers, arch::DType compute) {
  const uint64_t elements = kv_cache_elements(shard, batch, positions, first_layer, layers);
  const std::optional<StoredFormat>& kv = shard.quant.kv_cache;
  // Scales run along each token's head vector, as apply_quant gives the graph's cache ops.
  return kv ? kv->bytes(elements, shard.head_dim) : elements * arch::bytes_of(compute);
}

uint64_t kv_cache_elements(const ModelConfig& shard, uint64_t batch, uint64_t positions, uint64_t first_layer,
                           uint64_t layers) {
  uint64_t kept = 0;  // positions summed over the layers
  for (uint64_t layer = first_layer; layer < first_layer + layers; ++layer) {
    kept += shard.sliding(layer) ? std::min(positions, shard.sliding_window) : positions;
  }
  return batch * kept * shard.num_key_value_heads * shard.head_dim * 2;
}

OpGraph build_layer(const ModelConfig& config, const Phase& phase, AttentionImpl impl, uint64_t tensor_parallel) {
  check(config, phase);
  const ModelConfig shard = tensor_parallel_shard(config, tensor_parallel);
  OpGraph graph;
  graph.name = config.name + " layer, " + phase_text(phase) + ", " + impl_text(impl) + parallel_text(tensor_parallel);
  const ModelSlice slice{tensor_parallel, 0, 0, 0, 1, 1.0};
  const std::vector<Phase> groups{phase};
  graph.layers.push_back({LayerBuilder(shard, groups, slice).build(impl, LayerKind{}), 1, {}});
  return graph;
}

OpGraph build_model(const ModelConfig& config, const Phase& phase, AttentionImpl impl, uint64_t tensor_parallel) {
  return build_model(config, phase, impl, ModelSlice{tensor_parallel, 0, 0, 0, 1, 1.0});
}

OpGraph build_model(const ModelConfig& config, const Phase& phase, AttentionImpl impl, const ModelSlice& slice) {
  check(config, phase);
  const uint64_t sampled = phase.kind == Phase::Decode ? phase.batch * phase.q_len : phase.batch;
  return build_step(config, {phase}, sampled, phase_text(phase), impl, slice);
}

OpGraph build_batch_step(const ModelConfig& config, const BatchStep& step, AttentionImpl impl,
                         const ModelSlice& slice) {
  if (step.groups.empty()) throw InputError(config.name + ": a batch step needs at least one group of sequences");
  uint64_t flops = 0;
  for (const Phase& group : step.groups) {
    check(config, group);
    flops = saturating_add(flops, step_flops_bound(config, group));
  }
  if (flops > kMaxFlops) {
    throw InputError(config.name + ": " + batch_step_text(step) + ": " + too_many_flops(flops) +
                     "; give fewer sequences or tokens");
  }
  if (step.sampled > batch_tokens(step.groups)) {
    throw InputError(config.name + ": a batch step samples at most one token per new token");
  }
  return build_step(config, step.groups, step.sampled, batch_step_text(step), impl, slice);
}

std::string batch_step_text(const BatchStep& step) {
  uint64_t sequences = 0;
  for (const Phase& group : step.groups) sequences += group.batch;
  return "batch step of " + std::to_string(sequences) + " sequences, " + std::to_string(batch_tokens(step.groups)) +
         " new tokens";
}

uint64_t batch_tokens(const std::vector<Phase>& groups) {
  uint64_t tokens = 0;
  for (const Phase& group : groups) tokens += group.batch * group.q_len;
  return tokens;
}

}  // namespace tessel::workloads
