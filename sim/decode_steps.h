// A generate run's decode steps: which are simulated and which interpolated between them
// (sim/op_interpolation.h), and the steps between the first and the last, whose ops the run
// does not keep (a long run would hold thousands of copies of the same layer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "sim/run_workload.h"

namespace tessel::sim {

class StepRunner;

// The decode steps simulated first: the first (phases[1]), the last, and those whose attention
// spans a multiple of `stride` positions; indices into phases, in order. refine_between adds
// more where interpolating between them misses.
std::vector<size_t> stride_decode_steps(const std::vector<workloads::Phase>& phases, uint64_t stride);

// How far an interpolated step's cycles may lie from its simulation at the checked midpoint of
// two simulated steps before the span between them is split: 0.1% of the step. A device's time
// over the cache length is affine between the points where its blocks of positions (tiles,
// buffer-sized passes) start or fill up; there it jumps or spikes, and the midpoint of a span
// across such a point misses by about half the jump. Splitting closes in on it.
constexpr double kInterpolationTolerance = 1e-3;

// Between two simulated decode steps `from` and `to`: interpolates the midpoint between them
// (interpolate(i, from, to) returns the step's cycles), simulates it (simulate(i), the same),
// and where they differ by more than the tolerance, refines both halves alike. Adds each step
// it simulates to `simulated`.
void refine_between(size_t from, size_t to, const std::function<uint64_t(size_t)>& simulate,
                    const std::function<uint64_t(size_t, size_t, size_t)>& interpolate, std::set<size_t>& simulated);

// A decode step on each pipeline stage (one for a one-device run).
using StageSteps = std::vector<StepResult>;

// What runs a generate run's decode steps: simulate(i) the step on each stage; interpolate(i,
// lo, hi) the step between the simulated steps lo and hi (StepRunner::run_between); keep(i,
// steps) takes each step, in order.
struct DecodeStepper {
  std::function<StageSteps(size_t)> simulate;
  std::function<StageSteps(size_t, size_t, size_t)> interpolate;
  std::function<void(size_t, StageSteps)> keep;
};

// Runs the decode steps after the first (phases[1], run already) in order: the stride's steps
// and those refine_between adds simulated, the others interpolated between the simulated steps
// around them. Returns the steps simulated, phases[1] first.
std::vector<size_t> run_decode_steps(const std::vector<workloads::Phase>& phases, uint64_t stride,
                                     const DecodeStepper& stepper);

// The graphs of a stage's decode steps: each step's built on demand, and those of the
// simulated steps around the step interpolated last kept, since the steps of a span share them
// and steps come in order.
class SpanGraphs {
 public:
  explicit SpanGraphs(std::function<workloads::OpGraph(size_t)> build) : build_(std::move(build)) {}

  workloads::OpGraph build(size_t i) const { return build_(i); }
  // Step i's graph, kept.
  const workloads::OpGraph& at(size_t i);
  // Step i interpolated between the simulated steps lo and hi of `phases` on `runner`
  // (StepRunner::run_between), as `phase`; the kept graphs of steps before lo are dropped.
  StepResult between(StepRunner& runner, const std::vector<workloads::Phase>& phases, const workloads::Phase& phase,
                     size_t i, size_t lo, size_t hi);

 private:
  std::function<workloads::OpGraph(size_t)> build_;
  std::map<size_t, workloads::OpGraph> kept_;
};

// Rebuilds a decode step's ops on demand, exactly as the run assembled them, from the results
// the run simulated. Nothing is simulated again.
class DecodeReplay {
 public:
  // `runner` is the run's, detached; `simulated` the steps it simulated (indices into phases,
  // in order: the first decode step, the last, and those on the stride between), `fresh` the
  // ops each of those simulated rather than reused (positions in its step); `build` makes a
  // step's graph.
  DecodeReplay(std::shared_ptr<StepRunner> runner, std::vector<workloads::Phase> phases,
               std::function<workloads::OpGraph(size_t)> build, std::vector<size_t> simulated,
               std::map<size_t, std::vector<size_t>> fresh);

  // Step i (1 < i < phases - 1) with its ops.
  StepResult step(size_t i) const;

 private:
  std::shared_ptr<StepRunner> runner_;
  std::vector<workloads::Phase> phases_;
  mutable SpanGraphs graphs_;  // reports ask for the steps in order
  std::vector<size_t> simulated_;
  std::map<size_t, std::vector<size_t>> fresh_;
};

// Step i of `phases` lies between the simulated steps simulated[k - 1] and simulated[k]: k,
// the first simulated step at or after i (i must lie within the simulated range).
size_t simulated_at_or_after(const std::vector<size_t>& simulated, size_t i);

// How far step i lies from the simulated step `from` towards `to`, by cache length.
double fraction_between(const std::vector<workloads::Phase>& phases, size_t from, size_t to, size_t i);

}  // namespace tessel::sim
