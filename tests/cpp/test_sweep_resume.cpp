// A sweep killed at any moment keeps every point it finished, whole, and the same command
// finishes it into the table one run would have made; its workers die with it; another sweep
// into its directory is refused; a sweep without --out leaves nothing behind, interrupted or not.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

const std::string kArch = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/array_8x8.yaml";

// Sixteen points of about a tenth of a second each.
std::string slow_sweep(const std::string& rows = "[2, 3, 4, 5, 6, 7, 8, 9]") {
  return "arch: " + kArch + "\nvary:\n  array.rows: " + rows +
         "\n  array.cols: [4, 8]\nrun:\n  gemm: 800,800,800\n  no-check: true\n";
}

// Starts tessel in the background with TMPDIR set, its output discarded.
pid_t start_tessel(const std::vector<std::string>& arguments, const fs::path& tmpdir) {
  const std::string binary = std::string(TESSEL_BINARY_DIR) + "/tessel";
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("TMPDIR", tmpdir.c_str(), 1);
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

size_t committed_points(const fs::path& out) {
  size_t points = 0;
  if (!fs::exists(out / "points")) return 0;
  for (const auto& entry : fs::directory_iterator(out / "points")) {
    points += entry.path().filename().string().front() != '.' ? 1 : 0;
  }
  return points;
}

void wait_for_points(const fs::path& out, size_t points) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (committed_points(out) < points && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Processes whose command line names `text`, other than this one.
size_t processes_naming(const std::string& text) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos || name == std::to_string(getpid())) continue;
    count += testing::read_text(entry.path() / "cmdline").find(text) != std::string::npos ? 1 : 0;
  }
  return count;
}

bool none_within_seconds(const std::string& text, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (processes_naming(text) > 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(SweepResume, AKilledSweepKeepsWholePointsAndTheSameCommandFinishesTheTable) {
  const testing::TempFile spec("sweep_resume.yaml", slow_sweep());
  const fs::path reference = testing::fresh_dir("sweep_resume_reference");
  const fs::path out = testing::fresh_dir("sweep_resume_killed");
  ASSERT_EQ(testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + reference.string()).exit_code, 0);

  const pid_t sweep = start_tessel({"sweep", "--quiet", "--jobs", "2", "--spec", spec.path, "--out", out.string()},
                                   fs::temp_directory_path());
  wait_for_points(out, 3);
  kill(sweep, SIGKILL);
  waitpid(sweep, nullptr, 0);
  const size_t kept = committed_points(out);
  EXPECT_GE(kept, 3u);
  EXPECT_LT(kept, 16u) << "the sweep ended before it was killed: make its points slower";
  EXPECT_TRUE(none_within_seconds(out.string(), 5)) << "workers outlived their sweep";
  EXPECT_FALSE(fs::exists(out / "sweep.csv"));
  for (const auto& entry : fs::directory_iterator(out / "points")) {
    if (entry.path().filename().string().front() == '.') continue;  // scratch, cleared by the next run
    EXPECT_TRUE(fs::exists(entry.path() / "summary.json")) << entry.path();
    EXPECT_TRUE(fs::exists(entry.path() / "stats.json")) << entry.path();
  }

  const testing::CliResult again = testing::run_tessel("sweep --jobs 2 --spec " + spec.path + " --out " + out.string());
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find(std::to_string(kept) + " of 16 points finished by an earlier run"), std::string::npos)
      << again.output;
  EXPECT_EQ(testing::read_text(out / "sweep.csv"), testing::read_text(reference / "sweep.csv"));
  fs::remove_all(reference);
  fs::remove_all(out);
}

TEST(SweepResume, AnotherSweepIntoTheSameDirectoryIsRefused) {
  const testing::TempFile first("sweep_first.yaml", slow_sweep("[2]"));
  const testing::TempFile second("sweep_second.yaml", slow_sweep("[3]"));
  const fs::path out = testing::fresh_dir("sweep_refused");
  ASSERT_EQ(testing::run_tessel("sweep --quiet --spec " + first.path + " --out " + out.string()).exit_code, 0);
  const testing::CliResult other = testing::run_tessel("sweep --quiet --spec " + second.path + " --out " + out.string());
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.output.find(out.string() + " holds the points of another sweep"), std::string::npos) << other.output;
  // Nor does a sweep write into a directory of other files.
  const fs::path busy = testing::fresh_dir("sweep_busy");
  fs::create_directories(busy);
  std::ofstream(busy / "notes.txt") << "mine\n";
  const testing::CliResult into_busy = testing::run_tessel("sweep --quiet --spec " + first.path + " --out " + busy.string());
  EXPECT_EQ(into_busy.exit_code, 1);
  EXPECT_NE(into_busy.output.find("holds no sweep.json"), std::string::npos) << into_busy.output;
  fs::remove_all(out);
  fs::remove_all(busy);
}

TEST(SweepResume, WithoutOutNothingIsLeftBehindEvenWhenInterrupted) {
  const testing::TempFile spec("sweep_tmp.yaml", slow_sweep());
  const fs::path tmpdir = testing::fresh_dir("sweep_tmpdir");
  fs::create_directories(tmpdir);
  const pid_t whole = start_tessel({"sweep", "--quiet", "--spec", spec.path}, tmpdir);
  int status = 0;
  waitpid(whole, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(fs::is_empty(tmpdir));

  const pid_t interrupted = start_tessel({"sweep", "--quiet", "--jobs", "2", "--spec", spec.path}, tmpdir);
  wait_for_points(tmpdir / ("tessel_sweep_" + std::to_string(interrupted)), 1);
  kill(interrupted, SIGTERM);
  waitpid(interrupted, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  EXPECT_TRUE(none_within_seconds(spec.path, 5)) << "workers outlived their sweep";
  EXPECT_TRUE(fs::is_empty(tmpdir));
  fs::remove_all(tmpdir);
}

}  // namespace
}  // namespace tessel
