// Transformer runs end to end: fidelity against the roofline and the memory-bound decode
// estimate, generate's bookkeeping, and the tiny model's numerics op by op.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "arch/load_arch.h"
#include "run_helpers.h"
#include "sim/numerics/gemm_check.h"
#include "workloads/input_error.h"

namespace tessel::sim {
namespace {

using workloads::OpKind;

const std::string kArchDir = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/";

using testing::run_model;
using testing::timing_only;

ModelRequest decode(uint64_t batch, uint64_t cached) { return testing::decode_request(batch, cached); }
ModelRequest prefill(uint64_t batch, uint64_t seq) { return testing::prefill_request(batch, seq); }

// Every op of every step, on a large and a small architecture, fused and unfused, prefill and
// decode: no simulated op beats its roofline floor.
TEST(ModelRun, EveryOpTakesAtLeastItsRoofline) {
  for (const char* arch_file : {"tpu_v4_like.yaml", "array_32x32.yaml"}) {
    const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + arch_file);
    for (const auto attention : {workloads::AttentionImpl::Fused, workloads::AttentionImpl::Unfused}) {
      for (const char* model : {"gpt2", "llama3-8b"}) {
        for (const ModelRequest& request : {prefill(2, 256), decode(4, 300)}) {
          const RunResult result =
              run_model(spec, workloads::model_preset(model), request, timing_only(spec.dtypes.front().dtype), attention);
          for (const OpResult& op : result.steps.front().ops) {
            EXPECT_GE(op.cycles, op.roofline.cycles()) << arch_file << " " << model << " " << op.name;
            // Nor finishes before the resource it kept busiest.
            EXPECT_GE(op.cycles, std::max(op.array_busy_cycles, op.vector_busy_cycles)) << op.name;
            EXPECT_GE(static_cast<double>(op.cycles), op.dram_busy_cycles) << op.name;
            // The attention kernels read the cache: the read op itself takes no time.
            EXPECT_EQ(op.cycles == 0, op.kind == OpKind::KvCacheRead) << op.name;
          }
        }
      }
    }
  }
}

// A decode step at batch 1 reads every weight and the whole KV cache once; on an accelerator
// whose arrays outrun its DRAM it is memory-bound, and its time is those bytes at the DRAM's
// bandwidth (the model's achievable bandwidth: it has no efficiency loss). 4% covers the
// vector ops, each kernel's DRAM latency (150 ns, some 15 kernels a layer) and the arrays'
// per-tile fill and drain, which for one token (M = 1) is close to the tile's DRAM time
// and so no longer hides entirely behind it (measured at 2048 positions: 1.2% to 2.5% over).
TEST(ModelRun, SmallBatchDecodeIsBoundByWeightAndKvBytes) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  for (const char* model : {"llama2-7b", "llama3-8b", "mistral-7b", "llama2-13b"}) {
    const workloads::ModelConfig config = workloads::model_preset(model);
    const workloads::Phase phase = workloads::Phase::decode(1, 2047);
    const RunResult result =
        run_model(spec, config, decode(1, 2047), timing_only(arch::DType::Bf16));
    const StepResult& step = result.steps.front();
    double embedding_table = 0;
    for (const OpResult& op : step.ops) {
      if (op.kind == OpKind::Linear) {
        EXPECT_EQ(op.roofline.bound(), "memory") << model << " " << op.name;
      }
    }
    workloads::build_model(config, phase, workloads::AttentionImpl::Fused).for_each_op([&](const workloads::Op& op, uint64_t) {
      if (op.kind == OpKind::Embedding) embedding_table += static_cast<double>(op.parameters()) * 2;
    });
    // The weights (less the embedding tables, of which a step reads one row a token) and the
    // cache of 4096 positions.
    const double weights =
        static_cast<double>(workloads::build_model(config, phase, workloads::AttentionImpl::Fused).total_parameters()) * 2 -
        embedding_table;
    const double kv = 2048.0 * 2 * 2 * static_cast<double>(config.num_key_value_heads * config.head_dim * config.num_hidden_layers);
    const double estimate = (weights + kv) / spec.dram.bytes_per_cycle;
    EXPECT_GE(static_cast<double>(step.cycles), estimate) << model;
    EXPECT_LE(static_cast<double>(step.cycles), estimate * 1.04) << model;
    // What moved is the weights and the cache, each once; the activations add under 1%.
    const double moved = static_cast<double>(step.activity.dram_read_bytes + step.activity.dram_write_bytes);
    EXPECT_NEAR(moved, weights + kv, 0.01 * (weights + kv)) << model;
  }
}

