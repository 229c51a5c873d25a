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
#include "cli/sweep_point.h"
#include "cli/sweep_spec.h"
#include "cli/sweep_store.h"
#include "cli/sweep_table.h"
#include "sim/report/common.h"

namespace tessel::cli {

namespace {

namespace fs = std::filesystem;

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
    // Often enough that a short sweep does not wait on its last poll; a poll costs microseconds.
    if (running > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
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

// Writes the table of `points` (each point's folder: dir_of) to --out's sweep.csv (and the
// Pareto front to pareto.csv), or to stdout without --out; returns the exit status its rows make.
int publish_table(const SweepFlags& flags, const SweepSpec& spec, const std::vector<uint64_t>& points,
                  const std::function<fs::path(uint64_t)>& dir_of, const SweepStore* store) {
  std::vector<std::vector<double>> values;
  if (!store) return write_table(spec, points, dir_of, std::cout, {}, values);
  const std::vector<Objective> objectives = flags.pareto.empty() ? std::vector<Objective>{}
                                                                 : parse_objectives(flags.pareto);
  const std::vector<size_t> columns = objective_columns(spec, objectives);
  int status = 0;
  store->write_table("sweep.csv",
                     [&](std::ostream& out) { status = write_table(spec, points, dir_of, out, columns, values); });
  if (!objectives.empty()) store->write_table("pareto.csv", pareto_csv(store->dir() / "sweep.csv", objectives, values));
  if (!flags.quiet) {
    std::cerr << "tessel: " << points.size() << " points of " << spec.name << " in "
              << (store->dir() / "sweep.csv").string() << (flags.pareto.empty() ? "" : ", the front in pareto.csv")
              << '\n';
  }
  return status;
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
  return publish_table(flags, spec, all, [&](uint64_t point) { return source[point]; }, store ? &*store : nullptr);
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
      "sweep",
      "Run every point of a design-space sweep file (hardware keys and run or train flags x values) and tabulate the "
      "figures");
  sweep->add_option("--spec", flags.spec,
                    "Sweep file: arch or system, vary (dotted key: [values]), run or train (tessel run or train flags)")
      ->required();
  sweep->add_option("--out", flags.out,
                    "Write sweep.csv and points/<i>/{arch.yaml or system.yaml,summary.json,layers.csv,stats.json} "
                    "here, each "
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
                    "columns, e.g. seconds,energy_pj (each minimized; tokens_per_s, utilization, mfu and hfu "
                    "maximized; :min or :max to say)");
  CLI::Option* scheduler = sweep->add_option(
      "--scheduler", flags.scheduler,
      "Run the points on the dask.distributed cluster whose scheduler is at this address (tcp://HOST:8786), "
      "each worker running tessel in processes of its own; tessel and the sweep's files must be at the same "
      "paths on the workers");
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
  check_point_flags(spec);
  // Once for the sweep; each point's summary.json lists them too.
  for (const std::string& model : models_of(spec)) print_warnings(load_model(model).warnings);
  if (!flags.pareto.empty()) {
    objective_columns(spec, parse_objectives(flags.pareto));
    if (flags.out.empty()) throw FlagError("--pareto needs --out: the front is written to pareto.csv beside sweep.csv");
  }
  const std::string fingerprint = sweep_fingerprint(spec.file, spec.hardware_file);
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
  return publish_table(flags, spec, points, [&](uint64_t point) { return store.point_dir(point); },
                       temporary ? nullptr : &store);
}

}  // namespace tessel::cli
