// The reader of system files (configs/systems/*.yaml): the architecture file of every device
// (relative to the system file) and the levels of links between them, innermost first.
//
//   name: dgx_h100
//   device: ../arch/h100_sxm.yaml
//   levels:
//     - name: nvlink               # one group: the GPUs of a node
//       topology: switch           # switch (size: members) | torus (dims: [x, y, z], wraparound)
//       size: 8
//       bandwidth_gb_s: 450        # each member's link(s) into the switch, or one torus link, each way
//       latency_us: 0.98           # a step of a collective algorithm, or a hop
//       achievable_fraction: 0.68  # of the bandwidth, in a large collective's steady state
//       energy_pj_per_byte: 88     # a byte from one member to another (torus: to a neighbour)
//       collective_latency_us: 8.2 # a collective's fixed cost at this level
//       in_switch_reduction: true  # optional (switch only): the switch sums what members send
#pragma once

#include <string>

#include "arch/system_spec.h"

namespace tessel::arch {

// Every key is required unless marked optional; unknown keys, wrong types and out-of-range
// values throw ConfigError naming the file, line and key; a bad device file throws its own.
SystemSpec load_system(const std::string& path);

}  // namespace tessel::arch
