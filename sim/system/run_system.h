// A transformer on a system of devices under a parallel plan: each pipeline stage's op graphs
// (one device's tensor-parallel shard of its layers, its collectives and its send to the next
// stage), each op costed once by the device or the links, then every stage's work run on one
// SystemC timeline (sim/system/timeline.h), micro-batch by micro-batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/system_spec.h"
#include "sim/run_workload.h"
#include "sim/system/parallel_plan.h"
#include "sim/system/run_support.h"
#include "sim/system/timeline.h"

namespace tessel::sim {

// What one device of a stage holds in its main memory.
struct Footprint {
  uint64_t weight_bytes = 0;
  uint64_t kv_cache_bytes = 0;      // the replica's sequences at their longest
  uint64_t activation_bytes = 0;    // the largest op's working set and the micro-batches waiting
  uint64_t total() const { return weight_bytes + kv_cache_bytes + activation_bytes; }
};

struct StageRun {
  uint64_t first_layer = 0;
  uint64_t layers = 0;
  RunResult run;  // its device's steps, one micro-batch's each (every micro-batch does the same)
  Footprint footprint;
  uint64_t busy_ticks = 0;  // compute and collectives on the timeline
};

struct SystemRunResult {
  std::string system_name;
  std::string system_file;
  uint64_t system_devices = 0;
  std::vector<std::string> level_names;
  ParallelPlan plan;  // as run: micro-batches and stage layers resolved
  ModelWorkload workload;
  DeviceFacts device;
  RunSettings settings;
  std::vector<StageRun> stages;
  std::vector<LinkLevelUsage> links;
  TimelineResult timeline;
  // The model's (what its config asks for that tessel does not model), then footprints over
  // capacity when fitting is not required.
  std::vector<std::string> warnings;

  uint64_t devices_used() const { return plan.devices(); }
  uint64_t devices_per_stage() const { return plan.tensor * plan.data; }
  double seconds() const;
  // Generate only: when every sequence has its first token; the mean time per later token.
  double ttft_s() const;
  double tpot_s() const;
  double tokens_per_s() const;
  double stage_busy_s(size_t stage) const;
  // Every device's energy, the links' included.
  arch::EnergyBreakdown energy() const;
  uint64_t total_flops() const;
  uint64_t total_macs() const;
  arch::Activity total_activity() const;
};

struct SystemRunOptions {
  // A device whose footprint exceeds its memory is an error; otherwise a warning, and the run
  // goes on as if it fitted.
  bool require_fit = true;
  bool record_events = false;  // for --trace
};

// Throws SettingError for a plan the system cannot hold (too few devices, groups straddling
// links, sizes that do not divide) or, with require_fit, a device whose memory is too small;
// InputError for an invalid request.
SystemRunResult run_system(const arch::SystemSpec& system, const ModelWorkload& workload, const ParallelPlan& plan,
                           const RunSettings& settings, const SystemRunOptions& options = {},
                           const RunObserver& observer = {});

}  // namespace tessel::sim
