// `tessel --version`, and which tessel wrote each summary.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "cli_runner.h"
#include "sim/report/build_info.h"
#include "sim/report/plan_layout.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

TEST(Version, PrintsTheVersionAndTheCommit) {
  const auto result = testing::run_tessel("--version");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(std::regex_match(result.output,
                               std::regex(R"(tessel \d+\.\d+\.\d+ \(commit ([0-9a-f]{40}(-dirty)?|unknown)\)\n)")))
      << result.output;
  EXPECT_EQ(result.output, "tessel " + sim::tessel_version() + " (commit " + sim::tessel_commit() + ")\n");
}

TEST(Version, EverySummaryRecordsIt) {
  const fs::path run = testing::fresh_dir("cli_version_run");
  const fs::path train = testing::fresh_dir("cli_version_train");
  ASSERT_EQ(testing::run_tessel("run --arch configs/arch/array_8x8.yaml --gemm 8,8,8 --quiet --out " + run.string())
                .exit_code,
            0);
  ASSERT_EQ(testing::run_tessel("train --arch configs/arch/a100_sxm.yaml --model tiny --global-batch 2 --no-check "
                                "--quiet --out " +
                                train.string())
                .exit_code,
            0);
  for (const fs::path& dir : {run, train}) {
    const nlohmann::json summary = nlohmann::json::parse(testing::read_text(dir / "summary.json"));
    EXPECT_EQ(summary["tessel_version"], sim::tessel_version()) << dir;
    EXPECT_EQ(summary["tessel_commit"], sim::tessel_commit()) << dir;
    fs::remove_all(dir);
  }
  const nlohmann::json plans = sim::plans_summary_json({}, {});
  EXPECT_EQ(plans["tessel_version"], sim::tessel_version());
  EXPECT_EQ(plans["tessel_commit"], sim::tessel_commit());
}

}  // namespace
}  // namespace tessel
