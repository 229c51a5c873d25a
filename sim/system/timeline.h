// A system run's timeline (fidelity level 3 for systems): one SystemC process per pipeline
// stage executes its device's program (sim/system/schedule.h: inference steps micro-batch by
// micro-batch; a training schedule's forward and backward passes), each action waiting for its
// input. Compute runs for the device's time; a collective occupies the device and, phase by
// phase, its links; an overlapped collective occupies only the links, on its group's stream,
// until a wait needs it done; a send occupies the links of its route while the sender goes
// on. Links are shared resources, taken first come first served, so bubbles, communication
// overlapped with compute and link contention come out of the run rather than from formulas.
//
// One process stands for each stage: the other members of its tensor-parallel group and the
// other data-parallel replicas do the same work at the same time on links of their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
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
  std::string category;  // compute, collective, send, wait
  uint64_t start_ticks = 0;
  uint64_t duration_ticks = 0;
  uint64_t step = 0;
  uint64_t microbatch = 0;
};

// Where an action's output arrives: one of a stage's numbered inputs.
struct Delivery {
  uint64_t stage = 0;
  size_t slot = 0;
};

// One piece of a stage's work, in its program's order: it waits for an input (activations from
// the stage before, gradients from the stage after, the token its micro-batch sampled), runs
// its ops, and delivers its output (by its Send op; without one, a token of a few bytes).
struct TimelineAction {
  const StepResult* work = nullptr;
  std::optional<size_t> waits_for;
  std::optional<Delivery> delivers;
  // The (step, micro-batch) whose end it marks: the last stage's, when every token is out.
  std::optional<std::pair<size_t, uint64_t>> finishes;
  size_t step = 0;  // for the trace: the step (inference), or the pass (training)
  uint64_t microbatch = 0;
};

struct TimelineInput {
  const Placement* placement = nullptr;
  // A tick is a thousandth of a cycle of the devices' clock, so every op's whole cycles are
  // exact and a one-device timeline adds up to the one-device run.
  double clock_hz = 0;
  std::vector<std::vector<TimelineAction>> programs;  // one a pipeline stage
  size_t slots = 0;                                   // inputs each stage numbers
  size_t steps = 0;                                   // the finished table: steps × micro-batches
  uint64_t microbatches = 1;
  bool record_events = false;
};

struct TimelineResult {
  uint64_t end_ticks = 0;
  std::vector<uint64_t> busy_ticks;           // per stage: compute and blocking collectives
  std::vector<uint64_t> communication_ticks;  // per stage: blocking collectives and waits for overlapped ones
  std::vector<std::vector<uint64_t>> finished;  // [step][micro-batch]: when its finishing action ended
  std::map<LinkKey, LinkUsage> links;
  std::vector<TimelineEvent> events;

  double seconds(uint64_t ticks, double clock_hz) const;
};

TimelineResult run_timeline(const TimelineInput& input);

}  // namespace tessel::sim
