// Megatron tensor parallelism: one GPU's shard of each layer (heads, K/V heads, MLP columns
// and vocabulary divided), the all-reduces and the all-gather it adds, and runs on a node of
// GPUs over NVLink from the library and the command line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "arch/load_arch.h"
#include "arch/link/collective_cost.h"
#include "arch/system_spec.h"
#include "arch/gpu/gpu_timing.h"
#include "cli_runner.h"
#include "run_helpers.h"
#include "sim/system/run_system.h"
#include "test_files.h"
#include "workloads/input_error.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel {
namespace {

using workloads::AttentionImpl;
using workloads::Op;
using workloads::OpKind;
using workloads::Phase;

const Op& find_op(const std::vector<Op>& ops, const std::string& name) {
  for (const Op& op : ops) {
    if (op.name == name) return op;
  }
  throw std::runtime_error("no op " + name);
}

// Llama-2-70B over 4 GPUs: 16 of 64 query heads, 2 of 8 K/V heads, 7168 of 28672 MLP columns,
// 8000 of 32000 vocabulary rows; the hidden size stays 8192.
TEST(TensorParallel, Llama70bShardOverFourGpus) {
  const workloads::OpGraph graph =
      workloads::build_model(workloads::model_preset("llama2-70b"), Phase::decode(1, 100), AttentionImpl::Fused, 4);
  const auto& layer = graph.layers.at(0).ops;
  EXPECT_EQ(find_op(layer, "attn.qkv_proj").shape_as<workloads::LinearShape>().n, (16u + 2 * 2) * 128);
  EXPECT_EQ(find_op(layer, "attn.o_proj").shape_as<workloads::LinearShape>().k, 16u * 128);
  EXPECT_EQ(find_op(layer, "attn.o_proj").shape_as<workloads::LinearShape>().n, 8192u);
  EXPECT_EQ(find_op(layer, "mlp.gate_up_proj").shape_as<workloads::LinearShape>().n, 2u * 7168);
  EXPECT_EQ(find_op(layer, "mlp.down_proj").shape_as<workloads::LinearShape>().k, 7168u);
  EXPECT_EQ(find_op(layer, "attn.attention").shape_as<workloads::AttentionShape>().kv_heads, 2u);
  for (const std::string name : {"attn.all_reduce", "mlp.all_reduce"}) {
    const Op& reduce = find_op(layer, name);
    EXPECT_EQ(reduce.kind, OpKind::AllReduce);
    const auto& s = reduce.shape_as<workloads::CollectiveShape>();
    EXPECT_EQ(s.rows * s.cols, 8192u);  // one token's hidden state
    EXPECT_EQ(s.devices, 4u);
  }
  EXPECT_EQ(find_op(graph.epilogue, "lm_head").shape_as<workloads::LinearShape>().n, 8000u);
  EXPECT_EQ(find_op(graph.epilogue, "lm_head.all_gather").kind, OpKind::AllGather);
  EXPECT_EQ(find_op(graph.prologue, "embed.all_reduce").kind, OpKind::AllReduce);
  // The all-reduce follows each row-parallel projection, before the residual.
  EXPECT_EQ(&find_op(layer, "attn.all_reduce") - &find_op(layer, "attn.o_proj"), 1);
  EXPECT_EQ(&find_op(layer, "mlp.all_reduce") - &find_op(layer, "mlp.down_proj"), 1);
}

// The shards hold the model's parameters between them: only the norms are copied on every GPU.
TEST(TensorParallel, ShardsHoldTheParametersOnce) {
  const auto config = workloads::model_preset("llama2-70b");
  const auto whole = workloads::build_model(config, Phase::prefill(1, 8), AttentionImpl::Fused).total_parameters();
  const auto shard = workloads::build_model(config, Phase::prefill(1, 8), AttentionImpl::Fused, 8).total_parameters();
  const uint64_t norms = (2 * config.num_hidden_layers + 1) * config.hidden_size;
  EXPECT_EQ(8 * (shard - norms), whole - norms);
}

// Fewer K/V heads than GPUs: each GPU keeps one, replicated; a count that divides neither
// way, or heads it does not divide, is refused naming the field.
TEST(TensorParallel, KvHeadsReplicateAndBadDegreesAreRefused) {
  const auto llama70b = workloads::model_preset("llama2-70b");  // 64 heads, 8 K/V heads
  EXPECT_EQ(workloads::tensor_parallel_shard(llama70b, 16).num_key_value_heads, 1u);
  EXPECT_EQ(workloads::tensor_parallel_shard(llama70b, 8).num_key_value_heads, 1u);
  EXPECT_EQ(workloads::tensor_parallel_shard(llama70b, 1).num_attention_heads, 64u);
  try {
    workloads::tensor_parallel_shard(workloads::model_preset("llama2-7b"), 3);
    FAIL() << "3 GPUs cannot share 32 heads";
  } catch (const workloads::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("num_attention_heads (32)"), std::string::npos) << error.what();
  }
}

