// Runs the ops of a step's graph in order, each distinct op once: an op identical to one run
// before (in this step, an earlier one or another pipeline stage's) reuses its result, and a
// block of identical layers is run once and counted for each of them.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "sim/device.h"
#include "sim/run_workload.h"
#include "workloads/op_graph.h"

namespace tessel::sim {

// What costs one op: the device, or for a system the links that run its collectives.
using OpRunner = std::function<OpResult(const workloads::Op&, const RunSettings&)>;
// The transactions costing it would simulate (Device::transactions; 0 for what the links run).
using OpSizer = std::function<uint64_t(const workloads::Op&, const RunSettings&)>;

// Device ops' results by identity, for runs that share a device and its settings (a search of
// plans): what an op costs the device depends on nothing else.
using OpCostCache = std::map<std::string, OpResult>;

// What makes two ops cost the same: kind, sizes (an attention's window and softcap among them)
// and the flags that change their work.
std::string op_identity(const workloads::Op& op);

class StepRunner {
 public:
  // `device_cache`, when given, holds the device ops' results beyond this runner's life.
  StepRunner(const DeviceFacts& facts, OpRunner run, OpSizer size, const RunSettings& settings,
             const RunObserver& observer, OpCostCache* device_cache = nullptr);

  // Ops not run before are timing-only from now on.
  void stop_checking() { settings_.check = CheckMode::Never; }
  // Nothing is simulated from now on (the device may be gone): an op not run before throws
  // std::logic_error. What ran stays, for steps rebuilt from it.
  void detach();

  // Throws InputError before simulating anything of the step when one of its new ops, or the
  // run with them, would pass simulation_limit.h's limits.
  StepResult run(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase);

  // A step between two steps run before, `low` and `high`, whose graphs have the same ops in
  // the same order and differ from `graph` only in sizes (a decode step's cache length): an op
  // run before is reused, any other is interpolated (sim/op_interpolation.h) at the fraction t
  // between its counterparts in low and high. Simulates nothing.
  StepResult run_between(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase,
                         const workloads::OpGraph& low, const workloads::OpGraph& high, double t);

  // The op's result, one execution of it: the one run before, or simulated now and kept.
  const OpResult& result(const workloads::Op& op);

  // What running the graph's ops not run before would simulate, from their mappings; throws
  // InputError for one past kMaxSimulatedTransactions.
  uint64_t new_transactions(const workloads::OpGraph& graph);
  // What the ops run so far simulated.
  uint64_t transactions() const { return transactions_; }

 private:
  // An op's result, by the op and its position in the step.
  using OpCost = std::function<OpResult(const workloads::Op&, size_t index)>;
  OpCostCache& cache_of(const workloads::Op& op);
  // The op's cost: reused when it ran before (marked so), else simulated and kept. `details`:
  // with the device's own figures (the reports keep those of the first and last steps only).
  OpResult cost(const workloads::Op& op, bool details = true);
  // The result of an identical op run before, or nothing.
  OpResult* ran_before(const workloads::Op& op);
  // A copy of a result run before, marked reused.
  static OpResult reuse(OpResult& kept, bool details);
  StepResult assemble(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase, const OpCost& cost_of);
  void add(StepResult& step, const workloads::Op& op, OpResult result, uint64_t repeats, bool in_layer);

  DeviceFacts facts_;
  OpRunner run_;
  OpSizer size_;
  RunSettings settings_;
  RunObserver observer_;
  OpCostCache simulated_;
  OpCostCache* device_cache_;
  uint64_t transactions_ = 0;  // what the ops run so far simulated
};

}  // namespace tessel::sim
