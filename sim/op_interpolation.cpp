#include "sim/op_interpolation.h"

#include <cmath>
#include <stdexcept>

namespace tessel::sim {

namespace {

uint64_t between(uint64_t low, uint64_t high, double t) {
  return static_cast<uint64_t>(std::llround(static_cast<double>(low) + t * (static_cast<double>(high) -
                                                                            static_cast<double>(low))));
}

double between(double low, double high, double t) { return low + t * (high - low); }

arch::Activity between(const arch::Activity& low, const arch::Activity& high, double t) {
  arch::Activity a;
  a.macs = between(low.macs, high.macs, t);
  a.dram_read_bytes = between(low.dram_read_bytes, high.dram_read_bytes, t);
  a.dram_write_bytes = between(low.dram_write_bytes, high.dram_write_bytes, t);
  for (int i = 0; i < 3; ++i) {
    a.buffer_read_bytes[i] = between(low.buffer_read_bytes[i], high.buffer_read_bytes[i], t);
    a.buffer_write_bytes[i] = between(low.buffer_write_bytes[i], high.buffer_write_bytes[i], t);
  }
  a.vector_alu_ops = between(low.vector_alu_ops, high.vector_alu_ops, t);
  a.vector_special_ops = between(low.vector_special_ops, high.vector_special_ops, t);
  return a;
}

arch::EnergyBreakdown between(const arch::EnergyBreakdown& low, const arch::EnergyBreakdown& high, double t) {
  return {between(low.mac_pj, high.mac_pj, t), between(low.sram_pj, high.sram_pj, t),
          between(low.dram_pj, high.dram_pj, t), between(low.vector_pj, high.vector_pj, t),
          between(low.link_pj, high.link_pj, t),   between(low.static_pj, high.static_pj, t)};
}

}  // namespace

OpResult interpolate(const OpResult& low, const OpResult& high, double t) {
  if (!(t >= 0 && t <= 1)) throw std::invalid_argument("interpolate: the fraction must lie in [0, 1]");
  if (low.communication || high.communication) {
    throw std::invalid_argument("interpolate: a collective's link phases are not interpolated");
  }
  OpResult op;
  op.clock_hz = low.clock_hz;
  op.core_clock_hz = between(low.core_clock_hz, high.core_clock_hz, t);
  op.cycles = between(low.cycles, high.cycles, t);
  op.roofline = {between(low.roofline.compute_cycles, high.roofline.compute_cycles, t),
                 between(low.roofline.memory_cycles, high.roofline.memory_cycles, t),
                 between(low.roofline.network_cycles, high.roofline.network_cycles, t)};
  op.utilization = between(low.utilization, high.utilization, t);
  op.dram_utilization = between(low.dram_utilization, high.dram_utilization, t);
  op.mapping_efficiency = between(low.mapping_efficiency, high.mapping_efficiency, t);
  op.array_busy_cycles = between(low.array_busy_cycles, high.array_busy_cycles, t);
  op.vector_busy_cycles = between(low.vector_busy_cycles, high.vector_busy_cycles, t);
  op.dram_busy_cycles = between(low.dram_busy_cycles, high.dram_busy_cycles, t);
  op.activity = between(low.activity, high.activity, t);
  op.energy = between(low.energy, high.energy, t);
  return op;
}

}  // namespace tessel::sim