// `model` on `gpus` GPUs of an A100 node sharing its layers (one GPU alone when 1).
sim::SystemRunResult on_a100_node(const workloads::ModelConfig& model, const sim::ModelRequest& request, uint64_t gpus,
                                  AttentionImpl attention = AttentionImpl::Fused) {
  sim::ParallelPlan plan;
  plan.tensor = gpus;
  sim::SystemRunOptions options;
  options.require_fit = false;
  return sim::run_system(arch::node_of(arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) +
                                                           "/configs/arch/a100_sxm.yaml")),
                         sim::ModelWorkload{model, request, attention}, plan,
                         testing::timing_only(arch::DType::Bf16), options);
}

sim::ModelRequest decode(uint64_t cached) {
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Decode;
  request.cached = cached;
  return request;
}

arch::GpuSpec a100() { return arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml"); }

// Batch-1 decode of Llama-2-70B: 138 GB of weights do not fit one 80 GB A100 but a quarter
// does. Each GPU streams its quarter of the weights and cache at HBM's achievable rate and
// pays a launch per kernel, as one GPU does its whole (within 5%: each kernel's first HBM
// latency), plus the 161 all-reduces the ring prices. The step is 2.5-4x faster than one
// GPU's: not 4x, since every GPU pays every launch and the collectives.
TEST(TensorParallel, DecodeOnFourGpusIsAQuarterOfTheBytesPlusCollectives) {
  const arch::GpuSpec spec = a100();
  const auto model = workloads::model_preset("llama2-70b");
  const sim::SystemRunResult one_gpu = on_a100_node(model, decode(1023), 1);
  const sim::SystemRunResult four_gpus = on_a100_node(model, decode(1023), 4);
  EXPECT_FALSE(one_gpu.warnings.empty()) << "138 GB of weights do not fit one 80 GB A100";
  EXPECT_TRUE(four_gpus.warnings.empty());
  const sim::RunResult& four = four_gpus.stages.front().run;
  double collectives = 0, kernels = 0, bytes = 0;
  uint64_t reduces = 0;
  for (const sim::OpResult& op : four.steps.front().ops) {
    const auto repeats = static_cast<double>(op.repeats);
    if (op.kind != OpKind::AllReduce && op.kind != OpKind::AllGather) {
      if (op.kind != OpKind::KvCacheRead) kernels += repeats;
      bytes += static_cast<double>(op.activity.dram_read_bytes + op.activity.dram_write_bytes) * repeats;
      continue;
    }
    collectives += static_cast<double>(op.cycles) * repeats;
    if (op.kind == OpKind::AllReduce) {
      reduces += op.repeats;
      // The calibrated ring: a fixed cost, 2(n-1) steps, 2(n-1)/n of the buffer at the links'
      // achievable bandwidth.
      const arch::NvlinkSpec& link = *spec.nvlink;
      const double ring = (link.collective_latency_s + 6 * link.step_latency_s +
                           1.5 * 8192 * 2 / (link.bytes_per_second * link.achievable_fraction)) *
                          spec.clock_hz;
      EXPECT_NEAR(static_cast<double>(op.cycles), ring, 1.0);
      EXPECT_EQ(op.roofline.bound(), "network");
    }
  }
  EXPECT_EQ(reduces, 2 * model.num_hidden_layers + 1);
  EXPECT_NEAR(bytes, static_cast<double>(four.weight_bytes + four.kv_cache_bytes), 0.01 * bytes);
  const double compute = static_cast<double>(four.steps.front().cycles) - collectives;
  const double floor = bytes / arch::gpu::hbm_bytes_per_cycle(spec) + kernels * arch::gpu::launch_overhead_cycles(spec);
  EXPECT_GE(compute, floor);
  EXPECT_LE(compute, 1.05 * floor);
  const double speedup = one_gpu.seconds() / four_gpus.seconds();
  EXPECT_DOUBLE_EQ(four_gpus.seconds(), static_cast<double>(four.steps.front().cycles) / spec.clock_hz)
      << "alone on its links, the group's time is its ops'";
  EXPECT_GT(speedup, 2.5);
  EXPECT_LT(speedup, 4.0);
}

// A model run against a measurement no one here made: LLMCompass timed each operator of one
// GPT-3 175B layer's 4-way shard on an A100 (prefill, batch 8, 2048 tokens; tests/data/
// validation/a100x4_gpt3_layer.csv), 66.75 ms in all with the all-reduces. The run's layer
// (unfused attention as there; it also counts the residual adds and the cache append, which
// LLMCompass leaves out) must be within 8% (reached +2.1%).
TEST(TensorParallel, Gpt3LayerOnFourA100sMatchesLlmCompassMeasurement) {
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Prefill;
  request.batch = 8;
  request.seq = 2048;
  const sim::SystemRunResult system = on_a100_node(workloads::model_preset("gpt3-175b"), request, 4, AttentionImpl::Unfused);
  const sim::RunResult& result = system.stages.front().run;
  double layer_cycles = 0;
  for (const sim::OpResult& op : result.steps.front().ops) {
    if (op.in_layer) layer_cycles += static_cast<double>(op.cycles);
  }
  const double measured_s = 66.7472e-3;
  EXPECT_NEAR(layer_cycles / result.device.clock_hz, measured_s, 0.08 * measured_s);
}

TEST(TensorParallel, CommandLine) {
  const auto out = testing::fresh_dir("tp_run");
  const auto run = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model tiny --phase decode --tp 2 "
                                       "--quiet --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_EQ(summary["tensor_parallel"], 2);
  EXPECT_DOUBLE_EQ(summary["group_energy_pj"].get<double>(), 2 * summary["energy_pj"].get<double>());
  EXPECT_EQ(summary["plan"]["tp"], 2);
  EXPECT_EQ(summary["system"]["devices"], 8) << "the node the file's nvlink section describes";
  EXPECT_NE(testing::read_text(out / "layers.csv").find("attn.all_reduce,AllReduce"), std::string::npos);
  std::filesystem::remove_all(out);

  const auto systolic = testing::run_tessel("run --arch configs/arch/tpu_v4_like.yaml --model tiny --tp 2");
  EXPECT_EQ(systolic.exit_code, 1);
  EXPECT_NE(systolic.output.find("--tp"), std::string::npos) << systolic.output;
  // --tp shares a model's layers; with --gemm it would be ignored, which is a usage error.
  EXPECT_EQ(testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --gemm 64,64,64 --tp 2").exit_code, 2);
  const auto too_many = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model llama2-7b --tp 16");
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_NE(too_many.output.find("needs 16 devices"), std::string::npos) << too_many.output;
  const auto bad = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model llama2-7b --tp 3");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("num_attention_heads"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace tessel
