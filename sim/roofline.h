// The roofline view (fidelity level 1): the floor no simulated time may beat. Each device
// computes its op's compute and memory floors; a collective adds its links' floor.
#pragma once

#include <cstdint>
#include <string>

namespace tessel::sim {

struct Roofline {
  uint64_t compute_cycles;      // the op's arithmetic at the device's peak rates
  uint64_t memory_cycles;       // its bytes crossing main memory once, at full bandwidth
  uint64_t network_cycles = 0;  // a collective's bytes through the device's links at their peak
  uint64_t cycles() const {
    const uint64_t on_chip = compute_cycles > memory_cycles ? compute_cycles : memory_cycles;
    return network_cycles > on_chip ? network_cycles : on_chip;
  }
  std::string bound() const {
    if (network_cycles > compute_cycles && network_cycles > memory_cycles) return "network";
    return compute_cycles >= memory_cycles ? "compute" : "memory";
  }
};

// Floors, so a simulated count (whole cycles) can equal but never undercut them.
Roofline roofline_floors(double compute_cycles, double memory_cycles);

}  // namespace tessel::sim
