#include "cli/sweep_store.h"

#include <fstream>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "sim/report/build_info.h"

namespace tessel::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecord = "sweep.json";
constexpr const char* kScratchPrefix = ".partial-";

// Written beside the target and renamed over it, so a reader sees the old file or the new.
void replace_file(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  const fs::path staged = path.parent_path() / (kScratchPrefix + path.filename().string());
  {
    std::ofstream file(staged);
    write(file);
    file.flush();
    if (!file) throw std::runtime_error("cannot write " + staged.string());
  }
  fs::rename(staged, path);
}

void replace_file(const fs::path& path, const std::string& text) {
  replace_file(path, [&](std::ostream& out) { out << text; });
}

}  // namespace

std::string sweep_fingerprint(const std::string& sweep_file, const std::string& arch_file) {
  const nlohmann::json record = {{"sweep_file", read_text(sweep_file)},
                                 {"arch_file", read_text(arch_file)},
                                 {"tessel_version", sim::tessel_version()},
                                 {"tessel_commit", sim::tessel_commit()}};
  return record.dump(2) + "\n";
}

void require_sweep_dir(const fs::path& dir, const std::string& fingerprint) {
  const fs::path record = dir / kRecord;
  if (!fs::exists(record)) {
    throw std::runtime_error(dir.string() + " holds no " + kRecord + ": not a sweep's directory");
  }
  if (read_text(record) != fingerprint) {
    throw std::runtime_error(dir.string() + " holds the points of another sweep (its " + kRecord +
                             " differs: another sweep file, architecture or tessel build)");
  }
}

fs::path point_dir_in(const fs::path& dir, uint64_t point) { return dir / "points" / std::to_string(point); }

bool point_ran_in(const fs::path& dir, uint64_t point) {
  const fs::path folder = point_dir_in(dir, point);
  return fs::exists(folder / "summary.json") || fs::exists(folder / "skipped.txt") || fs::exists(folder / "error.txt");
}

SweepStore::SweepStore(fs::path dir, const std::string& fingerprint) : dir_(std::move(dir)) {
  const fs::path record = dir_ / kRecord;
  if (fs::exists(record)) {
    if (read_text(record) != fingerprint) {
      throw std::runtime_error(dir_.string() + " holds the points of another sweep (its " + kRecord +
                               " differs: another sweep file, architecture or tessel build); "
                               "choose another --out or remove it");
    }
  } else if (fs::exists(dir_)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_)) {
      if (entry.path().filename().string().rfind(kScratchPrefix, 0) == 0) continue;  // a record half written
      throw std::runtime_error(dir_.string() + " is not empty and holds no " + kRecord +
                               ": choose an empty or new --out");
    }
  }
  // The record first: a directory with anything else in it is a sweep's.
  fs::create_directories(dir_);
  if (!fs::exists(record)) replace_file(record, fingerprint);
  fs::create_directories(dir_ / "points");
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_ / "points")) {
    if (entry.path().filename().string().rfind(kScratchPrefix, 0) == 0) fs::remove_all(entry.path());
  }
}

fs::path SweepStore::point_dir(uint64_t point) const { return point_dir_in(dir_, point); }

bool SweepStore::finished(uint64_t point) const {
  return fs::exists(point_dir(point) / "summary.json") || fs::exists(point_dir(point) / "skipped.txt");
}

fs::path SweepStore::scratch(uint64_t point) const {
  const fs::path path = dir_ / "points" / (kScratchPrefix + std::to_string(point));
  fs::remove_all(path);
  fs::create_directories(path);
  return path;
}

void SweepStore::commit(uint64_t point) const {
  const fs::path target = point_dir(point);
  fs::remove_all(target);
  fs::rename(dir_ / "points" / (kScratchPrefix + std::to_string(point)), target);
}

void SweepStore::adopt(uint64_t point, const fs::path& from) const {
  fs::copy(from, scratch(point), fs::copy_options::recursive);
  commit(point);
}

void SweepStore::write_table(const std::string& name, const std::function<void(std::ostream&)>& write) const {
  replace_file(dir_ / name, write);
}

void SweepStore::write_table(const std::string& name, const std::string& csv) const { replace_file(dir_ / name, csv); }

}  // namespace tessel::cli
