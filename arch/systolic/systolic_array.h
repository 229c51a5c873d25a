// The tile-level model of one systolic array (fidelity level 3): executes one SRAM tile at a
// time for the cycles arch::tile_work computes, or longer when the buffer ports cannot feed
// it, and records the operands it reads and the sums it writes.
#pragma once

#include <cstdint>
#include <systemc>

#include "arch/memory/sram_buffer.h"
#include "arch/systolic/tile_work.h"

namespace tessel::arch {

class SystolicArray : public sc_core::sc_module {
 public:
  // `buffer_of` gives, per Operand, the core buffer that holds it.
  SystolicArray(const sc_core::sc_module_name& name, const SystolicSpec& spec,
                SramBuffer* const (&buffer_of)[3]);

  // Blocks the calling SC_THREAD while the tile computes.
  void compute(const TileWork& work, uint64_t macs);

  uint64_t compute_cycles() const { return compute_cycles_; }
  uint64_t port_stall_cycles() const { return port_stall_cycles_; }
  uint64_t folds() const { return folds_; }
  uint64_t tiles() const { return tiles_; }
  uint64_t macs() const { return macs_; }
  uint64_t pe_slots() const { return pe_slots_; }

 private:
  const SystolicSpec& spec_;
  SramBuffer* buffer_of_[3];
  uint64_t compute_cycles_ = 0;
  uint64_t port_stall_cycles_ = 0;
  uint64_t folds_ = 0;
  uint64_t tiles_ = 0;
  uint64_t macs_ = 0;
  uint64_t pe_slots_ = 0;
};

}  // namespace tessel::arch
