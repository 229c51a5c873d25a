#include "arch/gpu/gpu_energy.h"

namespace tessel::arch {

EnergyBreakdown energy_of(const GpuSpec& spec, const Activity& a) {
  EnergyBreakdown energy;
  energy.mac_pj = static_cast<double>(a.macs) * spec.energy.tensor_mac_pj;
  energy.sram_pj = static_cast<double>(a.sram_read_bytes()) * spec.energy.l2_pj_per_byte;
  energy.dram_pj = static_cast<double>(a.dram_read_bytes + a.dram_write_bytes) * spec.energy.hbm_pj_per_byte;
  energy.vector_pj = a.vector_alu_ops * spec.energy.fp32_op_pj + a.vector_special_ops * spec.energy.special_op_pj;
  return energy;
}

}  // namespace tessel::arch
