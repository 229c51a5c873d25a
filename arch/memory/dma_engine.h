// Moves tiles between DRAM and a core's buffers. The operands of one tile load as one
// burst, so the DRAM latency is paid once per tile, not once per operand.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <systemc>

#include "arch/memory/dram.h"
#include "arch/memory/sram_buffer.h"

namespace tessel::arch {

struct BufferMove {
  SramBuffer* buffer;
  Operand operand;
  uint64_t bytes;
};

class DmaEngine : public sc_core::sc_module {
 public:
  DmaEngine(const sc_core::sc_module_name& name, Dram& dram);

  // Block the calling SC_THREAD until the data has arrived / left.
  void load(std::initializer_list<BufferMove> moves);
  void store(const BufferMove& move);

  uint64_t loaded_bytes() const { return loaded_bytes_; }
  uint64_t stored_bytes() const { return stored_bytes_; }

 private:
  Dram& dram_;
  uint64_t loaded_bytes_ = 0;
  uint64_t stored_bytes_ = 0;
};

}  // namespace tessel::arch
