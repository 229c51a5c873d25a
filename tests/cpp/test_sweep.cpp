// `tessel sweep`: every combination of the varied keys runs as `tessel run` would, in worker
// processes or not with the same results, one CSV row each; a bad sweep file names its line
// and key, and a point that fails says why in its row.
#include <gtest/gtest.h>

#include <algorithm>

#include <filesystem>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "arch/config_error.h"
#include "cli_runner.h"
#include "cli/device_pool.h"
#include "cli/sweep_spec.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

const std::string kArch = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/array_8x8.yaml";
const std::string kSystem = std::string(TESSEL_SOURCE_DIR) + "/configs/systems/dgx_a100.yaml";

std::string spec_text(const std::string& vary, const std::string& run = "  gemm: 64,96,128\n  no-check: true\n") {
  return "arch: " + kArch + "\nvary:\n" + vary + "run:\n" + run;
}

std::vector<std::string> column(const std::vector<std::string>& lines, size_t index) {
  std::vector<std::string> values;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i] + ",";
    for (size_t c = 0; c < index; ++c) line = line.substr(line.find(',') + 1);
    values.push_back(line.substr(0, line.find(',')));
  }
  return values;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

TEST(Sweep, EveryCombinationRunsAndMoreBandwidthNeverSlowsAGemm) {
  const testing::TempFile spec("sweep.yaml", spec_text("  dram.bandwidth_gb_s: [4, 8, 16]\n  array.rows: [4, 8]\n"));
  const auto out = testing::fresh_dir("sweep_out");
  const auto result = testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::vector<std::string> lines = testing::read_lines((out / "sweep.csv").string());
  ASSERT_EQ(lines.size(), 7u);  // header + 3 x 2 points, the last key varying fastest
  EXPECT_EQ(lines[0].rfind("point,dram.bandwidth_gb_s,array.rows,total_cycles,seconds,", 0), 0u);
  EXPECT_EQ(lines[1].rfind("0,4,4,", 0), 0u);
  EXPECT_EQ(lines[6].rfind("5,16,8,", 0), 0u);
  const std::vector<std::string> cycles = column(lines, 3);
  for (size_t rows = 0; rows < 2; ++rows) {
    EXPECT_GE(std::stoull(cycles[rows]), std::stoull(cycles[2 + rows])) << "rows index " << rows;
    EXPECT_GE(std::stoull(cycles[2 + rows]), std::stoull(cycles[4 + rows])) << "rows index " << rows;
  }
  // Each point keeps the architecture it ran, with the swept values in it, and its reports.
  const YAML::Node point = YAML::LoadFile((out / "points" / "3" / "arch.yaml").string());
  EXPECT_EQ(point["dram"]["bandwidth_gb_s"].as<int>(), 8);
  EXPECT_EQ(point["array"]["rows"].as<int>(), 8);
  const auto summary = nlohmann::json::parse(testing::read_text(out / "points" / "3" / "summary.json"));
  EXPECT_EQ(std::to_string(summary["total_cycles"].get<uint64_t>()), cycles[3]);
  // The points ran with no-check: their numerics_passed is empty, neither 1 nor 0.
  const std::vector<std::string> passed = column(lines, 14);
  EXPECT_EQ(passed, std::vector<std::string>(6, ""));
  EXPECT_EQ(column({lines[0], lines[0]}, 14).front(), "numerics_passed");
  std::filesystem::remove_all(out);
}

TEST(Sweep, WorkerProcessesGiveTheSameTable) {
  const testing::TempFile spec("sweep_jobs.yaml", spec_text("  array.rows: [2, 4, 8]\n  array.cols: [4, 8]\n"));
  const auto one = testing::run_tessel("sweep --quiet --spec " + spec.path);
  const auto three = testing::run_tessel("sweep --quiet --jobs 3 --spec " + spec.path);
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_EQ(one.output, three.output);
  EXPECT_NE(one.output.find("\n5,8,8,"), std::string::npos) << one.output;
}

