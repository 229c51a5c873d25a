// A bad architecture file. The message names the file, the 1-based line and the full
// dotted key, so a user can go straight to the spot:
//   configs/arch/x.yaml:7: key 'array.rows': must be a positive integer, got -4
#pragma once

#include <stdexcept>
#include <string>

namespace tessel::arch {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& key, const std::string& problem)
      : std::runtime_error(file + ":" + std::to_string(line) + ": key '" + key + "': " + problem) {}

  // A problem at a line that no single key owns, such as a syntax error.
  ConfigError(const std::string& file, int line, const std::string& problem)
      : std::runtime_error(file + ":" + std::to_string(line) + ": " + problem) {}

  // A problem with the file as a whole: missing, unreadable, of an unknown format.
  ConfigError(const std::string& file, const std::string& problem)
      : std::runtime_error(file + ": " + problem) {}
};

}  // namespace tessel::arch
