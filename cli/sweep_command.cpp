#include "cli/sweep_command.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <new>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/device_pool.h"
#include "cli/flag_bounds.h"
#include "cli/pareto.h"
#include "cli/sweep_cluster.h"
#include "cli/run_command.h"
#include "cli/sweep_expression.h"
#include "cli/sweep_spec.h"
#include "cli/sweep_store.h"
#include "sim/report/common.h"

namespace tessel::cli {

namespace {

namespace fs = std::filesystem;

// The summary figures each row carries, in this order; empty where a run has none (a GEMM
// run has no TTFT, a model run no area).
const char* const kFigures[] = {
    "total_cycles", "seconds",          "ttft_s",    "tpot_s",   "tokens_per_s", "utilization",
    "macs",         "dram_read_bytes", "dram_write_bytes", "energy_pj", "area_mm2"};

// Run flags, parsed as `tessel run` parses them; a bad one is an error naming the sweep file
// and `key`.
RunFlags parse_run_flags(const SweepSpec& spec, const std::vector<std::string>& run_args, const std::string& key) {
  CLI::App app;
  RunFlags flags;
  add_run_command(app, flags);
  std::vector<std::string> args = {"run", "--arch", "point.yaml"};
  args.insert(args.end(), run_args.begin(), run_args.end());
  std::vector<const char*> argv = {"tessel"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    throw FlagError(spec.file + ": key '" + key + "': " + error.what());
  }
  flags.quiet = true;
  flags.out.clear();
  return flags;
}

// The spec's run flags with each value of each run-flag axis, checked before any point runs.
void check_run_flags(const SweepSpec& spec) {
  parse_run_flags(spec, spec.run_args, "run");
  for (const SweepAxis& axis : spec.axes) {
    for (const std::string& value : axis.labels) {
      if (axis.run_flag.empty()) continue;
      std::vector<std::string> args = spec.run_args;
      append_run_flag(args, axis.run_flag, value);
      parse_run_flags(spec, args, "vary." + axis.key + ": " + value);
    }
  }
}

// The models the sweep runs: a run.model axis's values, or the one of its run flags.
std::vector<std::string> models_of(const SweepSpec& spec) {
  for (const SweepAxis& axis : spec.axes) {
    if (axis.run_flag == "model") return axis.labels;
  }
  const std::string model = parse_run_flags(spec, spec.run_args, "run").model;
  return model.empty() ? std::vector<std::string>{} : std::vector<std::string>{model};
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

// The first constraint the point breaks, with the values it read; empty when it keeps them all.
std::string broken_constraint(const SweepSpec& spec, const YAML::Node& arch, const sim::DeviceFacts& facts) {
  const auto lookup = [&](const std::string& name) -> std::optional<double> {
    if (name == "area_mm2") return facts.area_mm2;
    if (name == "clock_hz") return facts.clock_hz;
    if (name == "peak_macs_per_cycle") return facts.peak_macs_per_cycle(facts.peaks.front().dtype);
    if (name == "dram_capacity_bytes") {
      const std::optional<uint64_t> bytes = facts.dram_capacity_bytes();
      return bytes ? std::optional<double>(static_cast<double>(*bytes)) : std::nullopt;
    }
    if (name == "dram_bytes_per_cycle") return facts.dram_bytes_per_cycle();
    return number_at(arch, name);
  };
  for (const std::string& constraint : spec.constraints) {
    if (holds(constraint, lookup)) continue;
    std::ostringstream reason;
    reason << "breaks " << constraint << " (";
    const std::vector<std::string> names = names_in(constraint);
    for (size_t i = 0; i < names.size(); ++i) reason << (i ? ", " : "") << names[i] << " = " << *lookup(names[i]);
    reason << ")";
    return reason.str();
  }
  return "";
}

// Runs one point into its scratch folder (arch.yaml, the run's reports, skipped.txt with the
// constraint it breaks, or error.txt with the reason), then commits it as points/<i>.
void run_point(const SweepSpec& spec, uint64_t point, const SweepStore& store, DevicePool& devices, bool quiet) {
  if (!quiet) std::cerr << "[" << point + 1 << "/" << spec.points() << "] " << point_text(spec, point) << std::endl;
  const fs::path dir = store.scratch(point);
  try {
    YAML::Emitter yaml;
    const YAML::Node arch = arch_at(spec, point);
    yaml << arch;
    write_text(dir / "arch.yaml", std::string(yaml.c_str()) + "\n");
    RunFlags flags = parse_run_flags(spec, spec.run_args_at(point), "run");
    flags.target.arch = (dir / "arch.yaml").string();
    sim::Device& device = devices.device(flags.target.arch, flags.target.dataflow);
    const std::string broken = spec.constraints.empty() ? "" : broken_constraint(spec, arch, device.facts());
    if (!broken.empty()) {
      write_text(dir / "skipped.txt", broken + "\n");
      store.commit(point);
      return;
    }
    sim::ReportBundle reports = execute_run(flags, &device);
    // Named from the sweep's directory, so that a point's reports are the same wherever it is.
    reports.summary["arch_file"] = (fs::path("points") / std::to_string(point) / "arch.yaml").string();
    sim::write_report_files(reports, dir.string());
  } catch (const std::exception& error) {
    write_text(dir / "error.txt", std::string(error.what()) + "\n");
  }
  store.commit(point);
}

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

// SIGINT and SIGTERM stop the sweep between polls (the workers are killed and the temporary
// directory removed); the previous handlers come back when it ends.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupted = 0;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

// Shared by the sweep and its workers (an anonymous shared mapping, inherited over fork): the
// next of the points to do that no worker has taken, and how many are finished. Lock-free
// atomics work across processes.
struct SharedProgress {
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> finished{0};
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "workers share the counters through memory");

class SharedMapping {
 public:
  SharedMapping() {
    void* memory = mmap(nullptr, sizeof(SharedProgress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("sweep: cannot map memory shared with the workers");
    progress_ = new (memory) SharedProgress();
  }
  ~SharedMapping() { munmap(progress_, sizeof(SharedProgress)); }
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  SharedProgress& progress() { return *progress_; }

 private:
  SharedProgress* progress_;
};

// Devices a worker keeps for the points after, and op results each remembers (cli/device_pool.h).
constexpr size_t kDevicesPerWorker = 4;
constexpr size_t kResultsPerDevice = 4096;

// `todo` in worker processes (SystemC runs one simulation at a time per process): each worker
// takes the next point nobody has taken as it frees up, so a worker left with cheap points
// does not idle while another finishes dear ones. A worker dies with the sweep. The sweep
// watches the shared count of finished points (on_progress).
void run_points_locally(const SweepSpec& spec, const std::vector<uint64_t>& todo, const SweepStore& store, size_t jobs,
                        bool quiet, const std::function<void(uint64_t)>& on_progress) {
  std::cout.flush();
  std::cerr.flush();
  SharedMapping shared;
  SharedProgress& progress = shared.progress();
  const pid_t sweep_pid = getpid();
  std::vector<pid_t> workers;
  const auto stop_workers = [&] {  // those not reaped yet (a reaped worker's pid is negated)
    for (const pid_t pid : workers) {
      if (pid > 0) kill(pid, SIGKILL);
    }
    for (const pid_t pid : workers) {
      if (pid > 0) waitpid(pid, nullptr, 0);
    }
  };
  const size_t count = std::min<size_t>(std::max<size_t>(jobs, 1), todo.size());
  for (size_t worker = 0; worker < count; ++worker) {
    const pid_t pid = fork();
    if (pid < 0) {
      stop_workers();
      throw std::runtime_error("sweep: cannot start a worker process");
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != sweep_pid) _exit(1);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      // A worker never returns into the sweep's code, whatever happens to it.
      try {
        DevicePool devices(kDevicesPerWorker, kResultsPerDevice);
        for (uint64_t i = progress.next.fetch_add(1); i < todo.size(); i = progress.next.fetch_add(1)) {
          run_point(spec, todo[i], store, devices, quiet);
          progress.finished.fetch_add(1);
        }
      } catch (const std::exception& error) {
        std::cerr << "tessel: sweep worker: " << error.what() << std::endl;
        _exit(1);
      }
      std::cerr.flush();
      _exit(0);
    }
    workers.push_back(pid);
  }
  size_t running = workers.size();
  while (running > 0) {
    if (g_interrupted) {
      stop_workers();
      throw std::runtime_error(
          "sweep interrupted (with --out, the finished points are kept and the same command goes on)");
    }
    for (pid_t& pid : workers) {
      if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid) {
        pid = -pid;  // reaped
        --running;
      }
    }
    on_progress(progress.finished.load());
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// The points not finished by an earlier run, by local workers or on a cluster; stderr says how
// many are done and how long the rest should take.
void run_points(const SweepFlags& flags, const SweepSpec& spec, const std::vector<uint64_t>& points,
                const SweepStore& store) {
  std::vector<uint64_t> todo;
  for (const uint64_t point : points) {
    if (store.finished(point)) continue;
    todo.push_back(point);
    fs::remove_all(store.point_dir(point));  // an earlier attempt's error, run again
  }
  const uint64_t total = points.size();
  const uint64_t done_before = total - todo.size();
  if (!flags.quiet && done_before > 0) {
    std::cerr << "tessel: sweep: " << done_before << " of " << total << " points finished by an earlier run\n";
  }
  if (todo.empty()) return;
  const auto start = std::chrono::steady_clock::now();
  uint64_t reported = 0;
  const auto on_progress = [&](uint64_t done) {
    if (flags.quiet || done <= reported) return;
    reported = done;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double left = elapsed / static_cast<double>(done) * static_cast<double>(todo.size() - done);
    std::cerr << "tessel: sweep: " << done_before + done << " of " << total << " points done in " << std::fixed
              << std::setprecision(1) << elapsed << " s, about " << left << " s left" << std::endl;
  };
  if (flags.scheduler.empty()) {
    run_points_locally(spec, todo, store, flags.jobs, flags.quiet, on_progress);
  } else {
    run_points_on_cluster({flags.scheduler, fs::absolute(flags.spec).string()}, todo, store, on_progress,
                          [] { return g_interrupted != 0; });
  }
}

// A sweep without --out works in a temporary directory, removed however the sweep ends.
class TemporaryDirectory {
 public:
  explicit TemporaryDirectory(fs::path path) : path_(std::move(path)) { fs::remove_all(path_); }
  ~TemporaryDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string csv_value(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return sim::csv_field(value.get<std::string>());
  return value.dump();
}

// "i/N", 0 <= i < N: the points p with p mod N = i, so that each shard gets a share of every
// axis's values (points differ in cost along the axes).
std::vector<uint64_t> shard_points(const std::string& shard, uint64_t points) {
  uint64_t index = 0;
  uint64_t count = 0;
  char slash = 0;
  std::istringstream text(shard);
  if (!(text >> index >> slash >> count) || slash != '/' || !text.eof() || count == 0 || index >= count ||
      shard.find_first_not_of("0123456789/") != std::string::npos) {
    throw FlagError("--shard '" + shard + "': give i/N with 0 <= i < N, e.g. 0/4 for the first of four");
  }
  std::vector<uint64_t> chosen;
  for (uint64_t point = index; point < points; point += count) chosen.push_back(point);
  return chosen;
}

// The table, a row of CSV cells each: a header, then a row per point of `points` from its
// folder (dir_of).
struct Table {
  std::vector<std::vector<std::string>> rows;
  int status = 0;  // the exit status the rows make: a point that failed, or failed its numerics check

  std::string csv() const {
    std::string text;
    for (const std::vector<std::string>& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + row[i];
      text += '\n';
    }
    return text;
  }
};

std::vector<std::string> table_header(const SweepSpec& spec) {
  std::vector<std::string> header = {"point"};
  for (const SweepAxis& axis : spec.axes) header.push_back(sim::csv_field(axis.key));
  header.insert(header.end(), std::begin(kFigures), std::end(kFigures));
  header.insert(header.end(), {"numerics_passed", "error"});
  return header;
}

Table make_table(const SweepSpec& spec, const std::vector<uint64_t>& points,
                 const std::function<fs::path(uint64_t)>& dir_of) {
  Table table;
  const std::vector<std::string> header = table_header(spec);
  table.rows.push_back(header);
  for (const uint64_t point : points) {
    const fs::path dir = dir_of(point);
    std::vector<std::string>& row = table.rows.emplace_back(std::vector<std::string>{std::to_string(point)});
    const std::vector<size_t> index = spec.coordinates(point);
    for (size_t i = 0; i < spec.axes.size(); ++i) row.push_back(sim::csv_field(spec.axes[i].labels[index[i]]));
    std::ifstream skipped_file(dir / "skipped.txt");
    std::string skipped;
    if (std::getline(skipped_file, skipped)) {
      row.resize(header.size() - 1);
      row.push_back(sim::csv_field("skipped: " + skipped));
      continue;
    }
    std::ifstream error_file(dir / "error.txt");
    std::string error;
    std::getline(error_file, error);
    std::ifstream summary_file(dir / "summary.json");
    if (error.empty() && !summary_file) error = "the point's worker left no results";
    if (!error.empty()) {
      row.resize(header.size() - 1);
      row.push_back(sim::csv_field(error));
      std::cerr << "tessel: sweep point " << point << " (" << point_text(spec, point) << "): " << error << '\n';
      table.status = kExitInputError;
      continue;
    }
    const nlohmann::json summary = nlohmann::json::parse(summary_file);
    for (const char* figure : kFigures) row.push_back(csv_value(summary.value(figure, nlohmann::json())));
    // Empty when the point checked nothing (no-check), 1 or 0 when it did.
    const nlohmann::json& passed = summary["numerics"]["passed"];
    if (passed == false && table.status == 0) table.status = kExitNumericsFailed;
    row.push_back(passed.is_boolean() ? (passed.get<bool>() ? "1" : "0") : "");
    row.emplace_back();
  }
  return table;
}

// The table columns of --pareto's objectives; throws FlagError naming one the table lacks.
std::vector<size_t> objective_columns(const std::vector<std::string>& header,
                                      const std::vector<Objective>& objectives) {
  std::vector<size_t> columns;
  for (const Objective& objective : objectives) {
    const auto at = std::find(header.begin(), header.end(), objective.column);
    if (at == header.end()) {
      std::string names;
      for (size_t i = 1; i + 2 < header.size(); ++i) names += (i > 1 ? ", " : "") + header[i];
      throw FlagError("--pareto: " + objective.column + " is not a column of sweep.csv (" + names + ")");
    }
    columns.push_back(static_cast<size_t>(at - header.begin()));
  }
  return columns;
}

// The rows of the table on the Pareto front of `objectives` (--pareto), with its header,
// ordered by the first objective, best first; a row whose objectives are not all numbers is
// on no front.
std::string pareto_csv(const Table& table, const std::string& objectives_text) {
  const std::vector<Objective> objectives = parse_objectives(objectives_text);
  const std::vector<std::string>& header = table.rows.front();
  const std::vector<size_t> columns = objective_columns(header, objectives);
  std::vector<Goal> goals;
  for (const Objective& objective : objectives) goals.push_back(objective.goal);
  std::vector<std::vector<double>> values;
  for (size_t r = 1; r < table.rows.size(); ++r) {
    std::vector<double>& row = values.emplace_back();
    for (const size_t column : columns) {
      const std::string& cell = table.rows[r][column];
      char* end = nullptr;
      const double value = std::strtod(cell.c_str(), &end);
      row.push_back(!cell.empty() && *end == '\0' ? value : std::nan(""));
    }
  }
  std::vector<size_t> front = pareto_front(values, goals);
  std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    return goals[0] == Goal::Minimize ? values[a][0] < values[b][0] : values[a][0] > values[b][0];
  });
  Table chosen;
  chosen.rows.push_back(header);
  for (const size_t row : front) chosen.rows.push_back(table.rows[row + 1]);
  return chosen.csv();
}

// Writes the table to --out's sweep.csv (and the Pareto front to pareto.csv), or to stdout
// without --out.
void publish_table(const SweepFlags& flags, const SweepSpec& spec, const Table& table, const SweepStore* store) {
  if (!store) {
    std::cout << table.csv();
    return;
  }
  store->write_table("sweep.csv", table.csv());
  if (!flags.pareto.empty()) store->write_table("pareto.csv", pareto_csv(table, flags.pareto));
  if (!flags.quiet) {
    std::cerr << "tessel: " << table.rows.size() - 1 << " points of " << spec.name << " in "
              << (store->dir() / "sweep.csv").string() << (flags.pareto.empty() ? "" : ", the front in pareto.csv")
              << '\n';
  }
}

// --merge: the shards' points joined into the table one run of the whole sweep would have made,
// and with --out a directory that holds them all, as that run's would.
int merge_shards(const SweepFlags& flags, const SweepSpec& spec, const std::string& fingerprint) {
  for (const std::string& dir : flags.merge) require_sweep_dir(dir, fingerprint);
  std::vector<fs::path> source(spec.points());
  std::vector<uint64_t> missing;
  for (uint64_t point = 0; point < spec.points(); ++point) {
    for (const std::string& dir : flags.merge) {
      if (point_ran_in(dir, point)) {
        source[point] = point_dir_in(dir, point);
        break;
      }
    }
    if (source[point].empty()) missing.push_back(point);
  }
  if (!missing.empty()) {
    throw std::runtime_error("--merge: " + std::to_string(missing.size()) + " of the " +
                             std::to_string(spec.points()) + " points are in none of the directories (point " +
                             std::to_string(missing.front()) + ": " + point_text(spec, missing.front()) +
                             "); run the shards they belong to");
  }
  std::optional<SweepStore> store;
  if (!flags.out.empty()) {
    store.emplace(fs::path(flags.out), fingerprint);
    for (uint64_t point = 0; point < spec.points(); ++point) {
      if (source[point] != store->point_dir(point)) store->adopt(point, source[point]);
    }
  }
  std::vector<uint64_t> all(spec.points());
  for (uint64_t point = 0; point < spec.points(); ++point) all[point] = point;
  const Table table = make_table(spec, all, [&](uint64_t point) { return source[point]; });
  publish_table(flags, spec, table, store ? &*store : nullptr);
  return table.status;
}

// --emit-points (a cluster worker's task, cli/sweep_cluster.h): runs the listed points in a
// temporary directory and prints each as one JSON line as it finishes.
int emit_points(const SweepSpec& spec, const std::string& fingerprint, const std::string& list) {
  std::vector<uint64_t> points;
  std::istringstream text(list);
  for (std::string item; std::getline(text, item, ',');) {
    char* end = nullptr;
    const unsigned long long point = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || item[0] == '-' || point >= spec.points()) {
      throw FlagError("--emit-points '" + item + "': not a point of " + spec.file + " (0 to " +
                      std::to_string(spec.points() - 1) + ")");
    }
    points.push_back(point);
  }
  const TemporaryDirectory scratch(fs::temp_directory_path() / ("tessel_points_" + std::to_string(getpid())));
  const SweepStore store(scratch.path(), fingerprint);
  DevicePool devices(kDevicesPerWorker, kResultsPerDevice);
  for (const uint64_t point : points) {
    run_point(spec, point, store, devices, true);
    std::cout << point_record(point, store.point_dir(point)).dump() << std::endl;
    fs::remove_all(store.point_dir(point));
  }
  return 0;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepFlags& flags) {
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Run every point of a design-space sweep file (architecture keys x values) and tabulate the figures");
  sweep->add_option("--spec", flags.spec, "Sweep file: arch, vary (dotted key: [values]), run (tessel run flags)")
      ->required();
  sweep->add_option("--out", flags.out,
                    "Write sweep.csv and points/<i>/{arch.yaml,summary.json,layers.csv,stats.json} here, each "
                    "point as it finishes; the same command again runs only the points not finished, and "
                    "another sweep into it is refused (default: the CSV to stdout)");
  CLI::Option* jobs =
      add_bounded(*sweep, bounds::kSweepJobs, flags.jobs, "Worker processes running points at once")
          ->capture_default_str();
  sweep->add_flag("--quiet", flags.quiet, "No per-point progress on stderr");
  CLI::Option* shard = sweep->add_option(
      "--shard", flags.shard,
      "i/N: run only the points p with p mod N = i (0 <= i < N; one job of an array of N), into --out");
  CLI::Option* merge = sweep->add_option(
      "--merge", flags.merge,
      "Run nothing: join the shards' --out directories of this sweep into the table one run would have made "
      "(with --out, also a directory holding every point)");
  sweep->add_option("--pareto", flags.pareto,
                    "With --out: also write pareto.csv, the rows on the Pareto front of two or three sweep.csv "
                    "columns, e.g. seconds,energy_pj (each minimized; tokens_per_s and utilization maximized; "
                    ":min or :max to say)");
  CLI::Option* scheduler = sweep->add_option(
      "--scheduler", flags.scheduler,
      "Run the points on the dask.distributed cluster whose scheduler is at this address (tcp://HOST:8786), "
      "each worker running tessel in processes of its own; tessel and the sweep and architecture files must be "
      "at the same paths on the workers");
  sweep->add_option("--emit-points", flags.emit_points)->group("");  // a cluster worker's task (sweep_cluster.h)
  shard->excludes(merge);
  merge->excludes(jobs);
  scheduler->excludes(jobs);
  scheduler->excludes(merge);
  sweep->footer("Exit status: 0 every point ran, 1 bad input or a point failed (its row says why), 2 bad usage,\n"
                "3 a point's numerics check failed.");
  return sweep;
}

int sweep_command(const SweepFlags& flags) {
  const SweepSpec spec = read_sweep_spec(flags.spec);
  check_run_flags(spec);
  // Once for the sweep; each point's summary.json lists them too.
  for (const std::string& model : models_of(spec)) print_warnings(load_model(model).warnings);
  if (!flags.pareto.empty()) {
    objective_columns(table_header(spec), parse_objectives(flags.pareto));
    if (flags.out.empty()) throw FlagError("--pareto needs --out: the front is written to pareto.csv beside sweep.csv");
  }
  const std::string fingerprint = sweep_fingerprint(spec.file, spec.arch_file);
  if (!flags.emit_points.empty()) return emit_points(spec, fingerprint, flags.emit_points);
  if (!flags.merge.empty()) return merge_shards(flags, spec, fingerprint);
  const bool temporary = flags.out.empty();
  if (!flags.shard.empty() && temporary) {
    throw FlagError("--shard needs --out: the shard's points are what --merge joins");
  }
  std::optional<TemporaryDirectory> scratch;
  if (temporary) scratch.emplace(fs::temp_directory_path() / ("tessel_sweep_" + std::to_string(getpid())));
  std::vector<uint64_t> points(spec.points());
  for (uint64_t point = 0; point < spec.points(); ++point) points[point] = point;
  if (!flags.shard.empty()) points = shard_points(flags.shard, spec.points());
  const SweepStore store(temporary ? scratch->path() : fs::path(flags.out), fingerprint);
  {
    const InterruptGuard interrupts;
    run_points(flags, spec, points, store);
  }
  const Table table = make_table(spec, points, [&](uint64_t point) { return store.point_dir(point); });
  publish_table(flags, spec, table, temporary ? nullptr : &store);
  return table.status;
}

}  // namespace tessel::cli
