#include "arch/gpu/gpu_energy.h"

namespace tessel::arch {

EnergyBreakdown energy_of(const GpuSpec& spec, DType dtype, const Activity& a) {
  EnergyBreakdown energy;
  energy.mac_pj = a.macs > 0 ? static_cast<double>(a.macs) * spec.tensor_mac_pj(dtype) : 0.0;
  energy.sram_pj = static_cast<double>(a.sram_read_bytes()) * spec.energy.l2_pj_per_byte;
  energy.dram_pj = static_cast<double>(a.dram_read_bytes + a.dram_write_bytes) * spec.energy.hbm_pj_per_byte;
  energy.vector_pj = a.vector_alu_ops * spec.energy.fp32_op_pj + a.vector_special_ops * spec.energy.special_op_pj;
  return energy;
}

}  // namespace tessel::arch
