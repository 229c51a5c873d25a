// GEMM and topology runs on a GPU, and `tessel map` on one: each GEMM is the same kernel a
// transformer's linear is, the reports have the systolic runs' columns and keys, and the
// flags that only a systolic search has are refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "arch/load_arch.h"
#include "cli_runner.h"
#include "mapper/gpu_mapper.h"
#include "run_helpers.h"
#include "test_files.h"
#include "workloads/topology_csv.h"

namespace tessel::sim {
namespace {

arch::GpuSpec a100() { return arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml"); }

RunSettings timing_only() { return testing::timing_only(arch::DType::Bf16); }

// What the GEMM layout's totals are made of.
uint64_t total_compute_cycles(const RunResult& run) {
  uint64_t cycles = 0;
  for (const OpResult& op : run.steps[0].ops) cycles += op.array_busy_cycles;
  return cycles;
}

uint64_t total_stall_cycles(const RunResult& run) {
  uint64_t cycles = 0;
  for (const OpResult& op : run.steps[0].ops) cycles += op.stall_cycles();
  return cycles;
}

// A GEMM of a workload costs what the same product costs as a transformer's linear.
TEST(GpuWorkloadRun, AGemmIsTheLinearKernel) {
  const arch::GpuSpec spec = a100();
  const RunResult run = testing::run_gemms(spec, {"g", {{"g", 512, 1024, 768}}}, timing_only());
  const OpResult linear = testing::run_op(
      spec, workloads::Op("g", workloads::OpKind::Linear, workloads::LinearShape{512, 1024, 768}), timing_only());
  ASSERT_EQ(run.steps[0].ops.size(), 1u);
  EXPECT_EQ(run.steps[0].ops[0].cycles, linear.cycles);
  EXPECT_EQ(run.cycles(), linear.cycles);
  EXPECT_EQ(run.steps[0].ops[0].activity.dram_read_bytes, linear.activity.dram_read_bytes);
}

// A large square GEMM keeps the tensor cores near their sustained rate: its utilization of the
// peak is at most the calibrated main-loop efficiency (0.88), and above 0.8 (19 full waves of
// 128x64 blocks; the launch and the last, partial wave cost the rest).
TEST(GpuWorkloadRun, LargeGemmRunsNearTheSustainedRate) {
  const arch::GpuSpec spec = a100();
  const RunResult run = testing::run_gemms(spec, {"g", {{"g", 4096, 4096, 4096}}}, timing_only());
  const double utilization = static_cast<double>(run.steps[0].macs) /
                             (static_cast<double>(run.cycles()) * spec.peak_macs_per_cycle(arch::DType::Bf16));
  EXPECT_LE(utilization, spec.tensor_efficiency);
  EXPECT_GT(utilization, 0.8);
  EXPECT_LE(total_compute_cycles(run), run.cycles());
  EXPECT_EQ(total_compute_cycles(run) + total_stall_cycles(run), run.cycles());
}

// A topology's GEMMs in order; a shape seen before reuses its run, and the totals add up.
TEST(GpuWorkloadRun, TopologyLayersAddUp) {
  const arch::GpuSpec spec = a100();
  workloads::Graph graph =
      workloads::read_topology_csv(std::string(TESSEL_SOURCE_DIR) + "/configs/topologies/alexnet.csv");
  graph.gemms.push_back(graph.gemms.front());
  const RunResult run = testing::run_gemms(spec, graph, timing_only());
  const std::vector<OpResult>& layers = run.steps[0].ops;
  ASSERT_EQ(layers.size(), graph.gemms.size());
  EXPECT_TRUE(layers.back().reused);
  EXPECT_EQ(layers.back().cycles, layers.front().cycles);
  uint64_t cycles = 0, macs = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    cycles += layers[i].cycles;
    macs += graph.gemms[i].macs();
    EXPECT_GT(layers[i].mapping_efficiency, 0.0);
    EXPECT_LE(layers[i].mapping_efficiency, 1.0);
  }
  EXPECT_EQ(run.cycles(), cycles);
  EXPECT_EQ(run.steps[0].macs, macs);
}

TEST(GpuWorkloadRun, CommandLineWritesTheSystolicColumns) {
  const auto gpu = testing::fresh_dir("gpu_gemm_run");
  const auto systolic = testing::fresh_dir("systolic_gemm_run");
  const auto run =
      testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --gemm 96,80,64 --quiet --out " + gpu.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(testing::run_tessel("run --arch configs/arch/array_8x8.yaml --gemm 96,80,64 --quiet --out " +
                                systolic.string())
                .exit_code,
            0);
  const auto header = [](const std::filesystem::path& dir) {
    return testing::read_lines((dir / "layers.csv").string())[0];
  };
  EXPECT_EQ(header(gpu), header(systolic));
  const auto summary = nlohmann::json::parse(testing::read_text(gpu / "summary.json"));
  const auto reference = nlohmann::json::parse(testing::read_text(systolic / "summary.json"));
  for (const auto& item : reference.items()) EXPECT_TRUE(summary.contains(item.key())) << item.key();
  EXPECT_TRUE(summary["dataflow"].is_null());
  EXPECT_TRUE(summary["numerics"]["checked"].get<bool>());  // small enough: checked against Eigen
  EXPECT_TRUE(summary["numerics"]["passed"].get<bool>());
  EXPECT_NE(testing::read_lines((gpu / "layers.csv").string())[1].find("thread blocks"), std::string::npos);
  std::filesystem::remove_all(gpu);
  std::filesystem::remove_all(systolic);
}

