// The roofline view (DESIGN.md, fidelity level 1): the floor no simulated time may beat.
#pragma once

#include <cstdint>
#include <string>

#include "arch/spec.h"
#include "workloads/gemm.h"

namespace tessel::sim {

struct Roofline {
  uint64_t compute_cycles;  // MACs at every array's peak rate
  uint64_t memory_cycles;   // each operand crossing DRAM once, at full bandwidth
  uint64_t network_cycles = 0;  // a collective's bytes through the chip's links at their peak
  uint64_t cycles() const {
    const uint64_t on_chip = compute_cycles > memory_cycles ? compute_cycles : memory_cycles;
    return network_cycles > on_chip ? network_cycles : on_chip;
  }
  std::string bound() const {
    if (network_cycles > compute_cycles && network_cycles > memory_cycles) return "network";
    return compute_cycles >= memory_cycles ? "compute" : "memory";
  }
};

Roofline roofline(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype);

// Peak multiply-accumulates per cycle of the whole accelerator in a format.
double peak_macs_per_cycle(const arch::SystolicSpec& spec, arch::DType dtype);

}  // namespace tessel::sim
