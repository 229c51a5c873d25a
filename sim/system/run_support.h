// What the system runs (inference and training) share: the split of a model's layers into
// pipeline stages, what each level of links carried, and sizes in words.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/system_spec.h"
#include "sim/system/timeline.h"
#include "workloads/model_config.h"

namespace tessel::sim {

// One level of links over the run: what crossed it, and its busiest link.
struct LinkLevelUsage {
  std::string name;
  double bytes = 0;              // every device's, each byte counted once a link it crosses
  double busiest_seconds = 0;    // of its busiest link
  double utilization = 0;        // the busiest link's busy time / the run's
};

// The layers of each of `parts` stages: `given` (--stage-layers) when not empty, else balanced
// (the first layers mod parts stages take one more). `parts_flag` names what set the count in
// errors, e.g. "--pp 4". Throws SettingError for a split that does not cover the model's layers
// once, or more stages than layers.
std::vector<uint64_t> split_layers(const std::vector<uint64_t>& given, uint64_t parts, const std::string& parts_flag,
                                   const workloads::ModelConfig& model);

// What each level of `system`'s links carried on the timeline; one process stands for
// `devices_per_stage` devices, each moving as much.
std::vector<LinkLevelUsage> link_usage(const arch::SystemSpec& system, const TimelineResult& timeline,
                                       uint64_t devices_per_stage, double clock_hz);

// e.g. "12.3" (GB, one decimal).
std::string gigabytes(uint64_t bytes);

}  // namespace tessel::sim
