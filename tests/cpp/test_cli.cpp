// The command line as a user's script sees it: files, keys, columns and exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;
const std::string kSource = TESSEL_SOURCE_DIR;

TEST(Cli, RunWritesTheContractedReports) {
  const fs::path out = testing::fresh_dir("cli_run");
  const auto result = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 64,48,80 --out " +
                                          out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("total"), std::string::npos) << "the table is printed";

  const nlohmann::json summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  for (const char* key : {"total_cycles", "compute_cycles", "stall_cycles", "seconds", "utilization", "dram_read_bytes",
                          "dram_write_bytes", "sram_read_bytes", "sram_write_bytes", "energy_pj"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  EXPECT_TRUE(summary["numerics"]["checked"].get<bool>()) << "a small GEMM is checked by default";
  EXPECT_TRUE(summary["numerics"]["passed"].get<bool>());
  EXPECT_EQ(summary["total_cycles"].get<uint64_t>(),
            summary["compute_cycles"].get<uint64_t>() + summary["stall_cycles"].get<uint64_t>());

  const std::string csv = testing::read_text(out / "layers.csv");
  const std::string contracted =
      "layer,M,N,K,total_cycles,compute_cycles,stall_cycles,utilization,mapping_efficiency,"
      "dram_read_bytes,dram_write_bytes,sram_read_bytes,sram_write_bytes,energy_pj";
  EXPECT_EQ(csv.rfind(contracted, 0), 0u) << csv.substr(0, csv.find('\n'));
  EXPECT_NE(csv.find("\ngemm,64,48,80,"), std::string::npos);

  const nlohmann::json stats = nlohmann::json::parse(testing::read_text(out / "stats.json"));
  const nlohmann::json& cycles = stats["stats"]["total_cycles"];
  EXPECT_EQ(cycles["unit"], "cycles");
  EXPECT_FALSE(cycles["description"].get<std::string>().empty());
  EXPECT_EQ(cycles["value"], summary["total_cycles"]);
  fs::remove_all(out);
}

TEST(Cli, NoCheckSkipsTheNumerics) {
  const fs::path out = testing::fresh_dir("cli_nocheck");
  const auto result = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 16,16,16 --no-check --quiet --out " +
                                          out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(result.output.empty()) << "--quiet prints nothing: " << result.output;
  const nlohmann::json summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_FALSE(summary["numerics"]["checked"].get<bool>());
  EXPECT_TRUE(summary["numerics"]["passed"].is_null()) << "an unchecked run has not passed a check";
  fs::remove_all(out);
}

// A flag the run would ignore is a usage error naming it, not a silent exit 0.
TEST(Cli, AFlagThatDoesNotApplyIsRefused) {
  const std::string arch = kSource + "/configs/arch/array_8x8.yaml";
  const auto batch = testing::run_tessel("run --arch " + arch + " --gemm 16,16,16 --batch 4 --quiet");
  EXPECT_EQ(batch.exit_code, 2);
  EXPECT_NE(batch.output.find("--batch applies to a --model run, not to --gemm"), std::string::npos) << batch.output;
  const auto seq = testing::run_tessel("run --arch " + arch + " --model tiny --phase decode --seq 64 --quiet");
  EXPECT_EQ(seq.exit_code, 2);
  EXPECT_NE(seq.output.find("--seq applies to --phase prefill, not to --phase decode"), std::string::npos)
      << seq.output;
  const auto output = testing::run_tessel("run --arch " + arch + " --model tiny --seq 8 --output 4 --quiet");
  EXPECT_EQ(output.exit_code, 2) << "--output applies to --phase generate";
  EXPECT_EQ(testing::run_tessel("run --arch " + arch + " --model tiny --phase decode --kv-len 8 --no-check --quiet")
                .exit_code,
            0);
}

TEST(Cli, BadInputExitsOneNamingTheProblem) {
  const auto missing = testing::run_tessel("run --arch /nonexistent/arch.yaml --gemm 4,4,4");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("/nonexistent/arch.yaml"), std::string::npos) << missing.output;

  const auto dtype = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 4,4,4 --dtype int4");
  EXPECT_EQ(dtype.exit_code, 1);
  EXPECT_NE(dtype.output.find("int4"), std::string::npos) << dtype.output;
}

TEST(Cli, UsageErrorsExitTwo) {
  // A flag's value that does not parse is a usage error like an unknown flag.
  const auto bad_gemm = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 4,x,4");
  EXPECT_EQ(bad_gemm.exit_code, 2);
  EXPECT_NE(bad_gemm.output.find("--gemm"), std::string::npos) << bad_gemm.output;
  EXPECT_EQ(testing::run_tessel("run --arch x.yaml --gemm 1,1,1 --check --no-check").exit_code, 2);
  EXPECT_EQ(testing::run_tessel("run --gemm 1,1,1").exit_code, 2);  // --arch is required
  EXPECT_EQ(testing::run_tessel("--help").exit_code, 0);
}

