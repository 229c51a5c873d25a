// `tessel run`: map and simulate every layer of a GEMM workload, or every operator of a
// transformer phase; print the table, write the reports.
#pragma once

#include <CLI/CLI.hpp>

#include <set>
#include <string>

#include "cli/cli_common.h"
#include "sim/report/common.h"

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
  // A transformer instead of --gemm/--topology.
  std::string model;  // preset name or Hugging Face config.json
  std::string quant;  // precision recipe: presets or a YAML file
  std::string phase = "prefill";
  uint64_t batch = 1;
  uint64_t seq = 2048;     // prefill: tokens per sequence
  uint64_t kv_len = 2048;  // decode: tokens already cached
  uint64_t input = 2048;   // generate: prompt tokens
  uint64_t decode_stride = 64;  // generate: decode steps simulated every this many cache positions
  uint64_t output = 128;   // generate: decode steps
  std::string attention = "fused";
  // A system of devices, and how the model is spread over it.
  std::string system;  // a system file (configs/systems/*.yaml) instead of --arch
  uint64_t tp = 1;     // devices sharing each layer (tensor parallelism)
  uint64_t pp = 1;     // pipeline stages
  uint64_t dp = 1;     // data-parallel replicas
  uint64_t ep = 1;     // replicas sharing a mixture-of-experts layer's experts
  double expert_skew = 1.0;  // the busiest expert's tokens over the mean
  uint64_t microbatches = 0;  // 0: one a stage
  std::string stage_layers;   // e.g. "20,20,20,20"
  std::string collective;     // pinned algorithm
  std::string trace;          // Trace Event Format file of the timeline
};

CLI::App* add_run_command(CLI::App& app, RunFlags& flags);
// Throws FlagError for a flag given (by its long name: "seq", "kv-len") that the run would
// ignore: a --model flag with --gemm or --topology, or a phase's flag with another phase.
void refuse_inapplicable_flags(const RunFlags& flags, const std::set<std::string>& given);
// Loads, runs and builds the reports (progress to stderr unless flags.quiet); throws on bad
// input with the message the command line prints. The Python module calls it too. `device`,
// when given, is the one --arch describes, built before (a sweep worker's, kept across points).
sim::ReportBundle execute_run(const RunFlags& flags, sim::Device* device = nullptr);
// execute_run, then prints the table, writes the files; returns the exit status.
int run_command(const RunFlags& flags);

}  // namespace tessel::cli
