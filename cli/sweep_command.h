// `tessel sweep`: every point of a sweep file (sweep_spec.h) run as `tessel run` would run it,
// optionally in worker processes, and one CSV row of figures per point. Each point keeps its
// architecture file and its run's reports under points/<i>/ of the output folder.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace tessel::cli {

struct SweepFlags {
  std::string spec;
  std::string out;   // empty: a temporary folder, and the CSV on stdout
  size_t jobs = 1;   // worker processes
  bool quiet = false;
  std::string shard;               // "i/N": run the points p with p mod N = i
  std::vector<std::string> merge;  // shards' directories to join into one table
  std::string pareto;              // objectives: "seconds,energy_pj"
  std::string scheduler;           // a dask.distributed scheduler's address: run the points there
  std::string emit_points;         // "i,j,...": run these points, print each as a JSON line (a cluster task)
};

CLI::App* add_sweep_command(CLI::App& app, SweepFlags& flags);
int sweep_command(const SweepFlags& flags);

}  // namespace tessel::cli
