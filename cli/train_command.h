// `tessel train`: one training iteration of a transformer on a system (or one device): its
// forward and backward passes under a parallel plan and pipeline schedule, the optimizer step,
// memory per device; print the table, write the reports.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "sim/report/common.h"
#include "sim/system/plan_search.h"

namespace tessel::cli {

struct TrainFlags {
  std::string arch;
  std::string system;
  std::string model;
  std::string dtype;  // default: bf16 where the device has it, else its first format
  uint64_t global_batch = 8;
  uint64_t micro_batch = 1;
  uint64_t seq = 2048;
  std::string attention = "fused";
  uint64_t tp = 1;
  uint64_t pp = 1;
  uint64_t dp = 1;
  uint64_t ep = 1;
  double expert_skew = 1.0;
  bool sequence_parallel = false;
  std::string schedule = "1f1b";
  uint64_t chunks = 1;
  std::string recompute = "none";
  uint64_t zero = 0;
  uint64_t lora_rank = 0;
  std::string teacher;
  std::string stage_layers;
  std::string collective;
  bool check = false;
  bool no_check = false;
  uint64_t seed = 1;
  size_t confirm = 3;
  std::string out;
  std::string trace;
  bool quiet = false;
  bool search = false;     // rank the plans that fit instead of running one
  size_t search_full = 5;  // the best plans timed in full
  size_t search_show = 20;
  size_t jobs = 0;  // --search's worker processes; 0: one a core
};

CLI::App* add_train_command(CLI::App& app, TrainFlags& flags);
// Loads, runs and builds the reports (progress on stderr unless quiet); throws on bad input
// with the message the command line prints. The Python module calls it too.
sim::ReportBundle execute_train(const TrainFlags& flags);
// --search: every plan's outcome, fastest first (progress on stderr unless quiet).
std::vector<sim::PlanOutcome> execute_search(const TrainFlags& flags);
// What the model's (and the teacher's) configs ask for that tessel does not model, as a
// training summary lists them.
std::vector<std::string> training_warnings(const TrainFlags& flags);
int train_command(const TrainFlags& flags);

}  // namespace tessel::cli
