// `tessel sweep`: every point of a sweep file (sweep_spec.h) run as `tessel run` would run it,
// optionally in worker processes, and one CSV row of figures per point. Each point keeps its
// architecture file and its run's reports under points/<i>/ of the output folder.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>

namespace tessel::cli {

struct SweepFlags {
  std::string spec;
  std::string out;   // empty: a temporary folder, and the CSV on stdout
  size_t jobs = 1;   // worker processes
  bool quiet = false;
};

CLI::App* add_sweep_command(CLI::App& app, SweepFlags& flags);
int sweep_command(const SweepFlags& flags);

}  // namespace tessel::cli
