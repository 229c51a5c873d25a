// A sweep split into shards (--shard i/N, one job of an array each) and joined again (--merge)
// makes the table one run of the whole sweep makes, byte for byte; a merge refuses a missing
// shard and another sweep's directory, and a shard that names no slice is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

const std::string kArch = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/array_8x8.yaml";

// Eight points; the 2-row arrays with 200-wide GEMMs fail nothing, each point a few milliseconds.
std::string sweep(const std::string& rows) {
  return "arch: " + kArch + "\nvary:\n  array.rows: " + rows +
         "\n  array.cols: [4, 8]\nrun:\n  gemm: 200,200,200\n  no-check: true\n";
}

size_t lines(const std::string& text) {
  size_t count = 0;
  for (const char c : text) count += c == '\n' ? 1 : 0;
  return count;
}

TEST(SweepShards, MergedShardsMakeTheTableOfOneRunByteForByte) {
  const testing::TempFile spec("shards.yaml", sweep("[2, 3, 4, 5]"));
  const fs::path whole = testing::fresh_dir("sweep_shards_whole");
  ASSERT_EQ(testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + whole.string()).exit_code, 0);
  const std::string table = testing::read_text(whole / "sweep.csv");
  ASSERT_EQ(lines(table), 9u) << table;

  std::string dirs;
  for (int i = 0; i < 3; ++i) {
    const fs::path dir = testing::fresh_dir("sweep_shard_" + std::to_string(i));
    const testing::CliResult shard = testing::run_tessel("sweep --quiet --spec " + spec.path + " --shard " +
                                                         std::to_string(i) + "/3 --out " + dir.string());
    ASSERT_EQ(shard.exit_code, 0) << shard.output;
    // Points 0, 3, 6 / 1, 4, 7 / 2, 5: the header and its rows.
    EXPECT_EQ(lines(testing::read_text(dir / "sweep.csv")), i < 2 ? 4u : 3u) << i;
    dirs += " " + dir.string();
  }
  const fs::path merged = testing::fresh_dir("sweep_shards_merged");
  const testing::CliResult merge =
      testing::run_tessel("sweep --quiet --spec " + spec.path + " --merge" + dirs + " --out " + merged.string());
  ASSERT_EQ(merge.exit_code, 0) << merge.output;
  EXPECT_EQ(testing::read_text(merged / "sweep.csv"), table);
  for (int point = 0; point < 8; ++point) {
    EXPECT_TRUE(fs::exists(merged / "points" / std::to_string(point) / "summary.json")) << point;
  }
  // The merged directory is the whole sweep's: the same command finds every point finished.
  const testing::CliResult again = testing::run_tessel("sweep --spec " + spec.path + " --out " + merged.string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("8 of 8 points finished by an earlier run"), std::string::npos) << again.output;
  // Without --out the merged table goes to stdout.
  const testing::CliResult printed = testing::run_tessel("sweep --quiet --spec " + spec.path + " --merge" + dirs);
  ASSERT_EQ(printed.exit_code, 0) << printed.output;
  EXPECT_EQ(printed.output, table);
}

TEST(SweepShards, AMergeRefusesAMissingShardAndAnotherSweep) {
  const testing::TempFile spec("shards_missing.yaml", sweep("[2, 3]"));
  const testing::TempFile other("shards_other.yaml", sweep("[4, 5]"));
  const fs::path first = testing::fresh_dir("sweep_shards_first");
  ASSERT_EQ(testing::run_tessel("sweep --quiet --spec " + spec.path + " --shard 0/2 --out " + first.string()).exit_code,
            0);
  const testing::CliResult missing =
      testing::run_tessel("sweep --quiet --spec " + spec.path + " --merge " + first.string());
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find("2 of the 4 points are in none of the directories (point 1: array.rows=2 "
                                "array.cols=8)"),
            std::string::npos)
      << missing.output;

  const fs::path foreign = testing::fresh_dir("sweep_shards_foreign");
  ASSERT_EQ(
      testing::run_tessel("sweep --quiet --spec " + other.path + " --shard 1/2 --out " + foreign.string()).exit_code,
      0);
  const testing::CliResult mixed =
      testing::run_tessel("sweep --quiet --spec " + spec.path + " --merge " + first.string() + " " + foreign.string());
  EXPECT_EQ(mixed.exit_code, 1) << mixed.output;
  EXPECT_NE(mixed.output.find(foreign.string() + " holds the points of another sweep"), std::string::npos)
      << mixed.output;
}

TEST(SweepShards, AShardNamesOneSliceAndKeepsItsPoints) {
  const testing::TempFile spec("shards_flags.yaml", sweep("[2, 3]"));
  const fs::path out = testing::fresh_dir("sweep_shards_flags");
  for (const char* bad : {"2/2", "1", "a/2", "0/0", "-1/2", "1/2/3"}) {
    const testing::CliResult result =
        testing::run_tessel("sweep --quiet --spec " + spec.path + " --shard " + bad + " --out " + out.string());
    EXPECT_EQ(result.exit_code, 1) << bad << ": " << result.output;
    EXPECT_NE(result.output.find("--shard '" + std::string(bad) + "'"), std::string::npos) << result.output;
  }
  const testing::CliResult no_out = testing::run_tessel("sweep --quiet --spec " + spec.path + " --shard 0/2");
  EXPECT_EQ(no_out.exit_code, 1) << no_out.output;
  EXPECT_NE(no_out.output.find("--shard needs --out"), std::string::npos) << no_out.output;
  const testing::CliResult both =
      testing::run_tessel("sweep --quiet --spec " + spec.path + " --shard 0/2 --merge " + out.string());
  EXPECT_EQ(both.exit_code, 2) << "usage: " << both.output;
  const testing::CliResult jobs =
      testing::run_tessel("sweep --quiet --spec " + spec.path + " --jobs 2 --merge " + out.string());
  EXPECT_EQ(jobs.exit_code, 2) << "a merge runs nothing: " << jobs.output;
}

}  // namespace
}  // namespace tessel
