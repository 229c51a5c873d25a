// Energy of what the hardware did, from the architecture's energy table (pJ).
#pragma once

#include <cstdint>

#include "arch/spec.h"

namespace tessel::arch {

// What happened during a run, counted by whoever ran it (engine or analytic model).
struct Activity {
  uint64_t macs = 0;
  uint64_t dram_read_bytes = 0;
  uint64_t dram_write_bytes = 0;
  // Bytes read from / written to the buffer that holds each operand, by the array and
  // by the DMA together; indexed by Operand.
  uint64_t buffer_read_bytes[3] = {0, 0, 0};
  uint64_t buffer_write_bytes[3] = {0, 0, 0};
  // Operations of the vector units (fractional: per-element rates need not be whole).
  double vector_alu_ops = 0;
  double vector_special_ops = 0;

  uint64_t sram_read_bytes() const;
  uint64_t sram_write_bytes() const;
  Activity& operator+=(const Activity& other);
  Activity times(uint64_t n) const;  // n runs of the same
};

struct EnergyBreakdown {
  double mac_pj = 0;
  double sram_pj = 0;
  double dram_pj = 0;
  double vector_pj = 0;
  double link_pj = 0;    // bytes over the links between devices
  double static_pj = 0;  // the device's static power over the time it ran (arch/power.h)
  double total_pj() const { return mac_pj + sram_pj + dram_pj + vector_pj + link_pj + static_pj; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& other);
  EnergyBreakdown scaled(double factor) const;
};

EnergyBreakdown energy_of(const SystolicSpec& spec, DType dtype, const Activity& activity);

}  // namespace tessel::arch