TEST(Cli, DataflowFlagOverridesTheArchitecture) {
  const fs::path out = testing::fresh_dir("cli_dataflow");
  const auto result = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 32,32,32 --dataflow is --quiet --out " +
                                          out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_EQ(summary["dataflow"], "is");
  fs::remove_all(out);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

TEST(CliMap, PrintsTheLoopNestAndWritesJsonThatRunCanPin) {
  const fs::path json = testing::fresh_dir("cli_map") += ".json";
  const auto map = testing::run_tessel("map --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 96,80,200 --top 3 --json " +
                                       json.string());
  ASSERT_EQ(map.exit_code, 0) << map.output;
  for (const char* part : {"for m in", "for n in", "for k in", "input  block", "searched:", "runners-up:", "4. "}) {
    EXPECT_NE(map.output.find(part), std::string::npos) << part << "\n" << map.output;
  }
  const nlohmann::json result = nlohmann::json::parse(testing::read_text(json));
  EXPECT_EQ(result["alternatives"].size(), 3u);
  EXPECT_TRUE(result["exhaustive"].get<bool>());
  EXPECT_GE(result["space"].get<uint64_t>(), result["considered"].get<uint64_t>());

  // Pinning the mapping reproduces the mapper's estimate as the run's analytic figure.
  const fs::path out = testing::fresh_dir("cli_pinned");
  const auto run = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 96,80,200 --quiet --mapping " +
                                       json.string() + " --out " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json stats = nlohmann::json::parse(testing::read_text(out / "stats.json"));
  const nlohmann::json& mapping = stats["groups"]["layers"]["groups"]["0_gemm"]["groups"]["mapping"]["stats"];
  EXPECT_EQ(mapping["analytic_cycles"]["value"], result["cost"]["estimated_cycles"]);
  EXPECT_EQ(mapping["considered"]["value"], 1);
  fs::remove(json);
  fs::remove_all(out);
}

TEST(CliMap, BadMappingFileNamesFileAndKey) {
  const fs::path json = testing::fresh_dir("cli_badmap") += ".json";
  std::ofstream(json) << R"({"mapping": {"dataflow": "ws", "dtype": "int8", "split": "Q"}})";
  const auto run = testing::run_tessel("run --arch " + kSource + "/configs/arch/array_8x8.yaml --gemm 8,8,8 --mapping " +
                                       json.string());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find(json.string() + ": key 'split'"), std::string::npos) << run.output;
  fs::remove(json);
}

TEST(CliMap, TopologyNeedsALayerName) {
  const auto run = testing::run_tessel("map --arch " + kSource + "/configs/scalesim/os_32x32_64kB.cfg --topology " + kSource +
                                       "/configs/topologies/alexnet.csv");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("Conv1"), std::string::npos) << run.output;
  EXPECT_EQ(testing::run_tessel("map --arch " + kSource + "/configs/scalesim/os_32x32_64kB.cfg --topology " + kSource +
                                "/configs/topologies/alexnet.csv --layer Conv3 --objective edp")
                .exit_code,
            0);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

TEST(CliMap, MapsAnOperatorOfAModel) {
  const auto up = testing::run_tessel("map --arch " + kSource + "/configs/arch/tpu_v4_like.yaml --model gpt3-175b --op mlp.up_proj --top 0");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_NE(up.output.find("C[2048x49152] = A[2048x12288]"), std::string::npos) << up.output;

  const auto vector_op = testing::run_tessel("map --arch " + kSource + "/configs/arch/tpu_v4_like.yaml --model tiny --op attn.softmax");
  EXPECT_EQ(vector_op.exit_code, 1);
  EXPECT_NE(vector_op.output.find("Softmax"), std::string::npos) << vector_op.output;

  const auto unknown = testing::run_tessel("map --arch " + kSource + "/configs/arch/tpu_v4_like.yaml --model tiny --op nope");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("attn.qkv_proj"), std::string::npos) << "lists the operators: " << unknown.output;
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

TEST(CliDescribe, PrintsPublishedPeaks) {
  // TPU v1: 92 TOPS int8 (Jouppi et al. 2017); TPU v4: 275 TFLOP/s bf16 (Jouppi et al. 2023).
  const auto v1 = testing::run_tessel("describe --arch " + kSource + "/configs/arch/tpu_v1.yaml");
  ASSERT_EQ(v1.exit_code, 0) << v1.output;
  EXPECT_NE(v1.output.find("int8  peak 91.75 TFLOP/s"), std::string::npos) << v1.output;
  const auto v4 = testing::run_tessel("describe --arch " + kSource + "/configs/arch/tpu_v4_like.yaml");
  ASSERT_EQ(v4.exit_code, 0) << v4.output;
  EXPECT_NE(v4.output.find("bf16  peak 275.3 TFLOP/s"), std::string::npos) << v4.output;
  EXPECT_NE(v4.output.find("DRAM: 1200 GB/s"), std::string::npos) << v4.output;
  EXPECT_EQ(testing::run_tessel("describe --arch /nonexistent.yaml").exit_code, 1);
}

}  // namespace
}  // namespace tessel
