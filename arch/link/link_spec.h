// The links of one level of a system: how its devices (or the groups of the level below) are
// connected, and what a collective library makes of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessel::arch {

// One device's link at a level, each way.
struct LinkSpec {
  // switch: a device's links into the switch together; torus: one link to one neighbour.
  double bytes_per_second = 0;
  double latency_s = 0;  // one step of a collective algorithm, or one hop of a transfer
  double achievable_fraction = 1;  // of the bandwidth, in a large transfer's steady state
  std::optional<double> energy_pj_per_byte;  // a byte crossing one link; not stated: nothing

  double achievable_bytes_per_second() const { return bytes_per_second * achievable_fraction; }
};

enum class Topology {
  Switch,  // every member has its own port into a non-blocking switch (NVSwitch, InfiniBand, Ethernet)
  Torus,   // members on a grid of `dims`, each linked to its neighbours along every dimension
};

std::string_view to_string(Topology topology);

struct LevelSpec {
  std::string name;  // e.g. "nvlink", "infiniband", "ici"
  Topology topology = Topology::Switch;
  // Members of one group at this level: switch: `size`; torus: the product of `dims`.
  std::vector<uint32_t> dims;
  bool wraparound = false;  // torus: the last member of each dimension links back to the first
  LinkSpec link;
  // A collective's fixed cost at this level (launch, the members' handshake), paid once.
  double collective_latency_s = 0;
  bool in_switch_reduction = false;  // the switch sums what the members send (NVLink SHARP)

  uint64_t size() const;
};

}  // namespace tessel::arch
