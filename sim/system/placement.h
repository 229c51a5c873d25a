// Where a plan's ranks sit on a system: rank = (replica × stages + stage) × tp + shard is the
// device index, so a tensor-parallel group takes consecutive devices (the innermost links),
// the stages come next, the replicas last. Each group's span over the levels of links
// decides what its collectives cost.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/link/collective_cost.h"
#include "arch/system_spec.h"
#include "sim/system/parallel_plan.h"
#include "workloads/op.h"

namespace tessel::sim {

class Placement {
 public:
  // Throws SettingError when the plan needs more devices than the system has, or a group
  // would straddle a level's groups (a tensor-parallel group of 3 on nodes of 8).
  Placement(const arch::SystemSpec& system, const ParallelPlan& plan);

  const arch::SystemSpec& system() const { return system_; }
  const ParallelPlan& plan() const { return plan_; }
  uint64_t device(uint64_t replica, uint64_t stage, uint64_t shard) const;
  std::vector<std::vector<uint32_t>> coordinates(uint64_t device) const { return system_.coordinates(device); }
  const arch::GroupSpan& tensor_span() const { return tensor_span_; }
  const arch::GroupSpan& expert_span() const { return expert_span_; }
  // The span of a group's collectives; a data-parallel group's is worked out when a training
  // step reduces gradients (inference replicas never talk, so they may straddle links).
  arch::GroupSpan span(workloads::CollectiveGroup group) const;

 private:
  arch::GroupSpan span_of(uint64_t first, uint64_t stride, uint64_t members, const char* flag) const;

  const arch::SystemSpec& system_;
  ParallelPlan plan_;
  arch::GroupSpan tensor_span_;
  arch::GroupSpan expert_span_;
};

}  // namespace tessel::sim
