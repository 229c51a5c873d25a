// An on-chip SRAM buffer of one core: counts the bytes read and written, per operand, by
// the arrays and the DMA. Port bandwidth is accounted per tile (arch::buffer_port_cycles).
#pragma once

#include <cstdint>
#include <systemc>

#include "arch/spec.h"

namespace tessel::arch {

class SramBuffer : public sc_core::sc_module {
 public:
  SramBuffer(const sc_core::sc_module_name& name, const BufferSpec& spec);

  void record_read(Operand operand, uint64_t bytes) { read_[index(operand)] += bytes; }
  void record_write(Operand operand, uint64_t bytes) { write_[index(operand)] += bytes; }

  const BufferSpec& spec() const { return spec_; }
  uint64_t read_bytes(Operand operand) const { return read_[index(operand)]; }
  uint64_t write_bytes(Operand operand) const { return write_[index(operand)]; }
  uint64_t read_bytes() const { return read_[0] + read_[1] + read_[2]; }
  uint64_t write_bytes() const { return write_[0] + write_[1] + write_[2]; }

 private:
  static size_t index(Operand operand) { return static_cast<size_t>(operand); }

  BufferSpec spec_;
  uint64_t read_[3] = {0, 0, 0};
  uint64_t write_[3] = {0, 0, 0};
};

}  // namespace tessel::arch
