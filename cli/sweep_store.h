// The output directory of a sweep, made so that a rerun can trust what it finds after a run
// was killed at any moment: a point's files are written into a scratch folder and renamed
// into points/<i> once complete, so a point folder is always whole; sweep.json records the
// sweep it belongs to, so a rerun of another sweep into it is refused; sweep.csv is replaced
// whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>

namespace tessel::cli {

// What a sweep's results depend on besides its points' own values, as sweep.json records it:
// the sweep file's and the architecture file's text and the tessel build.
std::string sweep_fingerprint(const std::string& sweep_file, const std::string& arch_file);

// Throws std::runtime_error naming `dir` when it holds no sweep or another one than
// `fingerprint` (a shard's directory, for --merge).
void require_sweep_dir(const std::filesystem::path& dir, const std::string& fingerprint);
// A point's folder in the sweep directory `dir`, and whether it ran (to its reports, a
// constraint it breaks, or an error).
std::filesystem::path point_dir_in(const std::filesystem::path& dir, uint64_t point);
bool point_ran_in(const std::filesystem::path& dir, uint64_t point);

class SweepStore {
 public:
  // Creates `dir`, or opens the one a run of the same sweep (`fingerprint`) left, clearing
  // the scratch of points it did not finish. Throws std::runtime_error naming the directory
  // when it holds another sweep or is not a sweep's.
  SweepStore(std::filesystem::path dir, const std::string& fingerprint);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path point_dir(uint64_t point) const;
  // Whether the point ran to its reports or was skipped by a constraint (a point that failed
  // runs again).
  bool finished(uint64_t point) const;
  // An empty folder for the point's files, until commit().
  std::filesystem::path scratch(uint64_t point) const;
  // Makes the scratch the point's folder, replacing what an earlier attempt left.
  void commit(uint64_t point) const;
  // Commits a copy of the point's folder `from` (another directory's) as the point's.
  void adopt(uint64_t point, const std::filesystem::path& from) const;
  // Replaces the file `name` of the directory whole, with what `write` writes.
  void write_table(const std::string& name, const std::function<void(std::ostream&)>& write) const;
  void write_table(const std::string& name, const std::string& csv) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace tessel::cli