TEST(ModelRun, GenerateIsAPrefillThenGrowingDecodeSteps) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  const workloads::ModelConfig config = workloads::model_preset("llama2-7b");
  const RunSettings options = timing_only(arch::DType::Bf16);
  ModelRequest request;
  request.kind = ModelRequest::Generate;
  request.batch = 2;
  request.input = 100;
  request.output = 5;
  const RunResult result = run_model(spec, config, request, options);
  ASSERT_EQ(result.steps.size(), 6u);
  EXPECT_EQ(result.steps[0].phase->kind, workloads::Phase::Prefill);
  for (size_t i = 1; i < 6; ++i) {
    EXPECT_EQ(result.steps[i].phase->kind, workloads::Phase::Decode);
    EXPECT_EQ(result.steps[i].phase->cached_len(), 100 + i - 1);
  }
  const RunResult alone = run_model(spec, config, prefill(2, 100), options);
  EXPECT_EQ(result.steps[0].cycles, alone.steps[0].cycles);
  EXPECT_DOUBLE_EQ(result.ttft_s(), alone.seconds());
  EXPECT_NEAR(result.tpot_s() * 5 + result.ttft_s(), result.seconds(), 1e-12);
  EXPECT_DOUBLE_EQ(result.tokens_per_s(), 10.0 / result.seconds());
}

// The layer is simulated once and counted num_hidden_layers times.
TEST(ModelRun, LayerOpsCountEveryLayer) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  const RunResult result = run_model(spec, workloads::model_preset("gpt2"), prefill(1, 128),
                                          timing_only(arch::DType::Bf16));
  const StepResult& step = result.steps.front();
  uint64_t cycles = 0;
  uint64_t layer = 0;
  for (const OpResult& op : step.ops) {
    EXPECT_EQ(op.repeats, op.in_layer ? 12u : 1u) << op.name;
    cycles += op.cycles * op.repeats;
    layer += op.in_layer ? op.cycles : 0;
  }
  EXPECT_EQ(step.cycles, cycles);
  EXPECT_EQ(step.layer_cycles, layer);
}

// Unfused attention writes the scores and reads them back, twice (softmax in, softmax out):
// at least 4 bytes-of-scores more DRAM traffic per layer than the fused kernel.
TEST(ModelRun, UnfusedAttentionMovesTheScoresThroughDram) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  const workloads::ModelConfig config = workloads::model_preset("gpt2");
  const auto dram = [&](workloads::AttentionImpl impl) {
    const RunResult r = run_model(spec, config, prefill(1, 512), timing_only(arch::DType::Bf16), impl);
    return static_cast<double>(r.steps[0].activity.dram_read_bytes + r.steps[0].activity.dram_write_bytes);
  };
  const double scores_bytes = 12.0 * 512 * 512 * 2 * 12;  // heads × seq² × bf16 × layers
  EXPECT_GE(dram(workloads::AttentionImpl::Unfused) - dram(workloads::AttentionImpl::Fused), 4 * scores_bytes);
}

