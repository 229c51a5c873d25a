// The GPU GEMM model: waves, split-K, the roofline floor, and the SystemC run against the
// analytic plan it executes.
#include <gtest/gtest.h>

#include <string>

#include "arch/load_arch.h"
#include "arch/gpu/gpu_timing.h"
#include "mapper/gpu_mapper.h"
#include "sim/gpu_gemm_engine.h"

namespace tessel {
namespace {

using mapper::GpuGemm;
using mapper::ThreadBlockTile;

const arch::GpuSpec& a100() {
  static const arch::GpuSpec spec =
      arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml");
  return spec;
}

constexpr ThreadBlockTile kTile{128, 128, 32, 4, 4};

TEST(GpuGemm, OneBlockMoreThanAWaveTakesTwoWaves) {
  // A row of 128x128 tiles streams a new column of B per tile: ten times the HBM bandwidth
  // keeps it compute-bound, so only the waves differ. K large enough that the main loop
  // dwarfs launch and edges.
  arch::GpuSpec spec = a100();
  spec.hbm_bytes_per_second *= 10;
  const GpuGemm full{128, 128ull * spec.sms, 8192, arch::DType::Bf16};
  const GpuGemm one_more{128, 128ull * (spec.sms + 1), 8192, arch::DType::Bf16};
  const auto wave = mapper::cost_gpu_gemm(spec, full, kTile, 1);
  const auto two = mapper::cost_gpu_gemm(spec, one_more, kTile, 1);
  ASSERT_TRUE(wave && two);
  EXPECT_EQ(wave->waves, 1u);
  EXPECT_EQ(two->waves, 2u);
  // The last wave holds one block yet costs its SM a whole block: about twice the time
  // (within 5%: the launch and one HBM latency are paid once).
  EXPECT_NEAR(two->cycles / wave->cycles, 2.0, 0.1);
  const double simulated_ratio = static_cast<double>(sim::simulate_gpu_gemm(spec, *two).cycles) /
                                 static_cast<double>(sim::simulate_gpu_gemm(spec, *wave).cycles);
  EXPECT_NEAR(simulated_ratio, 2.0, 0.1);
}

TEST(GpuGemm, SplitKSpeedsUpASkinnyKHeavyShape) {
  const arch::GpuSpec& spec = a100();
  // 2 x 2 output tiles would leave 104 of 108 SMs idle without a split of K.
  const GpuGemm skinny{256, 256, 65536, arch::DType::Bf16};
  const mapper::GpuGemmPlan best = mapper::map_gpu_gemm(spec, skinny);
  EXPECT_GT(best.split_k, 1u);
  const auto unsplit = mapper::cost_gpu_gemm(spec, skinny, best.tile, 1);
  ASSERT_TRUE(unsplit);
  EXPECT_LT(best.cycles * 4, unsplit->cycles);  // at least 4x on this shape (16 splits of 4 tiles)
}

TEST(GpuGemm, NoPlanBeatsTheRoofline) {
  const arch::GpuSpec& spec = a100();
  for (const GpuGemm& g : {GpuGemm{1, 4096, 4096, arch::DType::Bf16}, GpuGemm{64, 12288, 12288, arch::DType::Fp16},
                           GpuGemm{8192, 8192, 8192, arch::DType::Bf16}, GpuGemm{8192, 64, 64, arch::DType::Bf16},
                           GpuGemm{300, 5000, 700, arch::DType::Int8}}) {
    const mapper::GpuGemmPlan plan = mapper::map_gpu_gemm(spec, g);
    const double bytes = static_cast<double>(g.m * g.k + g.k * g.n + g.m * g.n) * arch::bytes_of(g.dtype);
    const double roofline = std::max(static_cast<double>(g.m * g.n * g.k) / spec.peak_macs_per_cycle(g.dtype),
                                     bytes / spec.hbm_peak_bytes_per_cycle());
    EXPECT_GE(plan.cycles, roofline) << g.m << "x" << g.n << "x" << g.k;
    EXPECT_GE(static_cast<double>(sim::simulate_gpu_gemm(spec, plan).cycles), roofline) << g.m << "x" << g.n;
  }
}

TEST(GpuGemm, SimulationAgreesWithThePlanWithoutContention) {
  // Compute-bound: HBM is idle most of the time, so the run is the plan's arithmetic
  // (within 2%: chunks round bytes and times to whole ticks).
  const arch::GpuSpec& spec = a100();
  const mapper::GpuGemmPlan plan = mapper::map_gpu_gemm(spec, {4096, 4096, 4096, arch::DType::Bf16});
  const auto simulated = static_cast<double>(sim::simulate_gpu_gemm(spec, plan).cycles);
  EXPECT_NEAR(simulated / plan.cycles, 1.0, 0.02);
}

TEST(GpuGemm, AStreamedWeightTakesItsBytesAtTheAchievableBandwidth) {
  // M = 1: the weight crosses HBM once; time = launch + bytes / (fraction x peak), within 5%
  // (one HBM latency and the first chunk's edge on top).
  const arch::GpuSpec& spec = a100();
  const double seconds = sim::choose_gpu_gemm(spec, {1, 8192, 8192, arch::DType::Bf16}, 3).run.seconds;
  const double expected =
      spec.launch_overhead_s + 8192.0 * 8192 * 2 / (spec.hbm_bytes_per_second * spec.hbm_achievable_fraction);
  EXPECT_NEAR(seconds / expected, 1.0, 0.05);
}

TEST(GpuGemm, ATileThatOverflowsSharedMemoryDoesNotFit) {
  arch::GpuSpec spec = a100();
  spec.shared_memory_bytes_per_sm = 32 * 1024;  // less than 4 stages of a 128x128x32 bf16 tile (64 KiB)
  const GpuGemm gemm{4096, 4096, 4096, arch::DType::Bf16};
  EXPECT_FALSE(mapper::resident_blocks(spec, kTile, gemm).has_value());
  EXPECT_EQ(*mapper::resident_blocks(a100(), kTile, gemm), 2u);  // 164 KiB / 64 KiB
}

}  // namespace
}  // namespace tessel
