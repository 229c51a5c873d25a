// Numbers a fuzzer found to crash or hang tessel: every numeric flag has a range, refused with
// exit 2 naming the flag, the value and the range; sizes past what 64 bits count or what a run
// can simulate are refused up front with the reason.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/flag_bounds.h"
#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;
namespace bounds = cli::bounds;

void expect_usage_error(const std::string& arguments, const std::vector<std::string>& named) {
  const auto result = testing::run_tessel(arguments);
  EXPECT_EQ(result.exit_code, 2) << arguments << "\n" << result.output;
  for (const std::string& part : named) {
    EXPECT_NE(result.output.find(part), std::string::npos) << part << "\n" << result.output;
  }
  EXPECT_EQ(result.output.find("should be caught"), std::string::npos) << result.output;
}

TEST(CliBounds, TheCommandLinesThatCrashedExitTwoNamingTheFlag) {
  expect_usage_error("run --arch configs/arch/array_8x8.yaml --gemm 16,16,16 --confirm 18446744073709551615",
                     {"--confirm", "18446744073709551615", "[1, 1000]"});
  expect_usage_error("run --arch configs/arch/tpu_v4_like.yaml --model tiny --seq -1",
                     {"--seq", "-1", "[1, 10000000]"});
  expect_usage_error("run --arch configs/arch/tpu_v4_like.yaml --model tiny --batch -1", {"--batch", "-1"});
  expect_usage_error("run --arch configs/arch/tpu_v4_like.yaml --gemm 18446744073709551615,1,1",
                     {"--gemm", "18446744073709551615", "[1, 10000000]"});
  expect_usage_error("run --arch configs/arch/a100_sxm.yaml --model tiny --seq -1", {"--seq", "-1"});
  expect_usage_error("map --arch configs/arch/array_8x8.yaml --gemm 16,16,16 --top 18446744073709551615", {"--top"});
}

struct BoundedFlag {
  std::string command;  // the subcommand and the flags it needs besides the one tested
  cli::CountBound bound;
};

// Below the least value, above the greatest, and negative: refused, never wrapped.
TEST(CliBounds, EveryWholeNumberFlagRefusesValuesOutsideItsRange) {
  const std::string run = "run --arch configs/arch/tpu_v4_like.yaml --model tiny";
  const std::string train = "train --arch configs/arch/a100_sxm.yaml --model tiny";
  const std::string map = "map --arch configs/arch/array_8x8.yaml --model tiny --op mlp.up_proj";
  const std::vector<BoundedFlag> flags = {
      {run, bounds::kBatch}, {run, bounds::kSeq}, {run, bounds::kKvLen}, {run, bounds::kInput}, {run, bounds::kOutput},
      {run, bounds::kConfirm}, {run, bounds::kSeed}, {run, bounds::kTp}, {run, bounds::kPp}, {run, bounds::kDp},
      {run, bounds::kEp}, {run, bounds::kMicrobatches},
      {map, bounds::kBatch}, {map, bounds::kSeq}, {map, bounds::kKvLen}, {map, bounds::kSeed}, {map, bounds::kTop},
      {train, bounds::kGlobalBatch}, {train, bounds::kMicroBatch}, {train, bounds::kSeq}, {train, bounds::kTp},
      {train, bounds::kPp}, {train, bounds::kDp}, {train, bounds::kEp}, {train, bounds::kChunks},
      {train, bounds::kZero}, {train, bounds::kLoraRank}, {train, bounds::kSeed}, {train, bounds::kConfirm},
      {train, bounds::kSearchFull}, {train, bounds::kSearchShow}, {train, bounds::kSearchJobs},
      {"sweep --spec configs/sweeps/tpu_v4_dram_bandwidth.yaml", bounds::kSweepJobs}};
  for (const BoundedFlag& f : flags) {
    const std::string flag = f.bound.flag;
    std::vector<std::string> bad = {"-1", "1x"};
    if (f.bound.min > 0) bad.push_back(std::to_string(f.bound.min - 1));
    bad.push_back(f.bound.max < UINT64_MAX ? std::to_string(f.bound.max + 1) : "18446744073709551616");
    for (const std::string& value : bad) {
      expect_usage_error(f.command + " " + flag + " " + value,
                         {flag + ": " + value, "[" + std::to_string(f.bound.min)});
    }
  }
}

TEST(CliBounds, RealFlagsRefuseValuesOutsideTheirRangeAndNaN) {
  for (const char* command : {"run --arch configs/arch/tpu_v4_like.yaml --model tiny-moe",
                              "train --arch configs/arch/a100_sxm.yaml --model tiny-moe"}) {
    for (const char* value : {"nan", "inf", "0.5", "-1", "1e7"}) {
      expect_usage_error(std::string(command) + " --expert-skew " + value, {"--expert-skew", "[1, 1e+06]"});
    }
  }
}

