// The links of a system as a parallel plan uses them: what each collective and each send
// between pipeline stages costs a device (its time on the links, by the chosen algorithm,
// the memory traffic of its buffers, the links' energy), as the OpResult of that op.
#pragma once

#include "sim/device.h"
#include "sim/step_runner.h"
#include "sim/system/placement.h"

namespace tessel::sim {

class SystemLinks {
 public:
  SystemLinks(const Placement& placement, const Device& device) : placement_(placement), device_(device) {}

  // A collective (of the tensor- or expert-parallel group) or a send to the next stage, as
  // one member runs it; throws std::invalid_argument for any other op.
  OpResult run(const workloads::Op& op, const RunSettings& settings) const;

 private:
  OpResult collective(const workloads::Op& op, const RunSettings& settings) const;
  OpResult send(const workloads::Op& op, const RunSettings& settings) const;
  // The common part: time, memory traffic, energy and floors of `cost` moving `link_bytes`.
  OpResult result_of(const workloads::Op& op, const RunSettings& settings, arch::CollectiveCost cost) const;

  const Placement& placement_;
  const Device& device_;
};

// What costs an op on one of a system's devices: collectives and sends on `links`, every other
// op on `device`; and what the device would simulate of it (the links' ops nothing). Both must
// outlive the functions.
OpRunner system_op_runner(const SystemLinks& links, Device& device);
OpSizer system_op_sizer(Device& device);

}  // namespace tessel::sim
