#include "arch/link/link_spec.h"

namespace tessel::arch {

std::string_view to_string(Topology topology) { return topology == Topology::Switch ? "switch" : "torus"; }

uint64_t LevelSpec::size() const {
  uint64_t members = 1;
  for (uint32_t dim : dims) members *= dim;
  return members;
}

}  // namespace tessel::arch
