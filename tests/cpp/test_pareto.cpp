// Pareto fronts: the rows no other row beats in every objective at once, by the objectives'
// directions; from the command line, pareto.csv beside a sweep's table.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "cli/pareto.h"
#include "cli_runner.h"
#include "test_files.h"

namespace tessel::cli {
namespace {

namespace fs = std::filesystem;

TEST(Pareto, TheFrontIsTheRowsNoOtherBeatsInEveryObjective) {
  const std::vector<Goal> min_min = {Goal::Minimize, Goal::Minimize};
  // (time, energy): 0 and 2 trade off, 1 is beaten by 0 in both, 3 ties 0 in time and loses in
  // energy, 4 equals 2 (neither beats the other), 5 lacks a value.
  const std::vector<std::vector<double>> rows = {{1, 5}, {2, 6}, {3, 1}, {1, 7}, {3, 1}, {0.5, std::nan("")}};
  EXPECT_EQ(pareto_front(rows, min_min), (std::vector<size_t>{0, 2, 4}));
  // Maximizing the second column instead: more energy is better, so 3 (time 1, 7) beats 0.
  EXPECT_EQ(pareto_front(rows, {Goal::Minimize, Goal::Maximize}), (std::vector<size_t>{3}));
  // Three objectives: a row best in the third alone joins the front.
  const std::vector<std::vector<double>> three = {{1, 5, 9}, {2, 6, 1}, {3, 1, 9}};
  EXPECT_EQ(pareto_front(three, {Goal::Minimize, Goal::Minimize, Goal::Minimize}), (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(pareto_front({}, min_min).empty());
}

TEST(Pareto, ObjectivesSayTheirDirection) {
  const std::vector<Objective> objectives = parse_objectives("seconds,tokens_per_s,energy_pj:max");
  ASSERT_EQ(objectives.size(), 3u);
  EXPECT_EQ(objectives[0].goal, Goal::Minimize);
  EXPECT_EQ(objectives[1].goal, Goal::Maximize) << "a rate: more is better";
  EXPECT_EQ(objectives[2].goal, Goal::Maximize);
  EXPECT_EQ(parse_objectives("tokens_per_s:min,seconds")[0].goal, Goal::Minimize);
  for (const char* bad : {"seconds", "a,b,c,d", "seconds,seconds", "seconds:up,energy_pj", ",seconds"}) {
    EXPECT_THROW(parse_objectives(bad), FlagError) << bad;
  }
}

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream text(testing::read_text(path));
  for (std::string line; std::getline(text, line);) {
    std::vector<std::string>& row = rows.emplace_back();
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) row.push_back(cell);
  }
  return rows;
}

// A sweep of arrays and bandwidths: pareto.csv holds the rows of sweep.csv that no other row
// beats in both time and energy, fastest first, and every row left out is beaten by one of them.
TEST(Pareto, ASweepWritesItsFrontBesideTheTable) {
  const std::string arch = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/array_8x8.yaml";
  const testing::TempFile spec("pareto.yaml", "arch: " + arch +
                                                  "\nvary:\n  array.rows: [2, 4, 8]\n  array.cols: [2, 4, 8]\n"
                                                  "  dram.bandwidth_gb_s: [4, 16]\nrun:\n  gemm: 64,96,128\n"
                                                  "  no-check: true\n");
  const fs::path out = testing::fresh_dir("pareto_sweep");
  const testing::CliResult result = testing::run_tessel("sweep --quiet --spec " + spec.path +
                                                        " --pareto seconds,energy_pj --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto table = read_csv(out / "sweep.csv");
  const auto front = read_csv(out / "pareto.csv");
  ASSERT_EQ(front.front(), table.front()) << "the same columns";
  ASSERT_GE(front.size(), 2u);
  const auto column = [&](const std::string& name) {
    return static_cast<size_t>(std::find(table.front().begin(), table.front().end(), name) - table.front().begin());
  };
  const size_t seconds = column("seconds");
  const size_t energy = column("energy_pj");
  const auto beats = [&](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    const double as = std::stod(a[seconds]), bs = std::stod(b[seconds]);
    const double ae = std::stod(a[energy]), be = std::stod(b[energy]);
    return as <= bs && ae <= be && (as < bs || ae < be);
  };
  for (size_t i = 1; i < front.size(); ++i) {
    if (i > 1) {
      EXPECT_LE(std::stod(front[i - 1][seconds]), std::stod(front[i][seconds])) << "fastest first";
    }
    for (size_t r = 1; r < table.size(); ++r) EXPECT_FALSE(beats(table[r], front[i])) << "row " << r;
  }
  for (size_t r = 1; r < table.size(); ++r) {
    bool on_front = false;
    bool beaten = false;
    for (size_t i = 1; i < front.size(); ++i) {
      on_front = on_front || front[i] == table[r];
      beaten = beaten || beats(front[i], table[r]);
    }
    EXPECT_TRUE(on_front || beaten) << "row " << r;
  }

  const testing::CliResult unknown =
      testing::run_tessel("sweep --quiet --spec " + spec.path + " --pareto seconds,joules --out " + out.string());
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("joules is not a column of sweep.csv"), std::string::npos) << unknown.output;
  const testing::CliResult no_out = testing::run_tessel("sweep --quiet --spec " + spec.path + " --pareto seconds,macs");
  EXPECT_EQ(no_out.exit_code, 1) << no_out.output;
  EXPECT_NE(no_out.output.find("--pareto needs --out"), std::string::npos) << no_out.output;
}

}  // namespace
}  // namespace tessel::cli
