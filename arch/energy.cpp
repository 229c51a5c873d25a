#include "arch/energy.h"

#include <stdexcept>

namespace tessel::arch {

uint64_t Activity::sram_read_bytes() const {
  return buffer_read_bytes[0] + buffer_read_bytes[1] + buffer_read_bytes[2];
}

uint64_t Activity::sram_write_bytes() const {
  return buffer_write_bytes[0] + buffer_write_bytes[1] + buffer_write_bytes[2];
}

Activity& Activity::operator+=(const Activity& other) {
  macs += other.macs;
  dram_read_bytes += other.dram_read_bytes;
  dram_write_bytes += other.dram_write_bytes;
  for (size_t i = 0; i < 3; ++i) {
    buffer_read_bytes[i] += other.buffer_read_bytes[i];
    buffer_write_bytes[i] += other.buffer_write_bytes[i];
  }
  vector_alu_ops += other.vector_alu_ops;
  vector_special_ops += other.vector_special_ops;
  return *this;
}

Activity Activity::times(uint64_t n) const {
  Activity total = *this;
  total.macs *= n;
  total.dram_read_bytes *= n;
  total.dram_write_bytes *= n;
  for (size_t o = 0; o < 3; ++o) {
    total.buffer_read_bytes[o] *= n;
    total.buffer_write_bytes[o] *= n;
  }
  total.vector_alu_ops *= static_cast<double>(n);
  total.vector_special_ops *= static_cast<double>(n);
  return total;
}

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& other) {
  mac_pj += other.mac_pj;
  sram_pj += other.sram_pj;
  dram_pj += other.dram_pj;
  vector_pj += other.vector_pj;
  link_pj += other.link_pj;
  static_pj += other.static_pj;
  return *this;
}

EnergyBreakdown EnergyBreakdown::scaled(double factor) const {
  return {mac_pj * factor,    sram_pj * factor, dram_pj * factor,
          vector_pj * factor, link_pj * factor, static_pj * factor};
}

EnergyBreakdown energy_of(const SystolicSpec& spec, DType dtype, const Activity& activity) {
  const DTypeSpec* format = spec.find_dtype(dtype);
  if (format == nullptr) {
    throw std::invalid_argument("architecture '" + spec.name + "' does not support " +
                                std::string(to_string(dtype)));
  }
  EnergyBreakdown energy;
  energy.mac_pj = static_cast<double>(activity.macs) * format->mac_energy_pj;
  for (Operand operand : {Operand::Input, Operand::Weight, Operand::Output}) {
    const BufferSpec& buffer = spec.buffer_for(operand);
    const auto i = static_cast<size_t>(operand);
    energy.sram_pj += static_cast<double>(activity.buffer_read_bytes[i]) * buffer.read_energy_pj_per_byte +
                      static_cast<double>(activity.buffer_write_bytes[i]) * buffer.write_energy_pj_per_byte;
  }
  energy.dram_pj = static_cast<double>(activity.dram_read_bytes + activity.dram_write_bytes) *
                   spec.dram.energy_pj_per_byte;
  energy.vector_pj = activity.vector_alu_ops * spec.vector_unit.op_energy_pj +
                     activity.vector_special_ops * spec.vector_unit.special_op_energy_pj;
  return energy;
}

}  // namespace tessel::arch
