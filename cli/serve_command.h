// `tessel serve`: a model served under load on one device (or several sharing its layers):
// requests from a trace, an open Poisson process or closed-loop clients, batched iteration by
// iteration by a scheduler, each iteration simulated; print the latency table, write the
// reports. --search ranks the placements of a node instead.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/serving/serve.h"
#include "sim/serving/placement_search.h"
#include "sim/serving/serve_metrics.h"

namespace tessel::cli {

struct ServeFlags {
  std::string placement;  // a placement file setting the flags up to draft_tokens and acceptance
  std::string arch;
  std::string system;
  uint64_t tp = 1;
  uint64_t replicas = 1;     // data-parallel copies of the (decoding) devices
  std::string prefill_arch;  // disaggregated: the prompts' devices
  std::string prefill_system;
  uint64_t prefill_tp = 1;
  double kv_link_gbps = 0;
  double kv_link_latency_us = 0;
  double offload_weights_gbps = 0;
  double offload_kv_gbps = 0;
  double host_memory_gib = 0;
  std::string attention_arch;
  std::string attention_ops;  // comma-separated op kinds or name globs; empty: the default
  double attention_link_gbps = 0;
  double attention_link_latency_us = 0;
  uint64_t attention_microbatches = 1;
  std::string draft_model;  // speculative decoding
  uint64_t draft_tokens = 4;
  std::optional<double> acceptance;
  std::string model;
  std::string quant;  // precision recipe: presets or a YAML file
  std::string dtype;
  std::string requests;  // a trace CSV
  std::string arrivals;  // poisson:RATE
  uint64_t concurrency = 0;
  std::string prompt_len = "512";
  std::string output_len = "128";
  uint64_t requests_count = 1000;
  uint64_t seed = 1;
  std::string scheduler = "continuous";
  uint64_t max_batch = 256;
  uint64_t token_budget = 2048;
  bool no_chunked_prefill = false;
  uint64_t block_size = 16;
  uint64_t kv_blocks = 0;
  double memory_fraction = 0.9;
  uint64_t shape_cells = 16;
  std::optional<double> slo_ttft_ms;
  std::optional<double> slo_tpot_ms;
  std::string out;
  std::string trace;
  bool quiet = false;
  bool search = false;  // rank the placements of the system's devices instead of serving one
};

CLI::App* add_serve_command(CLI::App& app, ServeFlags& flags);

struct ServeRun {
  sim::ServeResult result;
  sim::ServiceObjectives objectives;
  sim::ServeSummary summary;
};
// Loads, serves (progress on stderr unless quiet) and sums up; throws on bad input with the
// message the command line prints. The Python module calls it too.
ServeRun execute_serve(const ServeFlags& flags);
// --search: every placement's outcome, best first.
std::vector<sim::PlacementOutcome> execute_placement_search(const ServeFlags& flags,
                                                            sim::ServiceObjectives& objectives);
int serve_command(const ServeFlags& flags);

}  // namespace tessel::cli
