// The CPU kind's mechanisms: GEMMs blocked for the caches on the fastest engine, decode bound
// by DDR, prefill by the engine's sustained rate, L3 reuse, the power limit, and a whole model
// run through the one device interface.
#include <gtest/gtest.h>

#include <string>

#include "arch/cpu/cpu_timing.h"
#include "arch/load_arch.h"
#include "mapper/cpu_gemm_plan.h"
#include "run_helpers.h"
#include "sim/cpu_gemm_engine.h"

namespace tessel {
namespace {

using mapper::CpuGemm;

const arch::CpuSpec& xeon() {
  static const arch::CpuSpec spec = arch::load_cpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/xeon_8480.yaml");
  return spec;
}

const arch::CpuSpec& epyc() {
  static const arch::CpuSpec spec = arch::load_cpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/epyc_9654.yaml");
  return spec;
}

double seconds(const arch::CpuSpec& spec, double cycles) { return cycles / spec.clock_hz; }

// A decode GEMV streams its weights once: no faster than the weight bytes at the achievable
// DDR rate, and within 5% of it plus the fork and join and one DDR latency (a 4096 x 12288
// bf16 matrix is 100 MB: the edges are a few microseconds of ~400).
TEST(CpuGemm, ADecodeProductIsBoundByDdr) {
  for (const arch::CpuSpec* spec : {&xeon(), &epyc()}) {
    const CpuGemm gemv{1, 12288, 4096, arch::DType::Bf16};
    const mapper::CpuGemmPlan plan = mapper::map_cpu_gemm(*spec, gemv);
    const double weights = 12288.0 * 4096 * 2;
    const double floor = weights / (spec->ddr_bytes_per_second() * spec->ddr_achievable_fraction);
    const double simulated = seconds(*spec, static_cast<double>(sim::simulate_cpu_gemm(*spec, plan).cycles));
    EXPECT_GE(simulated, floor) << spec->name;
    EXPECT_LE(simulated, 1.05 * floor + spec->parallel_overhead_s + spec->ddr_latency_ns * 1e-9) << spec->name;
    EXPECT_EQ(plan.dram_bytes, weights + 1 * 4096 * 2 + 12288 * 2) << spec->name;  // B, A and C once
  }
}

// A large bf16 GEMM on the Xeon runs on AMX at its sustained rate: no faster than the MACs
// at 56 cores x 512 x efficiency, and within 15% of it (padding is nil at these sizes; the
// edges of each block and the first DDR latency are the rest).
TEST(CpuGemm, APrefillProductRunsAtTheEnginesSustainedRate) {
  const arch::CpuSpec& spec = xeon();
  const CpuGemm gemm{4096, 4096, 4096, arch::DType::Bf16};
  const sim::CpuGemmChoice choice = sim::choose_cpu_gemm(spec, gemm, 3);
  EXPECT_EQ(choice.plan.engine_name, "amx");
  const double macs = 4096.0 * 4096 * 4096;
  const arch::CpuMatrixEngine& amx = spec.engines.front();
  const double floor = macs / (spec.cores() * amx.rate(arch::DType::Bf16)->macs_per_cycle_per_core * amx.efficiency);
  const double cycles = static_cast<double>(choice.run.cycles);
  EXPECT_GE(cycles, floor);
  EXPECT_LE(cycles, 1.15 * floor);
}

// Without AMX the same GEMM falls to AVX-512's sustained bf16 rate: 64 x 0.85 MACs a cycle a
// core against AMX's 512 x 0.20, the mapper's choice following the engines the file lists.
TEST(CpuGemm, TheFastestEngineForTheFormatIsChosen) {
  arch::CpuSpec no_amx = xeon();
  no_amx.engines.erase(no_amx.engines.begin());
  const CpuGemm gemm{4096, 4096, 4096, arch::DType::Bf16};
  const mapper::CpuGemmPlan with = mapper::map_cpu_gemm(xeon(), gemm);
  const mapper::CpuGemmPlan without = mapper::map_cpu_gemm(no_amx, gemm);
  EXPECT_EQ(without.engine_name, "avx512");
  EXPECT_NEAR(without.core_cycles / with.core_cycles, (512 * 0.20) / (64 * 0.85), 0.15);
  // fp32 has no AMX rate: the AVX-512 engine runs it on the full CPU too.
  EXPECT_EQ(mapper::map_cpu_gemm(xeon(), {4096, 4096, 4096, arch::DType::Fp32}).engine_name, "avx512");
}

// When A and B fit the L3 each byte crosses DDR once, whatever the blocking; when they do not,
// the waves of blocks read them again.
TEST(CpuGemm, TheL3KeepsWhatFitsAndWavesRereadWhatDoesNot) {
  const arch::CpuSpec& spec = xeon();
  const CpuGemm fits{1024, 1024, 1024, arch::DType::Bf16};  // 4 MiB of A and B in a 105 MB L3
  const mapper::CpuGemmPlan small = mapper::map_cpu_gemm(spec, fits);
  EXPECT_DOUBLE_EQ(small.dram_bytes, (2.0 * 1024 * 1024 + 1024 * 1024) * 2);
  const CpuGemm large{16384, 16384, 8192, arch::DType::Bf16};  // 512 MiB of A and B
  const mapper::CpuGemmPlan big = mapper::map_cpu_gemm(spec, large);
  EXPECT_GT(big.dram_bytes, (2.0 * 16384 * 8192 + 16384.0 * 16384) * 2 * 1.5);
}

// Every plan's block fits a core's L2 with its panels double-buffered beside C's fp32 block,
// and no plan beats the roofline of its engine.
TEST(CpuGemm, EveryPlanFitsTheL2AndNoneBeatsTheRoofline) {
  const arch::CpuSpec& spec = xeon();
  for (const CpuGemm& g : {CpuGemm{1, 4096, 4096, arch::DType::Bf16}, CpuGemm{64, 11008, 4096, arch::DType::Int8},
                           CpuGemm{2048, 4096, 4096, arch::DType::Fp32}}) {
    for (const mapper::CpuGemmPlan& plan : mapper::rank_cpu_gemm(spec, g)) {
      const double bytes = arch::bytes_of(g.dtype);
      const double resident = 2.0 * (plan.block.m + plan.block.n) * plan.block.k * bytes + 4.0 * plan.block.m * plan.block.n;
      EXPECT_LE(resident, static_cast<double>(spec.l2_bytes_per_core)) << plan.describe();
      const arch::CpuMatrixEngine& engine = spec.engines[plan.engine];
      const double compute = static_cast<double>(g.m * g.n * g.k) /
                             (spec.cores() * engine.rate(g.dtype)->macs_per_cycle_per_core);
      const double memory = static_cast<double>(g.k * g.n) * bytes / arch::cpu::ddr_bytes_per_cycle(spec);
      EXPECT_GE(plan.cycles, std::max(compute, memory)) << plan.describe();
    }
  }
}

// A kernel that would draw more than the package may runs at a lower clock that fits, and a
// memory-bound one keeps its clock.
TEST(CpuDevice, APowerLimitLowersTheClockOfAComputeBoundProductOnly) {
  arch::CpuSpec capped = xeon();
  capped.power->limit_w = capped.power->static_w + 5;
  const workloads::Op prefill("g", workloads::OpKind::Linear, workloads::LinearShape{4096, 4096, 4096});
  const sim::OpResult hot = testing::run_op(capped, prefill, testing::timing_only(arch::DType::Bf16));
  EXPECT_LT(hot.core_hz(), capped.clock_hz);
  EXPECT_LE(hot.power_w(), *capped.power->limit_w);
  const workloads::Op decode("g", workloads::OpKind::Linear, workloads::LinearShape{1, 4096, 4096});
  const sim::OpResult cool = testing::run_op(xeon(), decode, testing::timing_only(arch::DType::Bf16));
  EXPECT_EQ(cool.core_hz(), xeon().clock_hz);
}

// A whole model runs on a CPU like on any other device: Llama-2-7B's bf16 decode step moves
// its 13.5 GB of weights, so its time is at least those bytes at the achievable DDR rate and,
// with a short cache, within 10% of it (the other ops' fork and join come on top).
TEST(CpuDevice, AModelsDecodeStepIsItsWeightsOverDdr) {
  const workloads::ModelConfig model = workloads::model_preset("llama2-7b");
  for (const arch::CpuSpec* spec : {&xeon(), &epyc()}) {
    const sim::RunResult run =
        testing::run_model(*spec, model, testing::decode_request(1, 128), testing::timing_only(arch::DType::Bf16));
    const double floor =
        static_cast<double>(run.weight_bytes) / (spec->ddr_bytes_per_second() * spec->ddr_achievable_fraction);
    EXPECT_GE(run.seconds(), floor) << spec->name;
    EXPECT_LE(run.seconds(), 1.10 * floor) << spec->name;
  }
}

// The datapath's values are checked against Eigen on a CPU as on the other kinds, in each
// engine's formats.
TEST(CpuDevice, ProductsAreCheckedAgainstEigen) {
  for (const arch::DType dtype : {arch::DType::Bf16, arch::DType::Int8, arch::DType::Fp32}) {
    sim::RunSettings settings;
    settings.dtype = dtype;
    settings.check = sim::CheckMode::Always;
    const workloads::Op op("g", workloads::OpKind::Linear, workloads::LinearShape{64, 96, 300});
    const sim::OpResult result = testing::run_op(xeon(), op, settings);
    EXPECT_TRUE(result.numerics.checked);
    EXPECT_TRUE(result.numerics.passed) << arch::to_string(dtype);
  }
}

// A CPU refuses what it cannot honour, naming the flag.
TEST(CpuDevice, SettingsItCannotHonourAreRefused) {
  const std::unique_ptr<sim::Device> device = sim::make_device(xeon());
  sim::RunSettings fp8;
  fp8.dtype = arch::DType::Fp8;
  EXPECT_THROW(device->configure(fp8), sim::SettingError);
  sim::RunSettings dataflow;
  dataflow.dataflow = arch::Dataflow::WeightStationary;
  EXPECT_THROW(device->configure(dataflow), sim::SettingError);
  EXPECT_EQ(*device->configure({}).dtype, arch::DType::Bf16);
}

}  // namespace
}  // namespace tessel
