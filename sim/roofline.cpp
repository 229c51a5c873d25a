#include "sim/roofline.h"

#include <cmath>

namespace tessel::sim {

Roofline roofline_floors(double compute_cycles, double memory_cycles) {
  return {static_cast<uint64_t>(std::floor(compute_cycles)), static_cast<uint64_t>(std::floor(memory_cycles))};
}

}  // namespace tessel::sim
