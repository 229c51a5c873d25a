#include "cli/sweep_command.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/flag_bounds.h"
#include "cli/run_command.h"
#include "cli/sweep_spec.h"
#include "sim/report/common.h"

namespace tessel::cli {

namespace {

namespace fs = std::filesystem;

// The summary figures each row carries, in this order; empty where a run has none (a GEMM
// run has no TTFT, a model run no area).
const char* const kFigures[] = {
    "total_cycles", "seconds",          "ttft_s",    "tpot_s",   "tokens_per_s", "utilization",
    "macs",         "dram_read_bytes", "dram_write_bytes", "energy_pj", "area_mm2"};

// The run flags of the spec, checked once as `tessel run` checks them.
RunFlags parse_run_flags(const SweepSpec& spec) {
  CLI::App app;
  RunFlags flags;
  add_run_command(app, flags);
  std::vector<std::string> args = {"run", "--arch", "point.yaml"};
  args.insert(args.end(), spec.run_args.begin(), spec.run_args.end());
  std::vector<const char*> argv = {"tessel"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    throw FlagError(spec.file + ": key 'run': " + error.what());
  }
  flags.quiet = true;
  flags.out.clear();
  return flags;
}

std::string point_text(const SweepSpec& spec, uint64_t point) {
  const std::vector<size_t> index = spec.coordinates(point);
  std::string text;
  for (size_t i = 0; i < spec.axes.size(); ++i) {
    text += (i ? " " : "") + spec.axes[i].key + "=" + spec.axes[i].labels[index[i]];
  }
  return text;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

// Runs one point into its folder: arch.yaml, the run's reports, or error.txt with the reason.
void run_point(const SweepSpec& spec, const RunFlags& base, uint64_t point, const fs::path& dir, bool quiet) {
  if (!quiet) std::cerr << "[" << point + 1 << "/" << spec.points() << "] " << point_text(spec, point) << std::endl;
  fs::create_directories(dir);
  try {
    YAML::Emitter yaml;
    yaml << arch_at(spec, point);
    write_text(dir / "arch.yaml", std::string(yaml.c_str()) + "\n");
    RunFlags flags = base;
    flags.target.arch = (dir / "arch.yaml").string();
    sim::ReportBundle reports = execute_run(flags);
    // Named from the sweep's directory, so that a point's reports are the same wherever it is.
    reports.summary["arch_file"] = (fs::path("points") / std::to_string(point) / "arch.yaml").string();
    sim::write_report_files(reports, dir.string());
  } catch (const std::exception& error) {
    write_text(dir / "error.txt", std::string(error.what()) + "\n");
  }
}

// Points j, j + jobs, j + 2 jobs, ... in worker j; SystemC runs one simulation at a time per
// process, so parallel points need processes.
void run_points(const SweepSpec& spec, const RunFlags& base, const fs::path& out, size_t jobs, bool quiet) {
  const uint64_t points = spec.points();
  const auto dir = [&](uint64_t point) { return out / "points" / std::to_string(point); };
  if (jobs <= 1 || points <= 1) {
    for (uint64_t point = 0; point < points; ++point) run_point(spec, base, point, dir(point), quiet);
    return;
  }
  std::cout.flush();
  std::cerr.flush();
  std::vector<pid_t> workers;
  for (size_t worker = 0; worker < std::min<uint64_t>(jobs, points); ++worker) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("sweep: cannot start a worker process");
    if (pid == 0) {
      for (uint64_t point = worker; point < points; point += jobs) run_point(spec, base, point, dir(point), quiet);
      std::cerr.flush();
      _exit(0);
    }
    workers.push_back(pid);
  }
  for (const pid_t pid : workers) {
    int status = 0;
    waitpid(pid, &status, 0);
  }
}

std::string csv_value(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return sim::csv_field(value.get<std::string>());
  return value.dump();
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepFlags& flags) {
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Run every point of a design-space sweep file (architecture keys x values) and tabulate the figures");
  sweep->add_option("--spec", flags.spec, "Sweep file: arch, vary (dotted key: [values]), run (tessel run flags)")
      ->required();
  sweep->add_option("--out", flags.out,
                    "Write sweep.csv and points/<i>/{arch.yaml,summary.json,layers.csv,stats.json} here "
                    "(default: the CSV to stdout)");
  add_bounded(*sweep, bounds::kSweepJobs, flags.jobs, "Worker processes running points at once")
      ->capture_default_str();
  sweep->add_flag("--quiet", flags.quiet, "No per-point progress on stderr");
  sweep->footer("Exit status: 0 every point ran, 1 bad input or a point failed (its row says why), 2 bad usage,\n"
                "3 a point's numerics check failed.");
  return sweep;
}

int sweep_command(const SweepFlags& flags) {
  const SweepSpec spec = read_sweep_spec(flags.spec);
  const RunFlags base = parse_run_flags(spec);
  // Once for the sweep; each point's summary.json lists them too.
  if (!base.model.empty()) print_warnings(load_model(base.model).warnings);
  const bool temporary = flags.out.empty();
  const fs::path out =
      temporary ? fs::temp_directory_path() / ("tessel_sweep_" + std::to_string(getpid())) : fs::path(flags.out);
  if (temporary) fs::remove_all(out);
  run_points(spec, base, out, flags.jobs, flags.quiet);

  std::ostringstream csv;
  csv << "point";
  for (const SweepAxis& axis : spec.axes) csv << ',' << sim::csv_field(axis.key);
  for (const char* figure : kFigures) csv << ',' << figure;
  csv << ",numerics_passed,error\n";
  int status = 0;
  for (uint64_t point = 0; point < spec.points(); ++point) {
    const fs::path dir = out / "points" / std::to_string(point);
    csv << point;
    const std::vector<size_t> index = spec.coordinates(point);
    for (size_t i = 0; i < spec.axes.size(); ++i) csv << ',' << sim::csv_field(spec.axes[i].labels[index[i]]);
    std::ifstream error_file(dir / "error.txt");
    std::string error;
    std::getline(error_file, error);
    std::ifstream summary_file(dir / "summary.json");
    if (error.empty() && !summary_file) error = "the point's worker left no results";
    if (!error.empty()) {
      for (size_t i = 0; i < std::size(kFigures) + 1; ++i) csv << ',';
      csv << ',' << sim::csv_field(error) << '\n';
      std::cerr << "tessel: sweep point " << point << " (" << point_text(spec, point) << "): " << error << '\n';
      status = kExitInputError;
      continue;
    }
    const nlohmann::json summary = nlohmann::json::parse(summary_file);
    for (const char* figure : kFigures) csv << ',' << csv_value(summary.value(figure, nlohmann::json()));
    // Empty when the point checked nothing (no-check), 1 or 0 when it did.
    const nlohmann::json& passed = summary["numerics"]["passed"];
    if (passed == false && status == 0) status = kExitNumericsFailed;
    csv << ',' << (passed.is_boolean() ? (passed.get<bool>() ? "1" : "0") : "") << ",\n";
  }
  if (temporary) {
    std::cout << csv.str();
    fs::remove_all(out);
  } else {
    write_text(out / "sweep.csv", csv.str());
    if (!flags.quiet) {
      std::cerr << "tessel: " << spec.points() << " points of " << spec.name << " in " << (out / "sweep.csv").string()
                << '\n';
    }
  }
  return status;
}

}  // namespace tessel::cli
