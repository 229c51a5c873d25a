// A device's power: static energy over the time it runs, and the clock its power limit allows
// (arch/power.h), on the GPU configs that carry a `power:` block.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "arch/power.h"
#include "run_helpers.h"
#include "sim/system/run_system.h"

namespace tessel::sim {
namespace {

const std::string kSource = TESSEL_SOURCE_DIR;

arch::GpuSpec gpu(const std::string& file) { return arch::load_gpu_spec(kSource + "/configs/arch/" + file); }

OpResult gemm(const arch::GpuSpec& spec, uint64_t size, arch::DType dtype) {
  const workloads::Op op("g", workloads::OpKind::Linear, workloads::LinearShape{size, size, size});
  return testing::run_op(spec, op, testing::timing_only(dtype));
}

double seconds_per_mac(const OpResult& result) { return result.seconds() / static_cast<double>(result.activity.macs); }

TEST(PowerLimit, Fp8TimePerMacOnAPowerLimitedH100ExceedsHalfTheBf16Time) {
  const arch::GpuSpec h100 = gpu("h100_sxm.yaml");
  const OpResult bf16 = gemm(h100, 8192, arch::DType::Bf16);
  const OpResult fp8 = gemm(h100, 8192, arch::DType::Fp8);
  // Twice the MACs a cycle, but not twice the MACs a watt: the clock drops to fit 700 W.
  EXPECT_LT(fp8.core_hz(), 0.95 * h100.clock_hz);
  EXPECT_GT(seconds_per_mac(fp8), 0.5 * seconds_per_mac(bf16) * 1.05);
  // Without the limit the same GEMM runs at the nominal clock, at about half bf16's time (the
  // edges of each tile and the HBM stream do not halve: within 10%).
  arch::GpuSpec unlimited = h100;
  unlimited.power->limit_w.reset();
  const OpResult free = gemm(unlimited, 8192, arch::DType::Fp8);
  EXPECT_EQ(free.core_hz(), h100.clock_hz);
  EXPECT_NEAR(seconds_per_mac(free) / seconds_per_mac(bf16), 0.5, 0.05);
}

TEST(PowerLimit, APowerCappedKernelStaysUnderTheCap) {
  for (const double cap : {700.0, 500.0, 300.0}) {
    arch::GpuSpec h100 = gpu("h100_sxm.yaml");
    h100.power->limit_w = cap;
    const OpResult result = gemm(h100, 8192, arch::DType::Fp8);
    EXPECT_LE(result.power_w(), cap) << cap;
    // The search settles within 0.5% of the cap (arch/power.cpp), and a lower cap a lower clock.
    EXPECT_GE(result.power_w(), 0.99 * cap) << cap;
  }
  arch::GpuSpec h100 = gpu("h100_sxm.yaml");
  h100.power->limit_w = 500;
  const double at_500 = gemm(h100, 8192, arch::DType::Fp8).core_hz();
  h100.power->limit_w = 300;
  EXPECT_LT(gemm(h100, 8192, arch::DType::Fp8).core_hz(), at_500);
}

TEST(PowerLimit, AMemoryBoundKernelKeepsItsClockAndItsStaticEnergyFollowsItsTime) {
  const arch::GpuSpec a100 = gpu("a100_sxm.yaml");
  const workloads::Op decode("g", workloads::OpKind::Linear, workloads::LinearShape{1, 8192, 8192});
  const OpResult result = testing::run_op(a100, decode, testing::timing_only(arch::DType::Bf16));
  EXPECT_EQ(result.core_hz(), a100.clock_hz);
  EXPECT_LT(result.power_w(), *a100.power->limit_w);
  // Static energy is the static power over the op's time, exactly (to rounding).
  EXPECT_NEAR(result.energy.static_pj, a100.power->static_w * result.seconds() * 1e12, 1e-6 * result.energy.static_pj);
}

TEST(PowerLimit, ASystolicArrayDrawsItsStaticPowerOverEachOpsTime) {
  arch::SystolicSpec spec = arch::load_systolic_spec(kSource + "/configs/arch/array_32x32.yaml");
  const workloads::Op op("g", workloads::OpKind::Linear, workloads::LinearShape{256, 512, 512});
  const OpResult dynamic = testing::run_op(spec, op, testing::timing_only(arch::DType::Int8));
  EXPECT_EQ(dynamic.energy.static_pj, 0.0);
  spec.power = arch::PowerSpec{2.0, 3.0, std::nullopt};
  const OpResult powered = testing::run_op(spec, op, testing::timing_only(arch::DType::Int8));
  EXPECT_EQ(powered.cycles, dynamic.cycles);  // the clock stays
  EXPECT_NEAR(powered.energy.static_pj, 3.0 * powered.seconds() * 1e12, 1e-9 * powered.energy.static_pj);
  EXPECT_DOUBLE_EQ(powered.energy.total_pj() - powered.energy.static_pj, dynamic.energy.total_pj());
}

TEST(PowerLimit, EveryDeviceOfASystemDrawsStaticPowerForTheWholeRun) {
  // Two A100s of a DGX node sharing Llama-2-7B's layers wait on their all-reduces: static power
  // runs on through the waits, so the run's static energy is both devices' over its whole time.
  const arch::SystemSpec node = arch::load_system(kSource + "/configs/systems/dgx_a100.yaml");
  ParallelPlan plan;
  plan.tensor = 2;
  const SystemRunResult run = run_system(
      node, ModelWorkload{workloads::model_preset("llama2-7b"), testing::prefill_request(1, 512)}, plan,
      testing::timing_only(arch::DType::Bf16));
  ASSERT_TRUE(run.device.power.has_value());
  const double expected = run.device.power->static_w * run.seconds() * 2 * 1e12;
  EXPECT_NEAR(run.energy().static_pj, expected, 1e-9 * expected);
  double compute_static = 0;
  for (const StepResult& step : run.stages.front().run.steps) compute_static += step.energy.static_pj;
  EXPECT_LT(compute_static * 2, expected);  // the ops alone leave out the time on the links
}

TEST(PowerLimit, ALowerClockSavesCoreEnergyAsTheSquareOfTheClock) {
  EXPECT_DOUBLE_EQ(arch::core_energy_scale(1.0e9, 2.0e9), 0.25);
  // A capped GEMM's MAC energy is the nominal MAC energy times that scale.
  const arch::GpuSpec h100 = gpu("h100_sxm.yaml");
  const OpResult fp8 = gemm(h100, 8192, arch::DType::Fp8);
  const double nominal_pj = static_cast<double>(fp8.activity.macs) * h100.tensor_mac_pj(arch::DType::Fp8);
  EXPECT_NEAR(fp8.energy.mac_pj, nominal_pj * arch::core_energy_scale(fp8.core_hz(), h100.clock_hz),
              1e-9 * nominal_pj);
}

TEST(PowerLimit, TheSearchFindsTheHighestClockWithinTheLimit) {
  // P(f) = 100 W + 600 W (f / 1 GHz)^3 meets 400 W at f = 0.5^(1/3) GHz.
  const arch::PowerSpec power{50, 100, 400.0};
  const auto cubic = [](double f) { return 100 + 600 * std::pow(f / 1e9, 3); };
  const double hz = arch::power_limited_clock(power, 1e9, cubic);
  const double exact = 1e9 * std::cbrt(0.5);
  EXPECT_LE(hz, exact);
  EXPECT_GT(hz, 0.99 * exact);  // 0.5% of the limit in power is ~0.4% of the clock here
  EXPECT_EQ(arch::power_limited_clock(power, 1e9, [](double) { return 399.0; }), 1e9);
  EXPECT_THROW(arch::power_limited_clock(power, 1e9, [](double) { return 401.0; }), std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
