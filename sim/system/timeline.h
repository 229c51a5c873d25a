// A system run's timeline (fidelity level 3 for systems): one SystemC process per pipeline
// stage executes its device's work in schedule order, micro-batch by micro-batch and step by
// step, each waiting for its input (the previous stage's activations; for the first stage of
// a decode step, the token its micro-batch sampled at the last stage). Compute runs for the
// device's time; a collective occupies the device and, phase by phase, its links; a send to
// the next stage occupies the links of its route while the sender goes on. Links are shared
// resources, taken first come first served, so bubbles, communication overlapped with compute
// and link contention come out of the run rather than from formulas.
//
// One process stands for each stage: the other members of its tensor-parallel group and the
// other data-parallel replicas do the same work at the same time on links of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/run_workload.h"
#include "sim/system/placement.h"

namespace tessel::sim {

// One link of one device: the port into a switch level, or the link to a torus neighbour.
struct LinkKey {
  uint64_t device = 0;
  uint32_t level = 0;
  int32_t dim = -1;        // a torus dimension; -1 for a switch
  uint32_t direction = 0;  // switch: 0 out, 1 in; torus: 0 towards +, 1 towards -
  bool operator<(const LinkKey& other) const;
};

struct LinkUsage {
  uint64_t busy_ticks = 0;
  double bytes = 0;
};

// A span of time on a track of the trace: a stage's device or one of its links.
struct TimelineEvent {
  std::string track;
  std::string name;
  std::string category;  // compute, collective, send
  uint64_t start_ticks = 0;
  uint64_t duration_ticks = 0;
  uint64_t step = 0;
  uint64_t microbatch = 0;
};

struct TimelineInput {
  const Placement* placement = nullptr;
  // A tick is a thousandth of a cycle of the devices' clock, so every op's whole cycles are
  // exact and a one-device timeline adds up to the one-device run.
  double clock_hz = 0;
  size_t steps = 0;
  uint64_t microbatches = 1;
  // The work of `stage` for one micro-batch in `step` (every micro-batch of a step the same).
  std::function<const StepResult&(size_t stage, size_t step)> work;
  bool record_events = false;
};

struct TimelineResult {
  uint64_t end_ticks = 0;
  std::vector<uint64_t> busy_ticks;              // per stage: compute and collectives
  std::vector<std::vector<uint64_t>> finished;  // [step][micro-batch]: when the last stage ended it
  std::map<LinkKey, LinkUsage> links;
  std::vector<TimelineEvent> events;

  double seconds(uint64_t ticks, double clock_hz) const;
};

TimelineResult run_timeline(const TimelineInput& input);

}  // namespace tessel::sim
