// Sliding-window attention: the exact pairs a window leaves, the cache a windowed layer keeps
// and reads, alternating local and global layers as one repeated block, pipeline stages that
// split them anywhere, and system runs and training graphs over them.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "arch/config_system.h"
#include "run_helpers.h"
#include "sim/system/run_system.h"
#include "workloads/model_config.h"
#include "workloads/training.h"
#include "workloads/transformer.h"

namespace tessel::workloads {
namespace {

// Query i of q_len (the last of kv_len positions) sees the keys at most window − 1 before it.
uint64_t brute_force_pairs(uint64_t q_len, uint64_t kv_len, uint64_t window) {
  uint64_t pairs = 0;
  for (uint64_t i = 0; i < q_len; ++i) {
    const uint64_t position = kv_len - q_len + i;
    for (uint64_t key = 0; key <= position; ++key) pairs += position - key < window ? 1 : 0;
  }
  return pairs;
}

TEST(SlidingWindow, PairsAreExact) {
  for (const uint64_t window : {1u, 2u, 5u, 16u, 40u}) {
    for (const uint64_t kv_len : {1u, 7u, 16u, 33u}) {
      for (uint64_t q_len = 1; q_len <= kv_len; q_len += 3) {
        const AttentionShape shape{1, 1, 1, q_len, kv_len, 8, true, 0, window};
        EXPECT_EQ(attended_pairs(shape), brute_force_pairs(q_len, kv_len, window))
            << "window " << window << ", q_len " << q_len << ", kv_len " << kv_len;
      }
    }
  }
}

const Op& find_op(const std::vector<Op>& ops, const std::string& name) {
  const auto it = std::find_if(ops.begin(), ops.end(), [&](const Op& op) { return op.name == name; });
  EXPECT_NE(it, ops.end()) << name;
  return *it;
}

// A prompt longer than the window: each query attends to the window at most, and the cache
// keeps the last window of the prompt; a shorter prompt is untouched by it.
TEST(SlidingWindow, PrefillAttendsWithinTheWindowAndKeepsItsLastPositions) {
  const ModelConfig mistral = model_preset("mistral-7b");
  const OpGraph graph = build_model(mistral, Phase::prefill(2, 8192), AttentionImpl::Fused);
  ASSERT_EQ(graph.layers.size(), 1u);
  const std::vector<Op>& ops = graph.layers[0].ops;
  const Op& attention = find_op(ops, "attn.attention");
  EXPECT_EQ(attention.shape_as<AttentionShape>().window, 4096u);
  EXPECT_EQ(attention.macs(), 2 * 2 * 32 * brute_force_pairs(8192, 8192, 4096) * 128);
  EXPECT_EQ(find_op(ops, "attn.kv_cache_append").shape_as<KvCacheShape>().tokens, 4096u);

  ModelConfig global = mistral;
  global.sliding_window = 0;
  global.sliding_layers.clear();
  const Phase short_prompt = Phase::prefill(2, 4096);
  EXPECT_EQ(build_model(mistral, short_prompt, AttentionImpl::Fused).total_flops(),
            build_model(global, short_prompt, AttentionImpl::Fused).total_flops());
}

// A decode step reads the window − 1 cached positions before it; a chunk of new tokens reads
// those its first token sees, and each of its queries attends to the window.
TEST(SlidingWindow, DecodeAndChunksReadOnlyTheWindow) {
  const ModelConfig mistral = model_preset("mistral-7b");
  const std::vector<Op> decode = build_model(mistral, Phase::decode(1, 10000), AttentionImpl::Fused).layers[0].ops;
  EXPECT_EQ(find_op(decode, "attn.kv_cache_read").shape_as<KvCacheShape>().tokens, 4095u);
  const auto& one = find_op(decode, "attn.attention").shape_as<AttentionShape>();
  EXPECT_EQ(one.kv_len, 4096u);
  EXPECT_EQ(one.kv_cached, 4095u);
  const std::vector<Op> unfused =
      build_model(mistral, Phase::decode(1, 10000), AttentionImpl::Unfused).layers[0].ops;
  EXPECT_EQ(find_op(unfused, "attn.scores").shape_as<BatchedMatmulShape>().n, 4096u);

  const Phase chunk{Phase::Prefill, 1, 100, 5100};
  const std::vector<Op> ops = build_model(mistral, chunk, AttentionImpl::Fused).layers[0].ops;
  EXPECT_EQ(find_op(ops, "attn.kv_cache_read").shape_as<KvCacheShape>().tokens, 4095u);
  const Op& attention = find_op(ops, "attn.attention");
  EXPECT_EQ(attention.macs(), 2 * 32 * brute_force_pairs(100, 5100, 4096) * 128);
}

// Gemma 2's windowed and global layers in turn: one block of a pair, repeated; one block of 42
// alike where the phase does not reach past the window.
TEST(SlidingWindow, AlternatingLayersAreOneBlockOfAPair) {
  const ModelConfig gemma2 = model_preset("gemma2-9b");
  const OpGraph graph = build_model(gemma2, Phase::prefill(1, 8192), AttentionImpl::Fused);
  ASSERT_EQ(graph.layers.size(), 1u);
  const LayerBlock& block = graph.layers[0];
  EXPECT_EQ(block.repeats, 21u);
  ASSERT_EQ(block.layer_sizes.size(), 2u);
  EXPECT_EQ(graph.layer_count(), 42u);
  const std::vector<std::vector<Op>> pair = block.layer_ops();
  EXPECT_EQ(find_op(pair[0], "attn.attention").shape_as<AttentionShape>().window, 4096u);
  EXPECT_EQ(find_op(pair[1], "attn.attention").shape_as<AttentionShape>().window, 0u);

  const OpGraph short_prompt = build_model(gemma2, Phase::prefill(1, 1024), AttentionImpl::Fused);
  ASSERT_EQ(short_prompt.layers.size(), 1u);
  EXPECT_EQ(short_prompt.layers[0].repeats, 42u);
  EXPECT_TRUE(short_prompt.layers[0].layer_sizes.empty());
}

// Stages split the layers anywhere, a pair or not: their layers add up to the whole model's.
TEST(SlidingWindow, PipelineStagesSplitAlternatingLayers) {
  const ModelConfig gemma2 = model_preset("gemma2-9b");
  const Phase phase = Phase::prefill(1, 8192);
  const auto layer_flops = [](const OpGraph& graph) {
    uint64_t flops = 0;
    for (const LayerBlock& block : graph.layers) {
      for (const Op& op : block.ops) flops += op.flops() * block.repeats;
    }
    return flops;
  };
  const uint64_t whole = layer_flops(build_model(gemma2, phase, AttentionImpl::Fused));
  uint64_t staged = 0, first = 0;
  for (const uint64_t layers : {11u, 11u, 10u, 10u}) {
    const OpGraph stage =
        build_model(gemma2, phase, AttentionImpl::Fused, ModelSlice{1, first, layers, first / 11, 1, 1.0});
    EXPECT_EQ(stage.layer_count(), layers) << "stage from layer " << first;
    staged += layer_flops(stage);
    first += layers;
  }
  EXPECT_EQ(staged, whole);
  // Layer 11 is a global one: the second stage's pairs start with it.
  const OpGraph second = build_model(gemma2, phase, AttentionImpl::Fused, ModelSlice{1, 11, 11, 1, 1, 1.0});
  EXPECT_EQ(second.layers[0].layer_ops()[0].at(4).shape_as<AttentionShape>().window, 0u);
}

// A windowed layer keeps the window's positions; the others every position.
TEST(SlidingWindow, WindowedLayersKeepTheWindowInTheCache) {
  const ModelConfig gemma2 = model_preset("gemma2-9b");
  const uint64_t per_position = 8 * 256 * 2;  // K/V heads × head_dim × K and V
  EXPECT_EQ(kv_cache_elements(gemma2, 2, 8192, 0, 42), 2 * (21 * 8192 + 21 * 4096) * per_position);
  EXPECT_EQ(kv_cache_elements(gemma2, 2, 1000, 0, 42), 2 * 42 * 1000 * per_position);
  EXPECT_EQ(kv_cache_elements(gemma2, 1, 8192, 1, 2), (8192 + 4096) * per_position);

  const arch::SystemSpec system = arch::load_system(std::string(TESSEL_SOURCE_DIR) + "/configs/systems/dgx_a100.yaml");
  sim::ParallelPlan plan;
  plan.pipeline = 4;
  const sim::SystemRunResult result =
      sim::run_system(system, sim::ModelWorkload{gemma2, testing::decode_request(1, 8191)}, plan,
                      testing::timing_only(arch::DType::Bf16), {});
  uint64_t first = 0;
  for (const sim::StageRun& stage : result.stages) {
    EXPECT_EQ(stage.footprint.kv_cache_bytes, kv_cache_elements(gemma2, 1, 8192, first, stage.layers) * 2);
    first += stage.layers;
  }
}

// Training builds each layer of a pair as a pass of its own: the backward pass runs them in
// reverse, and each keeps its own tensors.
TEST(SlidingWindow, TrainingKeepsThePairsLayersApart) {
  const ModelConfig gemma2 = model_preset("gemma2-9b");
  TrainingOptions options;
  options.seq = 8192;
  options.recompute = Recompute::Full;
  const TrainingGraphs graphs = build_training_step(gemma2, options, ModelSlice{}, {});
  ASSERT_EQ(graphs.forward.layers.size(), 1u);
  EXPECT_EQ(graphs.forward.layer_count(), 42u);
  EXPECT_EQ(graphs.backward.layer_count(), 42u);
  const std::vector<std::vector<Op>> backward = graphs.backward.layers[0].layer_ops();
  ASSERT_EQ(backward.size(), 2u);
  // The global layer's backward first.
  const auto window_of = [](const std::vector<Op>& ops) {
    return find_op(ops, "attn.attention.grad").shape_as<AttentionShape>().window;
  };
  EXPECT_EQ(window_of(backward[0]), 0u);
  EXPECT_EQ(window_of(backward[1]), 4096u);
  EXPECT_EQ(graphs.layer_saved[0].size(), 2u) << "each layer of the pair keeps its input";
  EXPECT_EQ(graphs.parameters(),
            build_model(gemma2, Phase::prefill(1, 8192), AttentionImpl::Fused).total_parameters());
}

}  // namespace
}  // namespace tessel::workloads
