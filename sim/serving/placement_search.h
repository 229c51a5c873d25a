// A search over the ways to serve a model on a system's devices: every tensor-parallel width,
// alone or as data-parallel replicas, and every split of prompts and decoding over two groups
// (disaggregated, their caches over the system's first-level link), each served under the same
// load and ranked by the requests a second each device serves within the objectives, with what
// held it back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch/system_spec.h"
#include "sim/serving/serve.h"
#include "sim/serving/serve_metrics.h"

namespace tessel::sim {

struct ServePlacement {
  uint64_t tp = 1;          // the decoding devices (all the work when not disaggregated)
  uint64_t prefill_tp = 0;  // the prompts' devices; 0: not disaggregated
  uint64_t replicas = 1;    // copies of the tp devices, each with its own batches (not disaggregated)

  uint64_t devices() const { return tp * replicas + prefill_tp; }
  // e.g. "tp 4", "tp 2 x 4 replicas" or "prefill tp 2 + decode tp 4".
  std::string text() const;
};

struct PlacementOutcome {
  ServePlacement placement;
  ServeSummary summary;
  // Requests a second meeting every objective (every request without objectives), per device.
  double goodput_per_device = 0;
  // What held it back: the limit requests waited on, or the busier group of devices.
  std::string bottleneck;
  std::string error;  // why it cannot serve (a model too large for its devices); empty when it ran
};

// Tensor-parallel widths that are powers of two within the system's first-level group (a node)
// and divide the model; each as 2, 4, ... replicas while they fit the group; and disaggregated
// pairs of widths that fit the group together.
std::vector<ServePlacement> placement_candidates(const arch::SystemSpec& system, const workloads::ModelConfig& model);

// Serves each candidate under `load` and ranks them: most goodput per device first, less energy
// per output token on a tie, those that cannot serve last. progress(i, n, candidate) before each.
std::vector<PlacementOutcome> search_placements(
    const arch::SystemSpec& system, const workloads::ModelConfig& model, const ServeLoad& load,
    const ServeSettings& settings, const RunSettings& run_settings, const ServiceObjectives& objectives,
    const std::function<void(size_t, size_t, const std::string&)>& progress = {});

}  // namespace tessel::sim
