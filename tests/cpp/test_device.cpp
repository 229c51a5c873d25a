// The one device interface: every kind of hardware states its facts and runs any operator, in
// cycles of its own clock and in seconds; settings it cannot honour are refused naming the flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "arch/load_arch.h"
#include "run_helpers.h"
#include "sim/device.h"

namespace tessel::sim {
namespace {

namespace fs = std::filesystem;
using workloads::Op;
using workloads::OpKind;

const std::string kSource = TESSEL_SOURCE_DIR;

std::unique_ptr<Device> device_of(const std::string& file) { return make_device(arch::load_arch(kSource + file)); }

// Published peaks, from each file's own figures: TPU v4 2 cores x 4 MXUs of 128x128; A100 108
// SMs x 1024 bf16 MACs a cycle; their DRAM bandwidth and capacity.
TEST(Device, FactsComeFromTheSpecOfEachKind) {
  const auto tpu = device_of("/configs/arch/tpu_v4_like.yaml");
  EXPECT_EQ(tpu->facts().kind, "systolic");
  EXPECT_DOUBLE_EQ(tpu->facts().peak_macs_per_cycle(arch::DType::Bf16), 2.0 * 4 * 128 * 128);
  EXPECT_DOUBLE_EQ(*tpu->facts().dram_bytes_per_cycle(), 1200e9 / 1050e6);
  EXPECT_EQ(tpu->facts().dram_capacity_bytes(), std::optional<uint64_t>(uint64_t{32} << 30));
  EXPECT_EQ(tpu->facts().dataflow, std::optional<std::string>("ws"));
  ASSERT_EQ(tpu->facts().memories.size(), 3u);
  EXPECT_EQ(tpu->facts().memories[0].name, "vmem");

  const auto a100 = device_of("/configs/arch/a100_sxm.yaml");
  EXPECT_EQ(a100->facts().kind, "gpu");
  EXPECT_DOUBLE_EQ(a100->facts().peak_macs_per_cycle(arch::DType::Bf16), 1024.0 * 108);
  EXPECT_EQ(a100->facts().dram_capacity_bytes(), std::optional<uint64_t>(uint64_t{80} << 30));
  EXPECT_FALSE(a100->facts().dataflow);
  EXPECT_FALSE(a100->facts().supports(arch::DType::Fp32));
  EXPECT_THROW(a100->facts().peak_macs_per_cycle(arch::DType::Fp32), std::invalid_argument);

  const auto unlimited = device_of("/configs/scalesim/os_128x128_calc.cfg");
  EXPECT_FALSE(unlimited->facts().dram_bytes_per_cycle()) << "SCALE-Sim's CALC mode has no bandwidth limit";
}

// Every shipped architecture runs a linear and a softmax through the same call: whole cycles
// of its clock, the seconds they make, never under the roofline.
TEST(Device, EveryShippedArchitectureRunsOps) {
  const Op linear("l", OpKind::Linear, workloads::LinearShape{64, 256, 128});
  const Op softmax("s", OpKind::Softmax, workloads::SoftmaxShape{64, 512, true});
  int devices = 0;
  for (const char* folder : {"/configs/arch", "/configs/scalesim"}) {
    for (const fs::directory_entry& entry : fs::directory_iterator(kSource + folder)) {
      SCOPED_TRACE(entry.path().string());
      const std::unique_ptr<Device> device = make_device(arch::load_arch(entry.path().string()));
      RunSettings settings;
      settings.check = CheckMode::Never;
      settings = device->configure(settings);
      for (const Op& op : {linear, softmax}) {
        const OpResult result = device->run(op, settings);
        EXPECT_GT(result.cycles, 0u) << op.name;
        EXPECT_EQ(result.clock_hz, device->facts().clock_hz);
        EXPECT_DOUBLE_EQ(result.seconds(), static_cast<double>(result.cycles) / device->facts().clock_hz);
        EXPECT_GE(result.cycles, result.roofline.cycles()) << op.name;
      }
      ++devices;
    }
  }
  EXPECT_GE(devices, 12);
}

// A GEMM of a GEMM workload is the same op a model's linear is: one driver runs both.
TEST(Device, AGemmLayerIsALinearOp) {
  for (const char* file : {"/configs/arch/tpu_v4_like.yaml", "/configs/arch/a100_sxm.yaml"}) {
    const arch::ArchSpec spec = arch::load_arch(kSource + file);
    const RunSettings settings = testing::timing_only(arch::DType::Bf16);
    const RunResult run = testing::run_gemms(spec, {"g", {{"g", 200, 640, 384}}}, settings);
    const OpResult op = testing::run_op(spec, Op("g", OpKind::Linear, workloads::LinearShape{200, 640, 384}), settings);
    ASSERT_EQ(run.steps.size(), 1u);
    EXPECT_EQ(run.steps[0].ops.at(0).cycles, op.cycles) << file;
    EXPECT_EQ(run.steps[0].ops[0].mapping, op.mapping) << file;
    EXPECT_DOUBLE_EQ(run.seconds(), op.seconds()) << file;
  }
}

std::string refusal(Device& device, RunSettings settings) {
  try {
    device.configure(settings);
  } catch (const SettingError& error) {
    return error.what();
  }
  return "";
}

// What a kind cannot honour is refused by that kind's implementation, naming the flag.
TEST(Device, SettingsAKindCannotHonourAreRefused) {
  const auto a100 = device_of("/configs/arch/a100_sxm.yaml");
  RunSettings dataflow;
  dataflow.dataflow = arch::Dataflow::OutputStationary;
  EXPECT_EQ(refusal(*a100, dataflow), "--dataflow: a GPU has no dataflow to choose");
  RunSettings objective;
  objective.objective = mapper::Objective::Energy;
  EXPECT_EQ(refusal(*a100, objective), "--objective energy: a GPU's mapper minimises latency only");
  RunSettings fp32;
  fp32.dtype = arch::DType::Fp32;
  EXPECT_NE(refusal(*a100, fp32).find("--dtype fp32"), std::string::npos);

  const auto tpu = device_of("/configs/arch/tpu_v4_like.yaml");
  RunSettings fp8;
  fp8.dtype = arch::DType::Fp8;
  EXPECT_NE(refusal(*tpu, fp8).find("does not list it under dtypes"), std::string::npos);
  EXPECT_EQ(tpu->configure({}).dtype, std::optional<arch::DType>(arch::DType::Bf16)) << "the first format listed";
  // A dataflow override changes the device itself, and what it says of itself.
  tpu->configure(dataflow);
  EXPECT_EQ(tpu->facts().dataflow, std::optional<std::string>("os"));
}

}  // namespace
}  // namespace tessel::sim