// The tiny model with the default check: every op that computes is checked, and passes.
// In the second decode step the attention ops are new (a longer cache) and timing-only.
TEST(ModelRun, TinyModelChecksEveryComputingOp) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  RunSettings options;
  options.dtype = arch::DType::Bf16;
  for (const auto attention : {workloads::AttentionImpl::Fused, workloads::AttentionImpl::Unfused}) {
    ModelRequest request;
    request.kind = ModelRequest::Generate;
    request.input = 16;
    request.output = 2;
    const RunResult result = run_model(spec, workloads::model_preset("tiny"), request, options, attention);
    ASSERT_EQ(result.steps.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      for (const OpResult& op : result.steps[i].ops) {
        const bool moves_only = op.kind == OpKind::Embedding || op.kind == OpKind::KvCacheAppend ||
                                op.kind == OpKind::KvCacheRead;
        // The prefill and the first decode step are checked; later steps only reuse checks.
        const bool expected = !moves_only && (i < 2 || op.reused);
        EXPECT_EQ(op.numerics.checked, expected) << "step " << i << " " << op.name << ": " << op.numerics.reference;
        if (op.numerics.checked) {
          EXPECT_TRUE(op.numerics.passed) << op.name << ": " << op.numerics.reference;
        }
      }
    }
    EXPECT_TRUE(result.numerics_passed());
    EXPECT_GT(result.ops_checked(), 10u);
  }
}

// The footprint is every parameter and the KV cache at its longest; the DRAM's capacity says
// whether it fits, and says nothing when the file does not state one.
TEST(ModelRun, FootprintIsWeightsAndTheLongestCache) {
  const arch::SystolicSpec tpu = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  ASSERT_EQ(tpu.dram.capacity_bytes, uint64_t{32} << 30);
  const RunSettings options = timing_only(arch::DType::Bf16);
  const workloads::ModelConfig config = workloads::model_preset("llama2-7b");
  ModelRequest generate;
  generate.kind = ModelRequest::Generate;
  generate.batch = 2;
  generate.input = 100;
  generate.output = 3;
  const RunResult small = run_model(tpu, config, generate, options);
  const uint64_t parameters =
      workloads::build_model(config, workloads::Phase::decode(2, 100), workloads::AttentionImpl::Fused).total_parameters();
  EXPECT_EQ(small.weight_bytes, parameters * 2);
  // the last decode step attends to 100 + 2 cached positions and its own
  EXPECT_EQ(small.kv_cache_bytes, uint64_t{2} * 103 * 32 * 128 * 2 * 32 * 2);
  EXPECT_EQ(small.fits_in_dram(), std::optional<bool>(true));
  const RunResult large = run_model(tpu, workloads::model_preset("llama2-70b"), decode(1, 10), options);
  EXPECT_EQ(large.fits_in_dram(), std::optional<bool>(false));
  const arch::SystolicSpec unstated = arch::load_systolic_spec(kArchDir + "array_32x32.yaml");
  EXPECT_FALSE(run_model(unstated, workloads::model_preset("tiny"), decode(1, 10), options).fits_in_dram());
  const RunResult encoder = run_model(tpu, workloads::model_preset("bert-base"), prefill(1, 64), options);
  EXPECT_EQ(encoder.kv_cache_bytes, 0u) << "an encoder keeps no cache";
}

TEST(ModelRun, BadRequestsAreInputErrors) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + "tpu_v4_like.yaml");
  const RunSettings options = timing_only(arch::DType::Bf16);
  EXPECT_THROW(run_model(spec, workloads::model_preset("gpt2"), prefill(0, 16), options), workloads::InputError);
  EXPECT_THROW(run_model(spec, workloads::model_preset("bert-base"), decode(1, 16), options), workloads::InputError);
  RunSettings fp8 = options;
  fp8.dtype = arch::DType::Fp8;
  EXPECT_THROW(run_model(spec, workloads::model_preset("gpt2"), prefill(1, 16), fp8), SettingError);
}

}  // namespace
}  // namespace tessel::sim
