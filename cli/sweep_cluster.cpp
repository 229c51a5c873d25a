#include "cli/sweep_cluster.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cli/cli_common.h"

namespace tessel::cli {

namespace fs = std::filesystem;

namespace {

// Debian's interpreter, which has python3-distributed; TESSEL_PYTHON names another.
std::string python_program() {
  const char* chosen = std::getenv("TESSEL_PYTHON");
  return chosen && *chosen ? chosen : "/usr/bin/python3";
}

// The Python process, its stdout read through a pipe, its stderr kept in a file for the error;
// killed if the sweep dies.
class ClusterProcess {
 public:
  ClusterProcess(const ClusterSweep& cluster, const fs::path& points_file, const fs::path& log) {
    int ends[2];
    if (pipe(ends) != 0) throw std::runtime_error("sweep: cannot make a pipe to the cluster process");
    const std::string program = fs::read_symlink("/proc/self/exe").string();
    const std::string python = python_program();
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("sweep: cannot start the cluster process");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(ends[1], STDOUT_FILENO);
      close(ends[0]);
      close(ends[1]);
      std::FILE* errors = std::fopen(log.c_str(), "w");
      if (errors) dup2(fileno(errors), STDERR_FILENO);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      execl(python.c_str(), python.c_str(), "-m", "tessel.cluster_sweep", cluster.scheduler.c_str(), program.c_str(),
            cluster.spec_file.c_str(), points_file.c_str(), static_cast<char*>(nullptr));
      std::fprintf(stderr, "cannot run %s: %s\n", python.c_str(), std::strerror(errno));
      _exit(127);
    }
    close(ends[1]);
    fd_ = ends[0];
  }
  ~ClusterProcess() {
    close(fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ClusterProcess(const ClusterProcess&) = delete;
  ClusterProcess& operator=(const ClusterProcess&) = delete;

  // The next line it printed; false at its end. An interrupting signal returns false too.
  bool next_line(std::string& line) {
    for (;;) {
      const size_t end = buffered_.find('\n');
      if (end != std::string::npos) {
        line = buffered_.substr(0, end);
        buffered_.erase(0, end + 1);
        return true;
      }
      char chunk[1 << 16];
      const ssize_t got = read(fd_, chunk, sizeof chunk);
      if (got <= 0) return false;
      buffered_.append(chunk, static_cast<size_t>(got));
    }
  }
  // Its exit status (waits for it).
  int finish() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffered_;
};

}  // namespace

nlohmann::json point_record(uint64_t point, const fs::path& dir) {
  nlohmann::json files = nlohmann::json::object();
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files[entry.path().filename().string()] = read_text(entry.path());
  }
  return {{"point", point}, {"files", files}};
}

void run_points_on_cluster(const ClusterSweep& cluster, const std::vector<uint64_t>& points, const SweepStore& store,
                           const std::function<void(uint64_t)>& on_point, const std::function<bool()>& interrupted) {
  const fs::path work = store.dir() / ".cluster";  // the points to run and the process's stderr
  fs::remove_all(work);
  fs::create_directories(work);
  {
    std::ofstream list(work / "points.txt");
    for (const uint64_t point : points) list << point << '\n';
    if (!list) throw std::runtime_error("cannot write " + (work / "points.txt").string());
  }
  uint64_t done = 0;
  {
    ClusterProcess process(cluster, work / "points.txt", work / "errors.log");
    std::string line;
    while (!interrupted() && process.next_line(line)) {
      const nlohmann::json record = nlohmann::json::parse(line);
      const uint64_t point = record.at("point").get<uint64_t>();
      const fs::path dir = store.scratch(point);
      for (const auto& [name, text] : record.at("files").items()) {
        if (name.find('/') != std::string::npos || name.rfind('.', 0) == 0) {
          throw std::runtime_error("sweep: a cluster worker sent a file named '" + name + "'");
        }
        std::ofstream file(dir / name);
        file << text.get<std::string>();
        if (!file) throw std::runtime_error("cannot write " + (dir / name).string());
      }
      store.commit(point);
      on_point(++done);
    }
    if (interrupted()) {
      throw std::runtime_error(
          "sweep interrupted (with --out, the finished points are kept and the same command goes on)");
    }
    const int status = process.finish();
    if (status != 0 || done != points.size()) {
      std::string log = read_text(work / "errors.log");
      if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
      throw std::runtime_error("sweep --scheduler " + cluster.scheduler + ": " + std::to_string(done) + " of " +
                               std::to_string(points.size()) + " points came back; the cluster process said:\n" + log);
    }
  }
  fs::remove_all(work);
}

}  // namespace tessel::cli
