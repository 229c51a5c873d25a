// One point of a sweep (sweep_spec.h): the hardware file it writes (arch.yaml, or system.yaml
// with its device file's absolute path), the constraint it may break, the command it runs
// (`tessel run` or `tessel train`, with the sweep's flags and its axes' values) and the
// figures its row of sweep.csv carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/device_pool.h"
#include "cli/sweep_spec.h"
#include "cli/sweep_store.h"

namespace tessel::cli {

// The summary figures a row carries, in order; empty where a run has none (a GEMM run has no
// TTFT, a model run no area).
const std::vector<std::string>& sweep_figures(const SweepSpec& spec);

// Parses the sweep's flags with each value of each flag axis as the command parses them, before
// any point runs; throws FlagError naming the sweep file and the key.
void check_point_flags(const SweepSpec& spec);

// The models the sweep runs: a model axis's values, or the one of its flags.
std::vector<std::string> models_of(const SweepSpec& spec);

// "key=value key=value" of the point's axes.
std::string point_text(const SweepSpec& spec, uint64_t point);

// Runs one point into its scratch folder (its hardware file, the run's reports, skipped.txt
// with the constraint it breaks, or error.txt with the reason), then commits it as points/<i>.
// A single-device `tessel run` point takes its device from `devices`.
void run_point(const SweepSpec& spec, uint64_t point, const SweepStore& store, DevicePool& devices, bool quiet);

}  // namespace tessel::cli
