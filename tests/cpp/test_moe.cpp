// Mixtures of experts: the presets and their config.json, which experts a device runs and with
// how many tokens, expert parallelism's all-to-alls, and the routing's skew.
#include <gtest/gtest.h>

#include <string>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "run_helpers.h"
#include "sim/system/run_system.h"
#include "workloads/hf_config.h"
#include "workloads/input_error.h"
#include "workloads/transformer.h"

namespace tessel::workloads {
namespace {

const std::string kSource = TESSEL_SOURCE_DIR;

const Op* find(const OpGraph& graph, const std::string& name) {
  const Op* found = nullptr;
  graph.for_each_op([&](const Op& op, uint64_t) {
    if (op.name == name && !found) found = &op;
  });
  return found;
}

// The published sizes: Mixtral-8x7B has 46.7 billion parameters, DeepSeek-MoE 16.4 billion
// (their model cards); a model's parameters are its ops' (every expert's weights).
TEST(Moe, PresetsHoldThePublishedParameters) {
  const Phase phase = Phase::decode(1, 10);
  const uint64_t mixtral = build_model(model_preset("mixtral-8x7b"), phase, AttentionImpl::Fused).total_parameters();
  EXPECT_NEAR(static_cast<double>(mixtral), 46.7e9, 0.005 * 46.7e9);
  const uint64_t deepseek =
      build_model(model_preset("deepseek-moe-16b"), phase, AttentionImpl::Fused).total_parameters();
  EXPECT_NEAR(static_cast<double>(deepseek), 16.4e9, 0.01 * 16.4e9);
}

// A published config.json reads as the preset: every size the same.
TEST(Moe, ConfigJsonReadsAsThePreset) {
  for (const char* name : {"mixtral-8x7b", "deepseek-moe-16b"}) {
    const ModelConfig file = read_hf_config(kSource + "/tests/data/hf/" + name + "/config.json");
    const ModelConfig preset = model_preset(name);
    EXPECT_EQ(file.experts, preset.experts) << name;
    EXPECT_EQ(file.experts_per_token, preset.experts_per_token) << name;
    EXPECT_EQ(file.shared_experts, preset.shared_experts) << name;
    EXPECT_EQ(file.expert_intermediate_size, preset.expert_intermediate_size) << name;
    EXPECT_EQ(file.first_dense_layers, preset.first_dense_layers) << name;
    const Phase phase = Phase::prefill(2, 64);
    EXPECT_EQ(build_model(file, phase, AttentionImpl::Fused).total_macs(),
              build_model(preset, phase, AttentionImpl::Fused).total_macs())
        << name;
  }
}

// DeepSeek's first layer is dense, the other 27 have experts: two blocks of layers.
TEST(Moe, DenseLayersComeFirst) {
  const OpGraph graph = build_model(model_preset("deepseek-moe-16b"), Phase::decode(4, 100), AttentionImpl::Fused);
  ASSERT_EQ(graph.layers.size(), 2u);
  EXPECT_EQ(graph.layers[0].repeats, 1u);
  EXPECT_EQ(graph.layers[1].repeats, 27u);
  EXPECT_EQ(graph.layer_count(), 28u);
  // A pipeline stage of layers 10-13 holds only expert layers.
  const OpGraph stage = build_model(model_preset("deepseek-moe-16b"), Phase::decode(4, 100), AttentionImpl::Fused,
                                    ModelSlice{1, 10, 4, 1, 1, 1.0});
  ASSERT_EQ(stage.layers.size(), 1u);
  EXPECT_TRUE(find(stage, "moe.router"));
}

// One token picks 2 of Mixtral's 8 experts: a decode step of one sequence runs 2 of them, one
// token each; 64 tokens keep all 8 busy, 16 tokens each on average.
TEST(Moe, FewTokensLeaveExpertsIdle) {
  const ModelConfig mixtral = model_preset("mixtral-8x7b");
  const auto experts = [&](uint64_t tokens) {
    const OpGraph graph = build_model(mixtral, Phase::decode(tokens, 100), AttentionImpl::Fused);
    return find(graph, "moe.experts.gate_up_proj")->shape_as<LinearShape>();
  };
  EXPECT_EQ(experts(1).groups, 2u);
  EXPECT_EQ(experts(1).m, 1u);
  EXPECT_EQ(experts(64).groups, 8u);
  EXPECT_EQ(experts(64).m, 16u);
  EXPECT_EQ(experts(1).weights_held, 8u) << "the idle experts' weights are still held";
}

// Expert parallelism over 2 replicas: each device holds 4 of the 8 experts, and tokens reach
// them by all-to-all there and back, over the expert group; the weights a device holds drop
// by half of the experts'.
TEST(Moe, ExpertParallelismSpreadsTheExperts) {
  const ModelConfig mixtral = model_preset("mixtral-8x7b");
  const Phase phase = Phase::decode(16, 100);
  const OpGraph alone = build_model(mixtral, phase, AttentionImpl::Fused);
  const OpGraph shared = build_model(mixtral, phase, AttentionImpl::Fused, ModelSlice{1, 0, 0, 0, 2, 1.0});
  const Op* dispatch = find(shared, "moe.dispatch");
  ASSERT_TRUE(dispatch);
  EXPECT_EQ(dispatch->kind, OpKind::AllToAll);
  EXPECT_EQ(dispatch->shape_as<CollectiveShape>().group, CollectiveGroup::Expert);
  EXPECT_EQ(dispatch->shape_as<CollectiveShape>().rows, 16u * 2);
  EXPECT_TRUE(find(shared, "moe.combine"));
  EXPECT_FALSE(find(alone, "moe.dispatch"));
  const uint64_t expert_weights = 8ull * 3 * 4096 * 14336 * 32;
  EXPECT_EQ(alone.total_parameters() - shared.total_parameters(), expert_weights / 2);
  EXPECT_THROW(build_model(mixtral, phase, AttentionImpl::Fused, ModelSlice{1, 0, 0, 0, 3, 1.0}), InputError);
}

// Skewed routing: the busiest expert gets skew times the mean, and its device takes longer.
TEST(Moe, SkewLoadsTheBusiestExpert) {
  const ModelConfig mixtral = model_preset("mixtral-8x7b");
  const OpGraph graph =
      build_model(mixtral, Phase::prefill(4, 256), AttentionImpl::Fused, ModelSlice{1, 0, 0, 0, 1, 2.0});
  const auto& even = find(graph, "moe.experts.gate_up_proj")->shape_as<LinearShape>();
  const auto& hot = find(graph, "moe.hot_expert.gate_up_proj")->shape_as<LinearShape>();
  EXPECT_EQ(even.groups, 7u);
  EXPECT_EQ(hot.m, 2 * even.m);
  EXPECT_EQ(even.weights_held + hot.weights_held, 8u);
  const arch::ArchSpec a100 = arch::load_arch(kSource + "/configs/arch/a100_sxm.yaml");
  sim::ModelWorkload uniform{mixtral, testing::prefill_request(4, 256)};
  sim::ModelWorkload skewed = uniform;
  skewed.expert_skew = 2.0;
  const auto device = sim::make_device(a100);
  const double even_s = sim::run_workload(*device, uniform, testing::timing_only(arch::DType::Bf16)).seconds();
  const double skewed_s = sim::run_workload(*device, skewed, testing::timing_only(arch::DType::Bf16)).seconds();
  EXPECT_GT(skewed_s, even_s);
}

// On a system: tensor parallelism sums the experts' shards, expert parallelism's all-to-alls
// run on the links between the replicas.
TEST(Moe, ExpertsOnASystem) {
  sim::ParallelPlan plan;
  plan.tensor = 2;
  plan.data = 4;
  plan.expert = 4;
  const sim::SystemRunResult result =
      sim::run_system(arch::load_system(kSource + "/configs/systems/dgx_h100.yaml"),
                      sim::ModelWorkload{model_preset("mixtral-8x7b"), testing::decode_request(16, 512)}, plan,
                      testing::timing_only(arch::DType::Bf16));
  bool all_to_all = false, all_reduce = false;
  for (const sim::OpResult& op : result.stages[0].run.steps[0].ops) {
    all_to_all = all_to_all || (op.name == "moe.dispatch" && op.communication && op.cycles > 0);
    all_reduce = all_reduce || (op.name == "moe.all_reduce" && op.communication);
  }
  EXPECT_TRUE(all_to_all);
  EXPECT_TRUE(all_reduce);
  EXPECT_LT(result.stages[0].footprint.weight_bytes, 93.4e9 / 2 / 2) << "a quarter of the experts, half of each";
}

}  // namespace
}  // namespace tessel::workloads
