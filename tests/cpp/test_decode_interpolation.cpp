// Decode steps off the stride are interpolated between simulated ones (sim/op_interpolation.h,
// sim/decode_steps.h). These tests hold the interpolation to its stated bound against runs that
// simulate every step, on each kind of device and both attention forms, and check that the
// steps a run does not keep are rebuilt exactly as the run assembled them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "arch/load_arch.h"
#include "sim/op_interpolation.h"
#include "sim/report/report.h"
#include "tests/cpp/run_helpers.h"
#include <utility>
#include "workloads/model_config.h"

namespace tessel::sim {
namespace {

const std::string kArchDir = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/";

double relative(double value, double reference) { return std::abs(value - reference) / reference; }
double relative(uint64_t value, uint64_t reference) {
  return relative(static_cast<double>(value), static_cast<double>(reference));
}

uint64_t dram_bytes(const arch::Activity& a) { return a.dram_read_bytes + a.dram_write_bytes; }

TEST(OpInterpolation, EndsAreTheSimulatedResultsAndAffineFiguresStayExact) {
  OpResult low;
  low.cycles = 1000;
  low.clock_hz = 1e9;
  low.activity.dram_read_bytes = 4096;
  low.activity.macs = 100;
  low.energy.dram_pj = 10.0;
  low.roofline = {200, 900, 0};
  low.utilization = 0.25;
  OpResult high = low;
  high.cycles = 1300;
  high.activity.dram_read_bytes = 4096 + 3 * 512;
  high.activity.macs = 130;
  high.energy.dram_pj = 16.0;
  high.roofline = {260, 1200, 0};
  high.utilization = 0.5;

  const OpResult at_low = interpolate(low, high, 0.0);
  const OpResult at_high = interpolate(low, high, 1.0);
  EXPECT_EQ(at_low.cycles, low.cycles);
  EXPECT_EQ(at_high.cycles, high.cycles);
  EXPECT_EQ(at_high.activity.dram_read_bytes, high.activity.dram_read_bytes);
  EXPECT_DOUBLE_EQ(at_high.energy.dram_pj, high.energy.dram_pj);
  // One third of the way: figures affine in the cache length land on whole values exactly.
  const OpResult third = interpolate(low, high, 1.0 / 3.0);
  EXPECT_EQ(third.cycles, 1100u);
  EXPECT_EQ(third.activity.dram_read_bytes, 4096u + 512u);
  EXPECT_EQ(third.activity.macs, 110u);
  EXPECT_EQ(third.roofline.cycles(), 1000u);
  EXPECT_NEAR(third.energy.dram_pj, 12.0, 1e-12);
  EXPECT_FALSE(third.numerics.checked);
  EXPECT_THROW(interpolate(low, high, 1.5), std::invalid_argument);
}

struct Case {
  const char* arch;
  workloads::AttentionImpl attention;
};

// The step's figures of a run interpolating off a stride of 64 against the same run simulating
// every step: time, energy and DRAM bytes of each step within kStepBound. Small ops over a
// short cache (a softmax of a few hundred scores) can be off by more on their own; their share
// of a step is what the bound holds.
constexpr double kStepBound = 5e-3;

// Short and long caches, a grouped-query model with a sliding window (mistral) and without, every
// kind of device, both forms of attention. Measured worst: 0.22% (mistral-7b, 3000 cached, on
// the 32x32 array).
TEST(DecodeInterpolation, StepsStayWithinTheStatedBoundOfSimulatingEveryStep) {
  const Case cases[] = {{"tpu_v4_like.yaml", workloads::AttentionImpl::Fused},
                        {"tpu_v4_like.yaml", workloads::AttentionImpl::Unfused},
                        {"a100_sxm.yaml", workloads::AttentionImpl::Fused},
                        {"u280_fp16.yaml", workloads::AttentionImpl::Fused},
                        {"array_32x32.yaml", workloads::AttentionImpl::Unfused}};
  const std::pair<const char*, ModelRequest> runs[] = {{"llama2-7b", testing::generate_request(1, 60, 150)},
                                                        {"mistral-7b", testing::generate_request(2, 3000, 150)}};
  for (const auto& [name, request] : runs) {
    for (const Case& c : cases) {
      const arch::ArchSpec spec = arch::load_arch(kArchDir + c.arch);
      RunSettings every;  // the device's first format
      every.check = CheckMode::Never;
      every.decode_stride = 1;
      RunSettings strided = every;
      strided.decode_stride = 64;
      const workloads::ModelConfig model = workloads::model_preset(name);
      const RunResult exact = testing::run_model(spec, model, request, every, c.attention);
      const RunResult fast = testing::run_model(spec, model, request, strided, c.attention);
      ASSERT_EQ(exact.steps.size(), fast.steps.size());
      for (size_t i = 0; i < exact.steps.size(); ++i) {
        const StepResult& step = fast.steps[i];
        const StepResult& reference = exact.steps[i];
        const std::string what = std::string(name) + " on " + c.arch + ", step " + std::to_string(i);
        EXPECT_LE(relative(step.cycles, reference.cycles), kStepBound) << what;
        EXPECT_LE(relative(step.energy.total_pj(), reference.energy.total_pj()), kStepBound) << what;
        EXPECT_LE(relative(dram_bytes(step.activity), dram_bytes(reference.activity)), kStepBound) << what;
      }
      EXPECT_LE(relative(fast.seconds(), exact.seconds()), kStepBound) << name << " on " << c.arch;
    }
  }
}

// The steps a run keeps as totals are rebuilt, ops and all, as the run assembled them: their ops
// add up to the totals the run kept, and each is marked simulated or interpolated. (A system
// run keeps every step's ops: SystemRun.OneDeviceOfASystemIsTheSingleDeviceRun compares them op
// by op with the rebuilt ones.)
TEST(DecodeInterpolation, StepsNotKeptAreRebuiltAsTheRunAssembledThem) {
  const arch::ArchSpec spec = arch::load_arch(kArchDir + "tpu_v4_like.yaml");
  RunSettings settings;
  settings.check = CheckMode::Never;
  settings.decode_stride = 16;
  const RunResult run =
      testing::run_model(spec, workloads::model_preset("llama2-7b"), testing::generate_request(1, 100, 70), settings);
  size_t simulated = 0;
  size_t interpolated = 0;
  run.for_each_step([&](size_t i, const StepResult& step) {
    ASSERT_FALSE(step.ops.empty()) << i;
    uint64_t cycles = 0;
    for (const OpResult& op : step.ops) cycles += op.cycles * op.repeats;
    EXPECT_EQ(cycles, run.steps[i].cycles) << "step " << i;
    EXPECT_EQ(step.layer_cycles, run.steps[i].layer_cycles) << "step " << i;
    EXPECT_DOUBLE_EQ(step.energy.total_pj(), run.steps[i].energy.total_pj()) << "step " << i;
    if (i < 2) return;
    bool fresh = false;
    bool between = false;
    for (const OpResult& op : step.ops) {
      fresh = fresh || (!op.reused && op.mapping.find("interpolated") == std::string::npos && op.cycles > 0);
      between = between || op.mapping.find("interpolated between") != std::string::npos;
    }
    EXPECT_NE(fresh, between) << "step " << i << ": simulated or interpolated, not both";
    simulated += fresh ? 1 : 0;
    interpolated += between ? 1 : 0;
  });
  // Cache lengths 100 to 169 attend 101 to 170 positions: 112, 128, 144, 160 on the stride of
  // 16, the last, and the midpoints the refinement checks.
  EXPECT_GE(simulated, 5u);
  EXPECT_GT(interpolated, 40u);
}

}  // namespace
}  // namespace tessel::sim
