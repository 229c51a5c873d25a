#include "arch/cpu/cpu_energy.h"

namespace tessel::arch {

EnergyBreakdown energy_of(const CpuSpec& spec, DType dtype, const Activity& a, const CpuMatrixEngine* engine) {
  EnergyBreakdown energy;
  if (a.macs > 0) {
    if (!engine) engine = spec.fastest_engine(dtype);
    energy.mac_pj = static_cast<double>(a.macs) * (engine ? engine->rate(dtype)->mac_pj : 0.0);
  }
  energy.sram_pj = static_cast<double>(a.sram_read_bytes()) * spec.energy.l3_pj_per_byte;
  energy.dram_pj = static_cast<double>(a.dram_read_bytes + a.dram_write_bytes) * spec.energy.dram_pj_per_byte;
  energy.vector_pj = a.vector_alu_ops * spec.energy.fp32_op_pj + a.vector_special_ops * spec.energy.special_op_pj;
  return energy;
}

}  // namespace tessel::arch
