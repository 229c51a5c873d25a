// Runs the tessel executable the build produced and captures what it printed.
#pragma once

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace tessel::testing {

struct CliResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs from the repository root, so arguments may name files relative to it.
inline CliResult run_tessel(const std::string& arguments) {
  const std::string command = "cd '" + std::string(TESSEL_SOURCE_DIR) + "' && '" + std::string(TESSEL_BINARY_DIR) +
                              "/tessel' " + arguments + " 2>&1";
  CliResult result{-1, ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, read);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace tessel::testing
