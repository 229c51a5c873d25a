// `tessel run`: map and simulate every layer, print the table, write the reports.
#pragma once

#include <CLI/CLI.hpp>

#include "sim/cli/cli_common.h"

namespace tessel::cli {

struct RunFlags {
  TargetFlags target;
  bool check = false;
  bool no_check = false;
  uint64_t seed = 1;
  size_t confirm = 3;
  std::string mapping;
  std::string out;
  bool quiet = false;
};

CLI::App* add_run_command(CLI::App& app, RunFlags& flags);
int run_command(const RunFlags& flags);

}  // namespace tessel::cli