TEST(GpuWorkloadRun, CommandLineRefusesTheSystolicSearchFlags) {
  const auto out = testing::fresh_dir("gpu_refusals");
  std::filesystem::create_directories(out);
  const std::string mapping = (out / "mapping.json").string();
  ASSERT_EQ(testing::run_tessel("map --arch configs/arch/array_8x8.yaml --gemm 64,64,64 --json " + mapping).exit_code, 0);
  const std::string run = "run --arch configs/arch/a100_sxm.yaml --gemm 64,64,64 ";
  for (const std::string& flags : {std::string("--dataflow ws"), std::string("--objective energy"), "--mapping " + mapping}) {
    const auto result = testing::run_tessel(run + flags);
    EXPECT_EQ(result.exit_code, 1) << flags;
    EXPECT_NE(result.output.find(flags.substr(0, flags.find(' '))), std::string::npos) << result.output;
  }
  std::filesystem::remove_all(out);
}

TEST(GpuMap, PrintsThePlanAndWritesItsJson) {
  const auto out = testing::fresh_dir("gpu_map");
  std::filesystem::create_directories(out);
  const std::string json = (out / "plan.json").string();
  const auto result =
      testing::run_tessel("map --arch configs/arch/a100_sxm.yaml --gemm 4096,4096,4096 --top 2 --json " + json);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("mapping: thread blocks"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("runners-up:"), std::string::npos) << result.output;
  const auto plan = nlohmann::json::parse(testing::read_text(json));
  EXPECT_EQ(plan["alternatives"].size(), 2u);
  EXPECT_LE(plan["plan"]["cycles"].get<double>(), plan["alternatives"][0]["cycles"].get<double>());
  // The plan map prints is the one run uses.
  const mapper::GpuGemmPlan used = mapper::map_gpu_gemm(a100(), {4096, 4096, 4096, arch::DType::Bf16});
  EXPECT_EQ(plan["plan"]["tile"]["m"], used.tile.m);
  EXPECT_EQ(plan["plan"]["split_k"], used.split_k);
  std::filesystem::remove_all(out);
  EXPECT_EQ(testing::run_tessel("map --arch configs/arch/a100_sxm.yaml --gemm 64,64,64 --objective edp").exit_code, 1);
}

}  // namespace
}  // namespace tessel::sim
