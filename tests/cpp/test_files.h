// Files the input-reader tests write and read, and the message of the error a bad one raises.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace tessel::testing {

// A file in the temp directory holding `text`, removed when the test ends. The process id in
// its name keeps test processes running side by side apart.
struct TempFile {
  TempFile(const std::string& name, const std::string& text)
      : path((std::filesystem::temp_directory_path() /
              ("tessel_" + std::to_string(::getpid()) + "_" + name))
                 .string()) {
    std::ofstream(path) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path;
};

// An empty path in the temp directory for a run's outputs, named apart per process.
inline std::filesystem::path fresh_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tessel_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Line `line` (1-based) replaced by `text`, or removed when there is none.
struct LineEdit {
  int line;
  std::optional<std::string> text;
};

// The lines of the file at `path`, without their line ends.
inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `lines` with `edits` applied, each line ended by '\n': a base file with one mistake put in.
inline std::string edit_lines(const std::vector<std::string>& lines,
                              const std::vector<LineEdit>& edits) {
  std::vector<std::optional<std::string>> edited(lines.begin(), lines.end());
  for (const LineEdit& edit : edits) edited.at(static_cast<std::size_t>(edit.line - 1)) = edit.text;
  std::string text;
  for (const std::optional<std::string>& line : edited) {
    if (line) text += *line + '\n';
  }
  return text;
}

// The message of the `Error` that `action()` throws; a test failure naming `what` (what should
// have failed) and "" when it throws none.
template <typename Error, typename Action>
std::string error_message(Action&& action, const std::string& what) {
  try {
    std::forward<Action>(action)();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << what;
  return "";
}

}  // namespace tessel::testing