// Determinism: the same sweep written by one process and by three, into two directories, gives
// byte-identical files (a point's summary names its architecture from the sweep's directory).
TEST(Sweep, EveryFileIsTheSameWhateverTheWorkersAndDirectory) {
  const testing::TempFile spec("sweep_same.yaml", spec_text("  array.rows: [2, 4, 8]\n", "  gemm: 16,24,8\n"));
  const auto one = testing::fresh_dir("sweep_same_one");
  const auto three = testing::fresh_dir("sweep_same_three");
  ASSERT_EQ(testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + one.string()).exit_code, 0);
  ASSERT_EQ(testing::run_tessel("sweep --quiet --jobs 3 --spec " + spec.path + " --out " + three.string()).exit_code,
            0);
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(one)) {
    if (!entry.is_regular_file()) continue;
    const std::filesystem::path relative = std::filesystem::relative(entry.path(), one);
    EXPECT_EQ(testing::read_text(entry.path()), testing::read_text(three / relative)) << relative;
    ++files;
  }
  EXPECT_EQ(files, 2u + 3 * 4)
      << "sweep.json, sweep.csv, and each point's arch.yaml, summary.json, layers.csv and stats.json";
  std::filesystem::remove_all(one);
  std::filesystem::remove_all(three);
}

// A system's keys and the parallel plan are axes too: each point writes its system file (the
// device named by its absolute path) and runs `tessel run --system`, its row the figures of that
// run alone; its summary names the system file from the sweep's directory.
TEST(Sweep, SystemKeysAndThePlanAreAxes) {
  const testing::TempFile spec(
      "sweep_system.yaml", "system: " + kSystem + "\nvary:\n  levels.0.bandwidth_gb_s: [25, 300]\n  run.tp: [2, 4]\n"
                           "run:\n  model: tiny\n  phase: decode\n  no-check: true\n");
  const auto out = testing::fresh_dir("sweep_system");
  const auto result = testing::run_tessel("sweep --quiet --jobs 2 --spec " + spec.path + " --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::vector<std::string> lines = testing::read_lines((out / "sweep.csv").string());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].rfind("point,levels.0.bandwidth_gb_s,run.tp,total_cycles,seconds,", 0), 0u) << lines[0];
  const YAML::Node system = YAML::LoadFile((out / "points" / "1" / "system.yaml").string());
  EXPECT_EQ(system["levels"][0]["bandwidth_gb_s"].as<int>(), 25);
  EXPECT_EQ(system["device"].as<std::string>(),
            fs::weakly_canonical(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml").string());
  const auto alone = testing::fresh_dir("sweep_system_alone");
  const auto run = testing::run_tessel("run --quiet --system " + (out / "points" / "1" / "system.yaml").string() +
                                       " --model tiny --phase decode --no-check --tp 4 --out " + alone.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto own = nlohmann::json::parse(testing::read_text(alone / "summary.json"));
  const auto swept = nlohmann::json::parse(testing::read_text(out / "points" / "1" / "summary.json"));
  EXPECT_EQ(swept["total_cycles"], own["total_cycles"]);
  EXPECT_EQ(swept["system"]["file"], "points/1/system.yaml");
  EXPECT_EQ(column({lines[0], lines[2]}, 3).front(), std::to_string(own["total_cycles"].get<uint64_t>()));
  // Slower links slow the tensor-parallel step's all-reduces: 25 GB/s against 300, at tp 4.
  EXPECT_GT(std::stoull(column(lines, 3)[1]), std::stoull(column(lines, 3)[3]))
      << testing::read_text(out / "sweep.csv");
  fs::remove_all(out);
  fs::remove_all(alone);
}

// `train:` makes the points training iterations, `train.<flag>` axes vary the plan, and a
// system's device is a key like any other (relative to the system file): the row carries the
// iteration's figures, equal to a `tessel train` of its own.
TEST(Sweep, TrainingIterationsAreSweepTargets) {
  const testing::TempFile spec(
      "sweep_train.yaml", "system: " + kSystem + "\nvary:\n  device: [../arch/a100_sxm.yaml, ../arch/h100_sxm.yaml]\n"
                          "  train.tp: [1, 2]\ntrain:\n  model: tiny\n  global-batch: 8\n  seq: 128\n  dp: 4\n"
                          "  no-check: true\n");
  const auto result = testing::run_tessel("sweep --quiet --spec " + spec.path);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::vector<std::string> lines = lines_of(result.output);
  ASSERT_EQ(lines.size(), 5u) << result.output;
  EXPECT_EQ(lines[0], "point,device,train.tp,iteration_s,tokens_per_s,mfu,hfu,energy_pj,energy_per_token_pj,"
                      "numerics_passed,error");
  const auto alone = testing::fresh_dir("sweep_train_alone");
  const auto run = testing::run_tessel("train --quiet --system " + kSystem + " --model tiny --global-batch 8 --seq 128"
                                       " --dp 4 --tp 2 --no-check --out " + alone.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto own = nlohmann::json::parse(testing::read_text(alone / "summary.json"));
  EXPECT_DOUBLE_EQ(std::stod(column(lines, 3)[1]), own["iteration_s"].get<double>());
  // The H100's iteration differs from the A100's: the device key reached the run.
  EXPECT_NE(column(lines, 3)[1], column(lines, 3)[3]);
  fs::remove_all(alone);
}

// A worker keeps the devices of its points and what they ran (cli/device_pool.h): a point on
// the hardware of points before it, or on it re-configured by --dataflow and back, still writes
// the reports a run of its own writes, byte for byte (numerics checked, so the check's results
// come back too).
TEST(Sweep, APointOnHardwareThatRanBeforeReportsAsItsOwnRun) {
  const testing::TempFile spec(
      "sweep_pool.yaml",
      spec_text("  run.dataflow: [os, ws, os]\n  run.kv-len: [8, 16]\n", "  model: tiny\n  phase: decode\n"));
  const auto out = testing::fresh_dir("sweep_pool");
  ASSERT_EQ(testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + out.string()).exit_code, 0);
  const char* const dataflows[] = {"os", "ws", "os"};
  const char* const kv_lens[] = {"8", "16"};
  for (uint64_t point = 0; point < 6; ++point) {
    const fs::path dir = out / "points" / std::to_string(point);
    const auto alone = testing::fresh_dir("sweep_pool_alone");
    const auto run = testing::run_tessel("run --quiet --model tiny --phase decode --arch " +
                                         (dir / "arch.yaml").string() + " --dataflow " + dataflows[point / 2] +
                                         " --kv-len " + kv_lens[point % 2] + " --out " + alone.string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    for (const char* file : {"layers.csv", "stats.json"}) {
      EXPECT_EQ(testing::read_text(dir / file), testing::read_text(alone / file)) << "point " << point << " " << file;
    }
    nlohmann::json swept = nlohmann::json::parse(testing::read_text(dir / "summary.json"));
    nlohmann::json own = nlohmann::json::parse(testing::read_text(alone / "summary.json"));
    swept.erase("arch_file");
    own.erase("arch_file");
    EXPECT_EQ(swept, own) << "point " << point;
    EXPECT_EQ(swept["numerics"]["passed"], true) << "point " << point;
    fs::remove_all(alone);
  }
  fs::remove_all(out);
}

// The pool tells devices apart by the file's text and --dataflow (a run without the flag must
// not get a device an earlier run re-configured), and keeps only the most recent.
TEST(DevicePool, SameTextAndDataflowShareADeviceAndTheOldestIsDropped) {
  cli::DevicePool pool(2, 16);
  const testing::TempFile copy("pool_copy.yaml", testing::read_text(kArch));
  sim::Device* os = &pool.device(kArch, "os");
  EXPECT_EQ(&pool.device(copy.path, "os"), os) << "same text, same flag";
  sim::Device* plain = &pool.device(kArch, "");
  EXPECT_NE(plain, os);
  EXPECT_EQ(&pool.device(kArch, "os"), os);  // now the most recent, `plain` the older
  pool.device(kArch, "ws");                  // drops `plain`, the least recent, not `os`
  EXPECT_EQ(&pool.device(kArch, "os"), os);
}

TEST(Sweep, AFailingPointSaysWhyInItsRow) {
  const testing::TempFile spec("sweep_fail.yaml", spec_text("  array.rows: [0, 8]\n"));
  const auto result = testing::run_tessel("sweep --quiet --spec " + spec.path);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("sweep point 0 (array.rows=0)"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("\n1,8,"), std::string::npos) << result.output;  // the other point ran
}

struct BadSweep {
  std::string name;
  std::string text;
  std::string expected;  // after "<file>:"
};

class BadSweepSpec : public ::testing::TestWithParam<BadSweep> {};

TEST_P(BadSweepSpec, NamesLineAndKey) {
  const testing::TempFile spec(GetParam().name + ".yaml", GetParam().text);
  const std::string message = testing::error_message<arch::ConfigError>(
      [&] { cli::read_sweep_spec(spec.path); }, GetParam().name);
  EXPECT_EQ(message, spec.path + GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, BadSweepSpec,
    ::testing::Values(
        BadSweep{"unknown_arch_key", spec_text("  dram.bandwidth_gbs: [4, 8]\n"),
                 ":3: key 'vary.dram.bandwidth_gbs': is not a key of " + kArch +
                     " (a `tessel run` flag is varied as run.dram.bandwidth_gbs)"},
        BadSweep{"run_flag_without_prefix", spec_text("  batch: [1, 2]\n"),
                 ":3: key 'vary.batch': is not a key of " + kArch + " (a `tessel run` flag is varied as run.batch)"},
        BadSweep{"run_flag_set_twice", spec_text("  run.seed: [1, 2]\n", "  gemm: 8,8,8\n  seed: 3\n"),
                 ":6: key 'run.seed': is varied by vary.run.seed too: give it in one place"},
        BadSweep{"run_flag_the_sweep_sets", spec_text("  run.out: [a, b]\n"),
                 ":3: key 'vary.run.out': is set by the sweep itself (the point's arch, --out, --quiet) or runs no "
                 "point (--search)"},
        BadSweep{"a_value_of_two_lines", spec_text("  run.model: [\"tiny\\nx\"]\n"),
                 ":3: key 'vary.run.model[0]': must be one line"},
        BadSweep{"not_a_list", spec_text("  array.rows: 8\n"),
                 ":3: key 'vary.array.rows': must be a list of the values to try, got 8"},
        BadSweep{"a_whole_section", spec_text("  dram: [1, 2]\n"),
                 ":3: key 'vary.dram': names a mapping in " + kArch + ", not one value"},
        BadSweep{"run_sets_arch", spec_text("  array.rows: [4]\n", "  arch: other.yaml\n"),
                 ":5: key 'run.arch': is set by the sweep itself (the point's arch, --out, --quiet) or runs no point "
                 "(--search)"},
        BadSweep{"unknown_top_key", "arch: " + kArch + "\nvary:\n  array.rows: [4]\nrun:\n  gemm: 8,8,8\nsweep: 1\n",
                 ":6: key 'sweep': unknown key (allowed here: name, arch, system, vary, run, train, sample, derive, "
                 "constraints)"},
        BadSweep{"arch_and_system", spec_text("  array.rows: [4]\n") + "system: " + kSystem + "\n",
                 ":1: key 'arch': give one of arch (a tessel architecture YAML) or system (a system of devices YAML)"},
        BadSweep{"run_and_train", spec_text("  array.rows: [4]\n") + "train:\n  model: tiny\n",
                 ":4: key 'run': give one of run (`tessel run` flags) or train (`tessel train` flags): what every "
                 "point runs"},
        BadSweep{"run_axis_of_a_training_sweep",
                 "system: " + kSystem + "\nvary:\n  run.tp: [1, 2]\ntrain:\n  model: tiny\n",
                 ":3: key 'vary.run.tp': varies a `tessel run` flag, but the points run `tessel train` (its flags are "
                 "varied as train.<flag>)"},
        BadSweep{"unknown_system_key",
                 "system: " + kSystem + "\nvary:\n  levels.0.bandwidth: [1, 2]\ntrain:\n  model: tiny\n",
                 ":3: key 'vary.levels.0.bandwidth': is not a key of " + kSystem +
                     " (a `tessel train` flag is varied as train.levels.0.bandwidth)"},
        BadSweep{"zip_of_unequal_lists", spec_text("  array.rows: [4, 8]\n  array.cols: [4]\n") + "sample: zip\n",
                 ":8: key 'sample': zip takes the i-th value of every axis: vary.array.rows has 2 and "
                 "vary.array.cols 1 values"},
        BadSweep{"more_random_points_than_the_grid",
                 spec_text("  array.rows: [4, 8]\n") + "sample:\n  random: 3\n",
                 ":8: key 'sample.random': asks for 3 distinct points of a grid of 2"},
        BadSweep{"random_and_latin", spec_text("  array.rows: [4, 8]\n") + "sample: {random: 1, latin: 1}\n",
                 ":7: key 'sample': needs one of random or latin (a count of points)"},
        BadSweep{"derived_key_not_in_the_arch", spec_text("  array.rows: [4, 8]\n") + "derive:\n  array.depth: 2\n",
                 ":8: key 'derive.array.depth': is not one value of " + kArch},
        BadSweep{"derived_key_varied", spec_text("  array.rows: [4, 8]\n") + "derive:\n  array.rows: 2\n",
                 ":8: key 'derive.array.rows': is varied by vary.array.rows too: give it in one place"},
        BadSweep{"derived_from_nothing", spec_text("  array.rows: [4, 8]\n") + "derive:\n  array.cols: array.depth\n",
                 ":8: key 'derive.array.cols': 'array.depth' at 'array.depth': array.depth has no numeric value at "
                 "this point"},
        BadSweep{"constraint_without_comparison",
                 spec_text("  array.rows: [4, 8]\n") + "constraints:\n  - array.rows * 2\n",
                 ":8: key 'constraints[0]': 'array.rows * 2' at the end: a comparison (<=, <, >=, >, ==, !=) was "
                 "expected"},
        BadSweep{"constraint_on_an_unknown_figure",
                 spec_text("  array.rows: [4, 8]\n") + "constraints:\n  - power_w <= 300\n",
                 ":8: key 'constraints[0]': power_w is neither a number of " + kArch +
                     " nor a device figure (area_mm2, clock_hz, peak_macs_per_cycle, dram_capacity_bytes, "
                     "dram_bytes_per_cycle)"},
        BadSweep{"unknown_sampler", spec_text("  array.rows: [4, 8]\n") + "sample: sobol\n",
                 ":7: key 'sample': must be grid, zip, {random: N, seed: S} or {latin: N, seed: S}, got sobol"}),
    [](const ::testing::TestParamInfo<BadSweep>& param) { return param.param.name; });

// A run flag varies beside architecture keys: the batch of a decode step, every combination,
// the flag's values checked before any point runs.
TEST(Sweep, RunFlagsAreAxesToo) {
  const testing::TempFile spec(
      "sweep_run_axis.yaml",
      spec_text("  array.rows: [4, 8]\n  run.batch: [1, 4]\n", "  model: tiny\n  phase: decode\n  no-check: true\n"));
  const auto result = testing::run_tessel("sweep --quiet --spec " + spec.path);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::vector<std::string> lines = lines_of(result.output);
  ASSERT_EQ(lines.size(), 5u) << result.output;
  EXPECT_EQ(lines[0].rfind("point,array.rows,run.batch,total_cycles", 0), 0u) << lines[0];
  EXPECT_EQ(column(lines, 2), (std::vector<std::string>{"1", "4", "1", "4"}));
  // Four sequences take longer than one on the same array, and move more bytes.
  const std::vector<std::string> cycles = column(lines, 3);
  EXPECT_LT(std::stoull(cycles[0]), std::stoull(cycles[1])) << result.output;
  EXPECT_LT(std::stoull(cycles[2]), std::stoull(cycles[3])) << result.output;

  const testing::TempFile bad("sweep_run_axis_bad.yaml",
                              spec_text("  run.batch: [1, 0]\n", "  model: tiny\n  phase: decode\n"));
  const auto refused = testing::run_tessel("sweep --quiet --spec " + bad.path);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("key 'vary.run.batch: 0'"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("point,"), std::string::npos) << "no point runs: " << refused.output;
}

std::vector<std::vector<size_t>> sampled_points(const std::string& name, const std::string& vary,
                                                const std::string& sample) {
  const testing::TempFile file(name + ".yaml", spec_text(vary) + "sample: " + sample + "\n");
  const cli::SweepSpec spec = cli::read_sweep_spec(file.path);
  std::vector<std::vector<size_t>> points;
  for (uint64_t point = 0; point < spec.points(); ++point) points.push_back(spec.coordinates(point));
  return points;
}

// zip pairs the lists' values in order; random draws distinct combinations, the same for the
// same seed; a Latin hypercube gives each axis's values equal shares of the points.
TEST(Sweep, SamplersChooseTheirPoints) {
  using Points = std::vector<std::vector<size_t>>;
  EXPECT_EQ(sampled_points("zip", "  array.rows: [2, 4, 8]\n  array.cols: [8, 4, 2]\n", "zip"),
            (Points{{0, 0}, {1, 1}, {2, 2}}));
  EXPECT_EQ(sampled_points("grid", "  array.rows: [2, 4]\n  array.cols: [8, 4]\n", "grid"),
            (Points{{0, 0}, {0, 1}, {1, 0}, {1, 1}}));

  const std::string grid = "  array.rows: [2, 3, 4, 5, 6, 7, 8]\n  array.cols: [2, 4, 6, 8]\n";
  const Points random = sampled_points("random", grid, "{random: 10, seed: 7}");
  ASSERT_EQ(random.size(), 10u);
  EXPECT_TRUE(std::is_sorted(random.begin(), random.end())) << "in grid order";
  EXPECT_EQ(std::adjacent_find(random.begin(), random.end()), random.end()) << "distinct";
  EXPECT_EQ(sampled_points("random_again", grid, "{random: 10, seed: 7}"), random);
  EXPECT_NE(sampled_points("random_other", grid, "{random: 10, seed: 8}"), random);
  EXPECT_EQ(sampled_points("random_all", grid, "{random: 28}").size(), 28u);

  const Points latin = sampled_points("latin", grid, "{latin: 14, seed: 3}");
  ASSERT_EQ(latin.size(), 14u);
  std::vector<int> rows(7), cols(4);
  for (const std::vector<size_t>& point : latin) {
    ++rows.at(point[0]);
    ++cols.at(point[1]);
  }
  EXPECT_EQ(rows, std::vector<int>(7, 2)) << "each of 7 rows in 2 of 14 points";
  for (const int share : cols) EXPECT_TRUE(share == 3 || share == 4) << share << " of 14 over 4 values";
}

// A derived key follows the varied ones at each point; a point breaking a constraint (over the
// architecture's numbers or its device's figures) is skipped with the reason, not run, and is
// no failure.
TEST(Sweep, DerivedKeysFollowThePointAndConstraintsSkipIt) {
  const testing::TempFile spec(
      "sweep_derived.yaml",
      spec_text("  array.rows: [2, 4, 8]\n  array.cols: [2, 4]\n") +
          "derive:\n  buffers.0.capacity_kib: array.rows * array.cols / 2\n"
          "constraints:\n  - array.rows * array.cols <= 16\n  - peak_macs_per_cycle >= 4\n");
  const fs::path out = testing::fresh_dir("sweep_derived");
  const auto result = testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // Point 0 is 2x2: 4 MACs a cycle keeps both constraints, its input buffer 2 KiB.
  const YAML::Node first = YAML::LoadFile((out / "points/0/arch.yaml").string());
  EXPECT_EQ(first["buffers"][0]["capacity_kib"].as<int>(), 2);
  const YAML::Node third = YAML::LoadFile((out / "points/3/arch.yaml").string());
  EXPECT_EQ(third["buffers"][0]["capacity_kib"].as<int>(), 8) << "4x4";
  std::vector<std::string> lines;
  std::istringstream text(testing::read_text(out / "sweep.csv"));
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_NE(lines[6].find("skipped: breaks array.rows * array.cols <= 16 (array.rows = 8, array.cols = 4)"),
            std::string::npos)
      << lines[6];
  EXPECT_FALSE(fs::exists(out / "points/5/summary.json")) << "a skipped point does not run";
  EXPECT_EQ(lines[1].find("skipped"), std::string::npos) << lines[1];
  // The same command again finds the skipped point finished.
  const auto again = testing::run_tessel("sweep --spec " + spec.path + " --out " + out.string());
  EXPECT_NE(again.output.find("6 of 6 points finished by an earlier run"), std::string::npos) << again.output;
}

TEST(Sweep, AnUnknownRunFlagIsRefused) {
  const testing::TempFile spec("sweep_flag.yaml", spec_text("  array.rows: [4]\n", "  frobnicate: 1\n"));
  const auto result = testing::run_tessel("sweep --spec " + spec.path);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("key 'run'"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("frobnicate"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tessel
