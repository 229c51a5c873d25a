// Training graphs: the identities that follow from backpropagation (a linear's backward pass is
// twice its forward, full recomputation adds one forward), the activations kept per layer
// against Korthikanti et al.'s formula term by term, tensor and sequence parallelism's
// collectives, pipeline sends, and LoRA's frozen weights.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "workloads/input_error.h"
#include "workloads/model_config.h"
#include "workloads/training.h"

namespace tessel::workloads {
namespace {

constexpr arch::DType kBf16 = arch::DType::Bf16;

// MACs of the ops a predicate picks, each block's counted for its layers.
template <typename Pick>
uint64_t macs_of(const OpGraph& graph, Pick pick) {
  uint64_t macs = 0;
  graph.for_each_op([&](const Op& op, uint64_t repeats) {
    if (pick(op)) macs += op.macs() * repeats;
  });
  return macs;
}

bool is_linear(const Op& op) { return op.kind == OpKind::Linear; }
bool recomputed(const Op& op) { return op.name.find(".recompute") != std::string::npos; }

uint64_t count_kind(const std::vector<Op>& ops, OpKind kind) {
  uint64_t n = 0;
  for (const Op& op : ops) n += op.kind == kind ? 1 : 0;
  return n;
}

TrainingGraphs step(const std::string& model, TrainingOptions options, uint64_t tp = 1) {
  ModelSlice slice;
  slice.tensor_parallel = tp;
  return build_training_step(model_preset(model), options, slice, {});
}

TrainingOptions options(uint64_t micro_batch, uint64_t seq, AttentionImpl attention = AttentionImpl::Fused,
                        Recompute recompute = Recompute::None, bool sequence_parallel = false) {
  TrainingOptions o;
  o.micro_batch = micro_batch;
  o.seq = seq;
  o.attention = attention;
  o.recompute = recompute;
  o.sequence_parallel = sequence_parallel;
  return o;
}

// dX = dY·Wᵀ and dW = Xᵀ·dY each take a forward product's MACs; FlashAttention-2's backward
// runs five products to the forward's two. Exact, for every model family.
TEST(TrainingGraph, BackwardProductsAreTwiceTheForward) {
  for (const char* model : {"llama2-7b", "gpt2", "mixtral-8x7b", "opt-1.3b"}) {
    const TrainingGraphs g = step(model, options(2, 256));
    EXPECT_EQ(macs_of(g.backward, is_linear), 2 * macs_of(g.forward, is_linear)) << model;
    const auto attention = [](OpKind kind) { return [kind](const Op& op) { return op.kind == kind; }; };
    EXPECT_EQ(2 * macs_of(g.backward, attention(OpKind::AttentionBackward)),
              5 * macs_of(g.forward, attention(OpKind::Attention)))
        << model;
  }
}

// Full recomputation runs each layer's forward pass once more before its backward pass: its
// backward graph is the plain one plus exactly the layers' forward MACs.
TEST(TrainingGraph, FullRecomputationAddsOneForward) {
  for (const AttentionImpl attention : {AttentionImpl::Fused, AttentionImpl::Unfused}) {
    const TrainingGraphs plain = step("llama2-7b", options(1, 512, attention));
    const TrainingGraphs full = step("llama2-7b", options(1, 512, attention, Recompute::Full));
    const auto all = [](const Op&) { return true; };
    uint64_t layer_macs = 0;
    for (const LayerBlock& block : plain.forward.layers) {
      for (const Op& op : block.ops) layer_macs += op.macs() * block.repeats;
    }
    EXPECT_EQ(macs_of(full.backward, all), macs_of(plain.backward, all) + layer_macs);
    EXPECT_EQ(macs_of(full.backward, recomputed), layer_macs);
    EXPECT_EQ(full.recomputed_macs, layer_macs);
    EXPECT_EQ(macs_of(full.forward, all), macs_of(plain.forward, all));
  }
}

// Bytes one layer keeps, less the norms' fp32 statistics (which the formula leaves out).
uint64_t kept_bytes(const TrainingGraphs& g) {
  uint64_t bytes = 0;
  for (const SavedTensor& t : g.layer_saved.at(0)) {
    if (t.name.find(".stats") == std::string::npos) bytes += t.bytes(kBf16);
  }
  return bytes;
}

// Korthikanti et al. (2022), section 4: a GPT layer keeps sbh(34 + 5as/h) bytes in 16-bit
// formats (dropout included: a byte of mask after attention and after the MLP, and after the
// softmax a mask and the dropped probabilities beside the probabilities), sbh(10 + 24/t +
// 5as/(ht)) under t-way tensor parallelism, sbh/t·(34 + 5as/h) with sequence parallelism,
// 34sbh/t with selective recomputation too, 2sbh/t with full. The gpt2 preset trains with
// dropout 0.1, as GPT-2's config does. Exact.
TEST(TrainingGraph, ActivationsKeptMatchKorthikantiTermByTerm) {
  const ModelConfig gpt2 = model_preset("gpt2");
  const uint64_t s = 256, b = 2, h = gpt2.hidden_size, a = gpt2.num_attention_heads, t = 4;
  const uint64_t sbh = s * b * h, as2b = a * s * s * b;
  const AttentionImpl unfused = AttentionImpl::Unfused;
  EXPECT_EQ(kept_bytes(step("gpt2", options(b, s, unfused))), 34 * sbh + 5 * as2b);
  EXPECT_EQ(kept_bytes(step("gpt2", options(b, s, unfused), t)), 10 * sbh + 24 * sbh / t + 5 * as2b / t);
  EXPECT_EQ(kept_bytes(step("gpt2", options(b, s, unfused, Recompute::None, true), t)), 34 * sbh / t + 5 * as2b / t);
  EXPECT_EQ(kept_bytes(step("gpt2", options(b, s, unfused, Recompute::Selective, true), t)), 34 * sbh / t);
  EXPECT_EQ(kept_bytes(step("gpt2", options(b, s, unfused, Recompute::Full, true), t)), 2 * sbh / t);
  // FlashAttention keeps its output (which the projection needs anyway) and a float of
  // log-sum-exp per query row per head instead of the probabilities, and draws its dropout
  // mask again in its backward pass.
  EXPECT_EQ(kept_bytes(step("gpt2", options(b, s))), 34 * sbh + s * b * a * 4);
  // Without dropout (Llama's shape, as its config says), the masks' terms go.
  const TrainingGraphs llama = step("llama2-7b", options(b, s, unfused));
  for (const SavedTensor& saved : llama.layer_saved.at(0)) EXPECT_EQ(saved.name.find(".mask"), std::string::npos);
}

// Without sequence parallelism a layer all-reduces twice forward (after the row-parallel
// projections) and twice backward (the column-parallel inputs' gradients, overlapped); with
// it each all-reduce becomes a reduce-scatter and an all-gather, the inputs gathered again
// for the weight gradients. The bytes each device sends are the same either way.
TEST(TrainingGraph, SequenceParallelismTradesAllReducesForGathersAndScatters) {
  const TrainingGraphs plain = step("llama2-7b", options(1, 1024), 8);
  const TrainingGraphs sp = step("llama2-7b", options(1, 1024, AttentionImpl::Fused, Recompute::None, true), 8);
  const std::vector<Op>& f = plain.forward.layers.at(0).ops;
  const std::vector<Op>& b = plain.backward.layers.at(0).ops;
  EXPECT_EQ(count_kind(f, OpKind::AllReduce), 2u);
  EXPECT_EQ(count_kind(b, OpKind::AllReduce), 2u);
  const std::vector<Op>& fs = sp.forward.layers.at(0).ops;
  const std::vector<Op>& bs = sp.backward.layers.at(0).ops;
  EXPECT_EQ(count_kind(fs, OpKind::AllReduce), 0u);
  EXPECT_EQ(count_kind(fs, OpKind::ReduceScatter), 2u);
  EXPECT_EQ(count_kind(fs, OpKind::AllGather), 2u);
  EXPECT_EQ(count_kind(bs, OpKind::ReduceScatter), 2u);
  EXPECT_EQ(count_kind(bs, OpKind::AllGather), 4u);
  // The norms see an eighth of the tokens.
  for (const Op& op : fs) {
    if (op.kind == OpKind::RmsNorm) {
      EXPECT_EQ(op.shape_as<RowsShape>().rows, 1024u / 8) << op.name;
    }
  }
  for (const Op& op : bs) {
    if (op.kind == OpKind::AllReduce || op.kind == OpKind::ReduceScatter) {
      EXPECT_TRUE(op.shape_as<CollectiveShape>().overlapped) << op.name;
    }
  }
}

// A stage between others receives its input and sends its output on; the backward pass sends
// the input's gradient back. The first stage holds the embeddings, the last the head and loss.
TEST(TrainingGraph, PipelineStagesSendBothWays) {
  const ModelConfig llama = model_preset("llama2-7b");
  ModelSlice middle;
  middle.first_layer = 8;
  middle.layers = 8;
  middle.stage = 1;
  const TrainingGraphs g = build_training_step(llama, options(2, 128), middle, {2, 0});
  ASSERT_EQ(g.forward.epilogue.size(), 1u);
  const auto& to_next = g.forward.epilogue.back().shape_as<SendShape>();
  EXPECT_EQ(to_next.stage, 1u);
  EXPECT_EQ(to_next.to, 2u);
  EXPECT_EQ(to_next.rows * to_next.cols, 2u * 128 * llama.hidden_size);
  const auto& to_previous = g.backward.epilogue.back().shape_as<SendShape>();
  EXPECT_EQ(to_previous.to, 0u);
  EXPECT_TRUE(g.forward.prologue.empty());
  EXPECT_EQ(g.forward.layer_count(), 8u);

  const TrainingGraphs whole = step("llama2-7b", options(2, 128));
  EXPECT_EQ(whole.forward.prologue.front().kind, OpKind::Embedding);
  EXPECT_EQ(whole.forward.epilogue.back().kind, OpKind::CrossEntropy);
  EXPECT_EQ(whole.backward.prologue.front().kind, OpKind::CrossEntropyBackward);
  EXPECT_EQ(whole.backward.epilogue.back().kind, OpKind::EmbeddingBackward);
  // The loss covers every token's logits, not only the last one's.
  EXPECT_EQ(whole.forward.epilogue.back().shape_as<RowsShape>().rows, 2u * 128);
}

// LoRA trains only its adapters, r·(k + n) for each linear of the layers; the frozen weights
// get no weight-gradient products, but their input gradients still flow.
TEST(TrainingGraph, LoraTrainsOnlyTheAdapters) {
  TrainingOptions lora = options(1, 256);
  lora.lora_rank = 16;
  const TrainingGraphs g = step("llama2-7b", lora);
  const TrainingGraphs full = step("llama2-7b", options(1, 256));
  const ModelConfig m = model_preset("llama2-7b");
  const uint64_t h = m.hidden_size, f = m.intermediate_size;
  const uint64_t per_layer = 16 * ((h + 3 * h) + (h + h) + (h + 2 * f) + (f + h));
  EXPECT_EQ(g.trainable(), per_layer * m.num_hidden_layers);
  EXPECT_EQ(g.parameters(), full.parameters() + g.trainable());
  uint64_t base_weight_grads = 0;
  for (const Op& op : g.backward.layers.at(0).ops) {
    const bool adapter = op.name.find("lora") != std::string::npos;
    if (!adapter && op.kind == OpKind::Linear && op.shape_as<LinearShape>().weight == WeightRole::Gradient) {
      ++base_weight_grads;
    }
  }
  EXPECT_EQ(base_weight_grads, 0u);
}

// Transformer Engine's fp8: each of a layer's linears casts its input before its product and
// dY before its two backward products, all three products in fp8; the head stays in the
// compute format. The inputs kept for dW are fp8, a byte each where bf16 kept two.
TEST(TrainingGraph, Fp8CastsEachLinearsOperandsAndKeepsItsInputInFp8) {
  TrainingOptions fp8 = options(2, 256);
  fp8.fp8 = true;
  const TrainingGraphs g = step("llama2-7b", fp8);
  const TrainingGraphs plain = step("llama2-7b", options(2, 256));
  const std::vector<Op>& forward = g.forward.layers.at(0).ops;
  const std::vector<Op>& backward = g.backward.layers.at(0).ops;
  const uint64_t linears = count_kind(forward, OpKind::Linear);
  ASSERT_EQ(linears, 4u) << "qkv, o, gate-up and down projections";
  EXPECT_EQ(count_kind(forward, OpKind::Quantize), linears);
  EXPECT_EQ(count_kind(backward, OpKind::Quantize), linears);
  for (const std::vector<Op>* ops : {&forward, &backward}) {
    for (const Op& op : *ops) {
      if (op.kind == OpKind::Linear) {
        EXPECT_EQ(op.format, arch::DType::Fp8) << op.name;
      }
    }
  }
  for (const Op& op : g.forward.epilogue) {
    if (op.kind == OpKind::Linear) {
      EXPECT_EQ(op.format, std::nullopt) << op.name;
    }
  }
  // The products' MACs do not change, only their format.
  EXPECT_EQ(macs_of(g.backward, is_linear), macs_of(plain.backward, is_linear));
  // Each linear's input kept in fp8 rather than bf16 saves a byte an element: qkv's and gate-up's
  // (the norms' outputs, h wide) and down's (SiLU's output, f wide). o's input is the attention's
  // output, which the attention keeps in bf16 anyway: its fp8 copy costs a byte more.
  const ModelConfig m = model_preset("llama2-7b");
  const uint64_t tokens = 2 * 256, h = m.hidden_size, f = m.intermediate_size;
  uint64_t fp8_layer = 0, bf16_layer = 0;
  for (const SavedTensor& t : g.layer_saved.at(0)) fp8_layer += t.bytes(kBf16);
  for (const SavedTensor& t : plain.layer_saved.at(0)) bf16_layer += t.bytes(kBf16);
  EXPECT_EQ(bf16_layer - fp8_layer, tokens * (h + h + f - h));
  // The fp8 copies: the layers' linear weights, not the embeddings', norms' or head's.
  EXPECT_EQ(g.fp8_parameters(), m.num_hidden_layers * (h * 3 * h + h * h + h * 2 * f + f * h));
  EXPECT_EQ(plain.fp8_parameters(), 0u);
}

// Distillation: the teacher's whole forward pass, frozen (no backward op, no kept tensor but its
// probabilities), with every parameter it has; split over stages, its layers go in proportion
// and its hidden states travel with the student's.
TEST(TrainingGraph, DistillationRunsTheTeachersForwardBesideTheStudent) {
  TrainingOptions kd = options(1, 512);
  kd.teacher = model_preset("llama2-13b");
  const TrainingGraphs g = step("llama2-7b", kd);
  const TrainingGraphs plain = step("llama2-7b", options(1, 512));
  const TrainingGraphs teacher_alone = step("llama2-13b", options(1, 512));
  EXPECT_EQ(g.teacher_parameters, teacher_alone.parameters());
  EXPECT_EQ(g.teacher.layer_count(), 40u);
  EXPECT_EQ(macs_of(g.teacher, is_linear), macs_of(teacher_alone.forward, is_linear));
  EXPECT_EQ(macs_of(g.backward, is_linear), macs_of(plain.backward, is_linear)) << "no gradient of the teacher";
  EXPECT_EQ(g.parameters(), plain.parameters());
  // The teacher's probabilities kept for the loss's backward pass, the only tensor it adds.
  EXPECT_EQ(g.saved_bytes(kBf16) - plain.saved_bytes(kBf16), 512u * 32000 * 2);
  g.teacher.for_each_op([](const Op& op, uint64_t) {
    EXPECT_NE(op.kind, OpKind::KvCacheAppend) << "training keeps no cache";
  });

  // Two stages of 16 student layers each: the teacher's 40 split 20 and 20.
  const ModelConfig student = model_preset("llama2-7b");
  ModelSlice first;
  first.layers = 16;
  ModelSlice second = first;
  second.first_layer = 16;
  second.stage = 1;
  const TrainingGraphs front = build_training_step(student, kd, first, {1, std::nullopt});
  const TrainingGraphs back = build_training_step(student, kd, second, {std::nullopt, 0});
  EXPECT_EQ(front.teacher.layer_count(), 20u);
  EXPECT_EQ(back.teacher.layer_count(), 20u);
  EXPECT_EQ(front.teacher_parameters + back.teacher_parameters, teacher_alone.parameters());
  const Op& send = front.forward.epilogue.back();
  ASSERT_EQ(send.kind, OpKind::Send);
  EXPECT_EQ(send.shape_as<SendShape>().cols, 4096u + 5120u);

  TrainingOptions other_vocabulary = kd;
  other_vocabulary.teacher = model_preset("llama3-70b");  // 128,256 tokens to the student's 32,000
  EXPECT_THROW(step("llama2-7b", other_vocabulary), InputError);
}

TEST(TrainingGraph, RefusesWhatItCannotModel) {
  EXPECT_THROW(step("bert-base", options(1, 128)), InputError);
  EXPECT_THROW(step("llama2-7b", options(0, 128)), InputError);
  // Sequence parallelism splits 1 × 100 tokens over 8 devices: they do not divide them.
  EXPECT_THROW(step("llama2-7b", options(1, 100, AttentionImpl::Fused, Recompute::None, true), 8), InputError);
  EXPECT_EQ(parse_recompute("selective"), Recompute::Selective);
  EXPECT_EQ(parse_recompute("some"), std::nullopt);
}

}  // namespace
}  // namespace tessel::workloads
