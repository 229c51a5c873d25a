// Whole runs diffed against committed outputs (tests/golden/), so any change of results is
// seen and intended. Regenerate with scripts/regenerate_golden.sh.
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
const fs::path kSource = TESSEL_SOURCE_DIR;

struct GoldenCase {
  std::string name;
  std::string arguments;
};

std::vector<GoldenCase> read_cases() {
  std::ifstream in(kSource / "tests/golden/cases.txt");
  std::vector<GoldenCase> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t bar = line.find('|');
    cases.push_back({line.substr(0, bar), line.substr(bar + 1)});
  }
  return cases;
}

// Counts must match exactly; real numbers to 1e-9 relative (they are printed with more
// digits than that, and only summation order could move them).
void expect_same(const nlohmann::json& golden, const nlohmann::json& actual, const std::string& where) {
  if (golden.is_object()) {
    ASSERT_TRUE(actual.is_object()) << where;
    EXPECT_EQ(golden.size(), actual.size()) << where << ": keys differ";
    for (const auto& [key, value] : golden.items()) {
      if (key == "arch_file") continue;  // where the file was, not what it said
      ASSERT_TRUE(actual.contains(key)) << where << "." << key;
      expect_same(value, actual[key], where + "." + key);
    }
  } else if (golden.is_number_float() || actual.is_number_float()) {
    const double g = golden.get<double>();
    EXPECT_NEAR(actual.get<double>(), g, 1e-9 * std::abs(g)) << where;
  } else {
    EXPECT_EQ(golden, actual) << where;
  }
}

TEST(Golden, WholeRunsMatchCommittedOutputs) {
  const std::vector<GoldenCase> cases = read_cases();
  ASSERT_GE(cases.size(), 4u);
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path out = fs::temp_directory_path() / ("tessel_golden_" + c.name + std::to_string(::getpid()));
    fs::remove_all(out);
    const auto result = testing::run_tessel("run --quiet --out " + out.string() + " " + c.arguments);
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const fs::path golden = kSource / "tests/golden" / c.name;
    nlohmann::json summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
    // Which tessel wrote it changes with every commit: the goldens leave it out.
    for (const char* key : {"tessel_version", "tessel_commit"}) {
      EXPECT_TRUE(summary.contains(key)) << key;
      summary.erase(key);
    }
    expect_same(nlohmann::json::parse(testing::read_text(golden.string() + ".summary.json")), summary, "summary");
    EXPECT_EQ(testing::read_text(golden.string() + ".layers.csv"), testing::read_text(out / "layers.csv"));
    fs::remove_all(out);
  }
}

}  // namespace
}  // namespace tessel
