// Transformer graphs: layer order per family, prefill and decode shapes, GQA, the KV cache's
// traffic, what fusing attention saves, the LM head's rows and whole-model totals.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "workloads/input_error.h"
#include "workloads/model_config.h"
#include "workloads/op.h"
#include "workloads/transformer.h"

namespace tessel::workloads {
namespace {

std::vector<std::string> names(const std::vector<Op>& ops) {
  std::vector<std::string> result;
  for (const Op& op : ops) result.push_back(op.name);
  return result;
}

const Op& find_op(const std::vector<Op>& ops, const std::string& name) {
  for (const Op& op : ops) {
    if (op.name == name) return op;
  }
  throw std::runtime_error("no op " + name);
}

bool has_op(const std::vector<Op>& ops, const std::string& name) {
  for (const Op& op : ops) {
    if (op.name == name) return true;
  }
  return false;
}

std::vector<Op> layer_of(const std::string& preset, const Phase& phase, AttentionImpl impl) {
  return build_layer(model_preset(preset), phase, impl).layers.at(0).ops;
}

TEST(Transformer, PhasesFollowTheLengthConvention) {
  const Phase prefill = Phase::prefill(4, 512);
  EXPECT_EQ(prefill.kind, Phase::Prefill);
  EXPECT_EQ(prefill.q_len, 512u);
  EXPECT_EQ(prefill.kv_len, 512u);
  EXPECT_EQ(prefill.cached_len(), 0u);
  // One new token attends to the 100 cached ones and to itself.
  const Phase decode = Phase::decode(4, 100);
  EXPECT_EQ(decode.kind, Phase::Decode);
  EXPECT_EQ(decode.q_len, 1u);
  EXPECT_EQ(decode.kv_len, 101u);
  EXPECT_EQ(decode.cached_len(), 100u);
  EXPECT_EQ(phase_text(decode), "decode batch 4, 100 cached");
  EXPECT_EQ(phase_text(prefill), "prefill batch 4, 512 tokens");
}

TEST(Transformer, LlamaLayerIsPreNormWithRopeAndSwiGlu) {
  const std::vector<std::string> unfused = {
      "attn.norm",        "attn.qkv_proj", "attn.rope",     "attn.kv_cache_append", "attn.scores",
      "attn.softmax",     "attn.context",  "attn.o_proj",   "attn.residual",        "mlp.norm",
      "mlp.gate_up_proj", "mlp.silu_mul",  "mlp.down_proj", "mlp.residual"};
  EXPECT_EQ(names(layer_of("llama2-7b", Phase::prefill(1, 16), AttentionImpl::Unfused)), unfused);
  // Decode also reads the cache; fused attention is one op.
  const std::vector<std::string> fused_decode = {
      "attn.norm",          "attn.qkv_proj",    "attn.rope",    "attn.kv_cache_append",
      "attn.kv_cache_read", "attn.attention",   "attn.o_proj",  "attn.residual",
      "mlp.norm",           "mlp.gate_up_proj", "mlp.silu_mul", "mlp.down_proj",
      "mlp.residual"};
  EXPECT_EQ(names(layer_of("llama2-7b", Phase::decode(1, 16), AttentionImpl::Fused)), fused_decode);
  const std::vector<Op> layer = layer_of("llama2-7b", Phase::prefill(1, 16), AttentionImpl::Fused);
  EXPECT_EQ(find_op(layer, "attn.norm").kind, OpKind::RmsNorm);
  EXPECT_EQ(find_op(layer, "mlp.silu_mul").kind, OpKind::SiluMul);
}

TEST(Transformer, Gpt2LayerHasNoRopeAndAGeluMlp) {
  const std::vector<Op> layer = layer_of("gpt2", Phase::prefill(1, 16), AttentionImpl::Unfused);
  const std::vector<std::string> expected = {
      "attn.norm",    "attn.qkv_proj", "attn.kv_cache_append", "attn.scores", "attn.softmax",
      "attn.context", "attn.o_proj",   "attn.residual",        "mlp.norm",    "mlp.up_proj",
      "mlp.gelu",     "mlp.down_proj", "mlp.residual"};
  EXPECT_EQ(names(layer), expected);
  EXPECT_EQ(find_op(layer, "attn.norm").kind, OpKind::LayerNorm);
  EXPECT_TRUE(find_op(layer, "mlp.up_proj").shape_as<LinearShape>().bias);
  EXPECT_TRUE(find_op(layer, "attn.softmax").shape_as<SoftmaxShape>().causal);
}

TEST(Transformer, BertLayerIsPostNormWithoutCacheOrMask) {
  const std::vector<Op> layer =
      layer_of("bert-base", Phase::prefill(1, 128), AttentionImpl::Unfused);
  const std::vector<std::string> expected = {"attn.qkv_proj", "attn.scores",  "attn.softmax",
                                             "attn.context",  "attn.o_proj",  "attn.residual",
                                             "attn.norm",     "mlp.up_proj",  "mlp.gelu",
                                             "mlp.down_proj", "mlp.residual", "mlp.norm"};
  EXPECT_EQ(names(layer), expected);
  EXPECT_FALSE(find_op(layer, "attn.softmax").shape_as<SoftmaxShape>().causal);
  // An encoder has no decode step.
  EXPECT_THROW(build_layer(model_preset("bert-base"), Phase::decode(1, 8), AttentionImpl::Fused),
               InputError);
}

TEST(Transformer, PrefillAndDecodeShapes) {
  const ModelConfig config = model_preset("llama2-7b");
  const std::vector<Op> prefill =
      layer_of("llama2-7b", Phase::prefill(2, 128), AttentionImpl::Unfused);
  const LinearShape qkv = find_op(prefill, "attn.qkv_proj").shape_as<LinearShape>();
  EXPECT_EQ(qkv.m, 2u * 128);  // batch × q_len rows
  EXPECT_EQ(qkv.n, 3u * 4096);
  EXPECT_EQ(qkv.k, 4096u);
  const auto scores = find_op(prefill, "attn.scores").shape_as<BatchedMatmulShape>();
  EXPECT_EQ(scores.batch, 2u * 32);
  EXPECT_EQ(scores.m, 128u);
  EXPECT_EQ(scores.n, 128u);
  EXPECT_EQ(scores.k, 128u);
  EXPECT_EQ(scores.b_from_cache, 0u);
  EXPECT_FALSE(has_op(prefill, "attn.kv_cache_read"));  // prefill reads no cache
  EXPECT_EQ(find_op(prefill, "attn.kv_cache_append").shape_as<KvCacheShape>().tokens, 128u);
  EXPECT_EQ(find_op(prefill, "mlp.down_proj").shape_as<LinearShape>().k, config.intermediate_size);

  const std::vector<Op> decode =
      layer_of("llama2-7b", Phase::decode(2, 127), AttentionImpl::Unfused);
  EXPECT_EQ(find_op(decode, "attn.qkv_proj").shape_as<LinearShape>().m, 2u);
  const auto decode_scores = find_op(decode, "attn.scores").shape_as<BatchedMatmulShape>();
  EXPECT_EQ(decode_scores.m, 1u);
  EXPECT_EQ(decode_scores.n, 128u);                   // 127 cached + the new token
  EXPECT_EQ(decode_scores.b_from_cache, 127u * 128);  // of each K: the cached columns
  const auto context = find_op(decode, "attn.context").shape_as<BatchedMatmulShape>();
  EXPECT_EQ(context.k, 128u);
  EXPECT_EQ(context.n, 128u);
  // A single query needs no mask.
  EXPECT_FALSE(find_op(decode, "attn.softmax").shape_as<SoftmaxShape>().causal);
  EXPECT_EQ(find_op(decode, "attn.kv_cache_append").shape_as<KvCacheShape>().tokens, 1u);
  EXPECT_EQ(find_op(decode, "attn.kv_cache_read").shape_as<KvCacheShape>().tokens, 127u);
}

TEST(Transformer, GroupedQueryAttentionShrinksKeyValueProjections) {
  const ModelConfig config = model_preset("llama2-70b");
  const std::vector<Op> layer =
      layer_of("llama2-70b", Phase::decode(1, 64), AttentionImpl::Unfused);
  const uint64_t q_width = config.num_attention_heads * config.head_dim;
  const uint64_t kv_width = config.num_key_value_heads * config.head_dim;
  EXPECT_EQ(q_width, 8192u);
  EXPECT_EQ(kv_width * 8, q_width);  // K and V projections are 1/8 of Q's
  EXPECT_EQ(find_op(layer, "attn.qkv_proj").shape_as<LinearShape>().n, q_width + 2 * kv_width);
  EXPECT_EQ(find_op(layer, "attn.scores").shape_as<BatchedMatmulShape>().b_shared_by, 8u);
  EXPECT_EQ(find_op(layer, "attn.context").shape_as<BatchedMatmulShape>().b_shared_by, 8u);
  EXPECT_EQ(find_op(layer, "attn.kv_cache_read").shape_as<KvCacheShape>().kv_heads, 8u);
  // RoPE rotates the 64 query heads and the 8 key heads.
  EXPECT_EQ(find_op(layer, "attn.rope").shape_as<RopeShape>().heads, 64u + 8);
}

TEST(Transformer, DecodeReadsTheWholeCacheOncePerLayer) {
  const ModelConfig config = model_preset("llama2-70b");
  const uint64_t batch = 3;
  const uint64_t cached = 1000;
  for (const AttentionImpl impl : {AttentionImpl::Unfused, AttentionImpl::Fused}) {
    uint64_t cache_reads = 0;
    build_model(config, Phase::decode(batch, cached), impl)
        .for_each_op([&](const Op& op, uint64_t repeats) {
          if (op.kind == OpKind::KvCacheRead) cache_reads += op.elements().read * repeats;
        });
    EXPECT_EQ(cache_reads, 2 * config.num_hidden_layers * config.num_key_value_heads *
                               config.head_dim * cached * batch);
  }
}

// Attention reads each K/V element once: the cached ones through KvCacheRead, the new one
// itself, in either implementation.
TEST(Transformer, AttentionAndCacheReadTogetherReadEveryPositionOnce) {
  const ModelConfig config = model_preset("mistral-7b");
  const Phase phase = Phase::decode(2, 50);
  const uint64_t q_elements = 2 * 32 * 128;           // batch × heads × head_dim
  const uint64_t kv_elements = 2 * 8 * 128 * 51 * 2;  // every position's K and V
  const std::vector<Op> fused = build_layer(config, phase, AttentionImpl::Fused).layers.at(0).ops;
  EXPECT_EQ(find_op(fused, "attn.attention").elements().read +
                find_op(fused, "attn.kv_cache_read").elements().read,
            q_elements + kv_elements);
  const std::vector<Op> unfused = build_layer(config, phase, AttentionImpl::Unfused).layers.at(0).ops;
  const uint64_t scores = 2 * 32 * 51;
  EXPECT_EQ(find_op(unfused, "attn.scores").elements().read +
                find_op(unfused, "attn.context").elements().read +
                find_op(unfused, "attn.kv_cache_read").elements().read,
            q_elements + scores + kv_elements);  // Q, the probabilities, K and V
}

// Unfused, the scores are written by Q·Kᵀ, read and written by softmax, read by A·V; fused,
// they never leave the chip. Everything else moves the same.
TEST(Transformer, FusingAttentionKeepsTheScoresOnChip) {
  const ModelConfig config = model_preset("llama3-8b");
  const Phase phase = Phase::prefill(2, 256);
  const ElementCounts unfused = build_layer(config, phase, AttentionImpl::Unfused).total_elements();
  const ElementCounts fused = build_layer(config, phase, AttentionImpl::Fused).total_elements();
  const uint64_t scores = 2 * 32 * 256 * 256;
  EXPECT_EQ(unfused.read - fused.read, 2 * scores);
  EXPECT_EQ(unfused.written - fused.written, 2 * scores);
}

TEST(Transformer, FusedCausalAttentionSkipsTheMaskedHalf) {
  const ModelConfig config = model_preset("llama2-7b");
  const Phase prefill = Phase::prefill(1, 64);
  const uint64_t unfused =
      find_op(build_layer(config, prefill, AttentionImpl::Unfused).layers.at(0).ops, "attn.scores").macs();
  const uint64_t fused =
      find_op(build_layer(config, prefill, AttentionImpl::Fused).layers.at(0).ops, "attn.attention").macs();
  EXPECT_EQ(unfused, 32u * 64 * 64 * 128);
  EXPECT_EQ(fused, 2 * 32u * (64 * 65 / 2) * 128);  // Q·Kᵀ and A·V over the lower triangle
  // In decode nothing is masked: the same MACs either way.
  const Phase decode = Phase::decode(1, 63);
  EXPECT_EQ(build_layer(config, decode, AttentionImpl::Unfused).total_macs(),
            build_layer(config, decode, AttentionImpl::Fused).total_macs());
}

TEST(Transformer, ModelHasEmbeddingsOneRepeatedLayerAndTheHead) {
  const ModelConfig config = model_preset("llama2-7b");
  const OpGraph graph = build_model(config, Phase::prefill(4, 128), AttentionImpl::Fused);
  EXPECT_EQ(names(graph.prologue), std::vector<std::string>{"embed.tokens"});
  EXPECT_EQ(graph.layers.at(0).repeats, 32u);
  EXPECT_EQ(names(graph.layers.at(0).ops),
            names(build_layer(config, Phase::prefill(4, 128), AttentionImpl::Fused).layers.at(0).ops));
  EXPECT_EQ(names(graph.epilogue), (std::vector<std::string>{"final_norm", "lm_head"}));
  EXPECT_EQ(graph.prologue[0].shape_as<EmbeddingShape>().tokens, 4u * 128);
  // Prefill computes logits for each sequence's last token only.
  const LinearShape head = graph.epilogue[1].shape_as<LinearShape>();
  EXPECT_EQ(head.m, 4u);
  EXPECT_EQ(head.n, 32000u);
  EXPECT_EQ(head.weight, WeightRole::Own);
  EXPECT_EQ(graph.epilogue[0].shape_as<RowsShape>().rows, 4u);
  // Decode computes them for every new token.
  const OpGraph decode = build_model(config, Phase::decode(4, 128), AttentionImpl::Fused);
  EXPECT_EQ(decode.epilogue[1].shape_as<LinearShape>().m, 4u);
  Phase speculative = Phase::decode(4, 128);
  speculative.q_len = 3;
  speculative.kv_len = 131;
  EXPECT_EQ(
      build_model(config, speculative, AttentionImpl::Fused).epilogue[1].shape_as<LinearShape>().m,
      4u * 3);
}

TEST(Transformer, LearnedPositionsAndSegmentsJoinTheEmbedding) {
  const OpGraph gpt2 = build_model(model_preset("gpt2"), Phase::decode(1, 9), AttentionImpl::Fused);
  EXPECT_EQ(names(gpt2.prologue),
            (std::vector<std::string>{"embed.tokens", "embed.positions", "embed.add_positions"}));
  EXPECT_EQ(gpt2.epilogue.back().shape_as<LinearShape>().weight, WeightRole::Borrowed);
  const OpGraph bert =
      build_model(model_preset("bert-base"), Phase::prefill(1, 128), AttentionImpl::Fused);
  EXPECT_EQ(names(bert.prologue),
            (std::vector<std::string>{"embed.tokens", "embed.positions", "embed.add_positions",
                                      "embed.token_types", "embed.add_token_types", "embed.norm"}));
  EXPECT_TRUE(bert.epilogue.empty());  // an encoder ends with its last layer
}

// At a short context a decode step costs about 2 flops per weight it multiplies by: every
// parameter but the embedding tables'.
TEST(Transformer, DecodeFlopsAreTwicePerMatmulWeight) {
  const ModelConfig config = model_preset("llama2-7b");
  const OpGraph graph = build_model(config, Phase::decode(1, 1), AttentionImpl::Fused);
  const uint64_t embedding = config.vocab_size * config.hidden_size;
  const double matmul_weights = static_cast<double>(graph.total_parameters() - embedding);
  EXPECT_NEAR(static_cast<double>(graph.total_flops()) / (2 * matmul_weights), 1.0, 0.01);
}

TEST(Transformer, TotalsCountTheLayerItsRepeatTimes) {
  const OpGraph graph =
      build_model(model_preset("tiny"), Phase::prefill(2, 8), AttentionImpl::Unfused);
  uint64_t flops = 0;
  uint64_t layer_visits = 0;
  graph.for_each_op([&](const Op& op, uint64_t repeats) {
    flops += op.flops() * repeats;
    if (repeats == graph.layers.at(0).repeats) ++layer_visits;
  });
  EXPECT_EQ(graph.layers.at(0).repeats, 2u);
  EXPECT_EQ(layer_visits, graph.layers.at(0).ops.size());
  EXPECT_EQ(graph.total_flops(), flops);
  uint64_t layer_flops = 0;
  for (const Op& op : graph.layers.at(0).ops) layer_flops += op.flops();
  uint64_t other_flops = 0;
  for (const Op& op : graph.prologue) other_flops += op.flops();
  for (const Op& op : graph.epilogue) other_flops += op.flops();
  EXPECT_EQ(flops, 2 * layer_flops + other_flops);
}

TEST(Transformer, RejectsImpossiblePhases) {
  const ModelConfig config = model_preset("tiny");
  Phase phase = Phase::prefill(1, 8);
  phase.kv_len = 4;  // fewer positions than new tokens
  EXPECT_THROW(build_model(config, phase, AttentionImpl::Fused), InputError);
  EXPECT_THROW(build_model(config, Phase::prefill(0, 8), AttentionImpl::Fused), InputError);
  ModelConfig broken = config;
  broken.num_key_value_heads = 3;
  EXPECT_THROW(build_model(broken, Phase::prefill(1, 8), AttentionImpl::Fused), InputError);
}

}  // namespace
}  // namespace tessel::workloads