TEST(CliBounds, GemmSizesAreBoundedAndTheirProductCountable) {
  expect_usage_error("run --arch configs/arch/array_8x8.yaml --gemm 16,-1,16", {"--gemm", "-1"});
  expect_usage_error("run --arch configs/arch/array_8x8.yaml --gemm 10000000,10000000,10000000",
                     {"--gemm", "FLOPs", "2^62"});
  expect_usage_error("map --arch configs/arch/array_8x8.yaml --gemm 16,16,10000001", {"--gemm", "10000001"});
}

TEST(CliBounds, ASweepsRunSectionIsCheckedAsTheCommandLineIs) {
  const std::string spec = "arch: " + std::string(TESSEL_SOURCE_DIR) +
                           "/configs/arch/array_8x8.yaml\nvary:\n  array.rows: [4]\nrun:\n  gemm: 16,16,16\n";
  const testing::TempFile confirm("sweep_confirm.yaml", spec + "  confirm: 18446744073709551615\n");
  const auto refused = testing::run_tessel("sweep --spec " + confirm.path);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("key 'run': --confirm: 18446744073709551615"), std::string::npos) << refused.output;

  const testing::TempFile help("sweep_help.yaml", spec + "  help: true\n");
  const auto helped = testing::run_tessel("sweep --spec " + help.path);
  EXPECT_EQ(helped.exit_code, 1) << helped.output;
  EXPECT_NE(helped.output.find("key 'run.help'"), std::string::npos) << helped.output;
  EXPECT_EQ(helped.output.find("should be caught"), std::string::npos) << helped.output;
}

TEST(CliBounds, ZeroPaddedNumbersAreDecimal) {
  const fs::path out = testing::fresh_dir("cli_decimal");
  const auto result = testing::run_tessel(
      "run --arch configs/arch/tpu_v4_like.yaml --model tiny --seq 010 --no-check --quiet --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_EQ(summary["request"]["seq"], 10) << "not octal 8";
  fs::remove_all(out);
}

// Sizes within every flag's range whose products would overflow, or whose simulation would
// take hours, are refused before any simulation starts (exit 1, with the reason).
TEST(CliBounds, HugeRequestsAreRefusedUpFrontWithTheReason) {
  const auto gemm = testing::run_tessel("run --arch configs/arch/tpu_v4_like.yaml --gemm 1000000,1000000,1000000");
  EXPECT_EQ(gemm.exit_code, 1) << gemm.output;
  EXPECT_NE(gemm.output.find("gemm (1000000x1000000x1000000): its simulation would take"), std::string::npos)
      << gemm.output;

  const auto gpu = testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --gemm 1000000,1000000,1000000");
  EXPECT_EQ(gpu.exit_code, 1) << gpu.output;
  EXPECT_NE(gpu.output.find("transactions"), std::string::npos) << gpu.output;

  const auto prefill =
      testing::run_tessel("run --arch configs/arch/tpu_v4_like.yaml --model llama2-7b --batch 100000 --seq 1000000");
  EXPECT_EQ(prefill.exit_code, 1) << prefill.output;
  EXPECT_NE(prefill.output.find("prefill batch 100000, 1000000 tokens: about"), std::string::npos) << prefill.output;
  EXPECT_NE(prefill.output.find("FLOPs"), std::string::npos) << prefill.output;

  const auto op = testing::run_tessel(
      "run --arch configs/arch/array_8x8.yaml --model llama2-7b --batch 16 --seq 1000 --no-check --quiet");
  EXPECT_EQ(op.exit_code, 1) << op.output;
  EXPECT_NE(op.output.find("(16000x22016x4096): its simulation would take"), std::string::npos) << op.output;

  // Every step simulated: interpolation between steps 64 cache positions apart makes this run
  // a few seconds' work.
  const auto decode = testing::run_tessel("run --arch configs/arch/tpu_v4_like.yaml --model llama2-7b --phase generate "
                                          "--input 1000000 --output 100000 --decode-stride 1 --no-check --quiet");
  EXPECT_EQ(decode.exit_code, 1) << decode.output;
  EXPECT_NE(decode.output.find("99999 decode steps"), std::string::npos) << decode.output;
}

TEST(CliBounds, ErrorsOfCli11NameTheFlag) {
  expect_usage_error("run --arch configs/arch/tpu_v4_like.yaml --model tiny --seq abc", {"--seq", "abc"});
  expect_usage_error("run --arch configs/arch/array_8x8.yaml --gemm 4,x,4", {"--gemm", "'x'"});
}

}  // namespace
}  // namespace tessel
