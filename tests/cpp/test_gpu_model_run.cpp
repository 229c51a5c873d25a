// Transformers on a GPU: every operator a kernel that no roofline undercuts, decode bound by
// HBM and kernel launches, and the command line running them.
#include <gtest/gtest.h>

#include <string>

#include "arch/load_arch.h"
#include "arch/gpu/gpu_timing.h"
#include "cli_runner.h"
#include "run_helpers.h"

namespace tessel::sim {
namespace {

using workloads::OpKind;

const std::string kA100 = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml";

using testing::run_model;

RunSettings timing_only() { return testing::timing_only(arch::DType::Bf16); }

ModelRequest phase(ModelRequest::Kind kind, uint64_t batch, uint64_t tokens) {
  ModelRequest request;
  request.kind = kind;
  request.batch = batch;
  request.seq = tokens;
  request.cached = tokens;
  return request;
}

TEST(GpuModelRun, EveryOpTakesAtLeastItsRoofline) {
  const arch::GpuSpec spec = arch::load_gpu_spec(kA100);
  for (const auto attention : {workloads::AttentionImpl::Fused, workloads::AttentionImpl::Unfused}) {
    for (const char* model : {"gpt2", "llama3-8b"}) {
      for (const ModelRequest& request : {phase(ModelRequest::Prefill, 2, 512), phase(ModelRequest::Decode, 8, 700)}) {
        const RunResult result = run_model(spec, workloads::model_preset(model), request, timing_only(), attention);
        for (const OpResult& op : result.steps.front().ops) {
          EXPECT_GE(op.cycles, op.roofline.cycles()) << model << " " << op.name;
          EXPECT_EQ(op.cycles == 0, op.kind == OpKind::KvCacheRead) << op.name;
        }
      }
    }
  }
}

// Batch-1 decode reads every weight and the cache once at HBM's achievable rate, and pays a
// launch for each of its kernels: the step is those two, within 5% (each kernel also waits
// one HBM latency, 0.5 us, before its data flows, and the norms' own bytes are small).
TEST(GpuModelRun, BatchOneDecodeIsHbmAndLaunches) {
  const arch::GpuSpec spec = arch::load_gpu_spec(kA100);
  const RunResult result = run_model(spec, workloads::model_preset("llama2-7b"),
                                          phase(ModelRequest::Decode, 1, 2047), timing_only());
  const StepResult& step = result.steps.front();
  double kernels = 0;
  for (const OpResult& op : step.ops) {
    if (op.kind != OpKind::KvCacheRead) kernels += static_cast<double>(op.repeats);
    if (op.kind == OpKind::Linear) {
      EXPECT_EQ(op.roofline.bound(), "memory") << op.name;
    }
  }
  const double bytes = static_cast<double>(step.activity.dram_read_bytes + step.activity.dram_write_bytes);
  const double floor = bytes / arch::gpu::hbm_bytes_per_cycle(spec) + kernels * arch::gpu::launch_overhead_cycles(spec);
  EXPECT_GE(static_cast<double>(step.cycles), floor);
  EXPECT_LE(static_cast<double>(step.cycles), 1.05 * floor);
  EXPECT_NEAR(bytes, static_cast<double>(result.weight_bytes + result.kv_cache_bytes) - 32000.0 * 4096 * 2,
              0.01 * bytes);  // weights (one embedding row of the table) and the cache, once
}

// Energy from the GPU's table: HBM bytes at its pJ per byte, tensor-core MACs at theirs.
TEST(GpuModelRun, EnergyComesFromTheGpusTable) {
  const arch::GpuSpec spec = arch::load_gpu_spec(kA100);
  ASSERT_DOUBLE_EQ(spec.energy.hbm_pj_per_byte, 50.0);
  const RunResult result = run_model(spec, workloads::model_preset("gpt2"), phase(ModelRequest::Prefill, 1, 256),
                                          timing_only());
  for (const OpResult& op : result.steps.front().ops) {
    const double bytes = static_cast<double>(op.activity.dram_read_bytes + op.activity.dram_write_bytes);
    EXPECT_DOUBLE_EQ(op.energy.dram_pj, bytes * 50.0) << op.name;
    // gpt2 prefill stays under the A100's power limit: every op at the nominal clock, MACs at the bf16 energy.
    EXPECT_EQ(op.core_hz(), spec.clock_hz) << op.name;
    EXPECT_DOUBLE_EQ(op.energy.mac_pj, static_cast<double>(op.activity.macs) * spec.tensor_mac_pj(arch::DType::Bf16))
        << op.name;
    EXPECT_NEAR(op.energy.static_pj, spec.power->static_w * op.seconds() * 1e12, 1e-9 * op.energy.static_pj + 1e-9)
        << op.name;
    if (op.kind != OpKind::KvCacheRead) {
      EXPECT_GT(op.energy.total_pj(), 0.0) << op.name;
    }
  }
}

TEST(GpuModelRun, CommandLineRunsAModelOnAGpu) {
  const auto run = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model tiny --phase generate --input 16 "
                                       "--output 2 --quiet");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  const auto dataflow = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model tiny --dataflow os");
  EXPECT_EQ(dataflow.exit_code, 1);
  EXPECT_NE(dataflow.output.find("--dataflow"), std::string::npos) << dataflow.output;
  const auto dtype = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model tiny --dtype fp32");
  EXPECT_EQ(dtype.exit_code, 1);
  EXPECT_NE(dtype.output.find("--dtype fp32"), std::string::npos) << dtype.output;
}

}  // namespace
}  // namespace tessel::sim
