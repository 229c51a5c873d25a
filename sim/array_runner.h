// Drives one array through its slice of a GEMM: a load process (DMA in), a compute process
// (the array) and a store process (DMA out) take the tiles in turn. The load process walks
// the tile sequence and keeps each step until its store, so a step is worked out once. A tile
// occupies a buffer slot from its load until its store; double buffering gives two slots,
// so the next tile loads while this one computes, and compute stalls when DRAM is late.
#pragma once

#include <cstdint>
#include <deque>
#include <systemc>

#include "arch/memory/dma_engine.h"
#include "arch/systolic/systolic_array.h"
#include "mapper/mapping.h"
#include "mapper/tile_walker.h"

namespace tessel::sim {

class ArrayRunner : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ArrayRunner);
  // `input_leader`: the array of the core that fetches this array's input blocks into the
  // shared buffer (nullptr: it fetches its own). A tile computes once both have loaded it.
  ArrayRunner(const sc_core::sc_module_name& name, const arch::SystolicSpec& spec,
              const mapper::Extents& slice, const mapper::GemmMapping& mapping,
              arch::DmaEngine& dma, arch::SystolicArray& array, arch::SramBuffer* const (&buffer_of)[3],
              const ArrayRunner* input_leader);

  // Cycle at which the last output of the slice reached DRAM.
  uint64_t finish_cycle() const { return finish_cycle_; }

 private:
  void load_process();
  void compute_process();
  void store_process();
  // The oldest loaded tile is stored: its slot is free for the next load.
  void free_slot();

  const arch::SystolicSpec& spec_;
  mapper::GemmMapping mapping_;
  arch::DmaEngine& dma_;
  arch::SystolicArray& array_;
  arch::SramBuffer* buffer_of_[3];
  const ArrayRunner* input_leader_;
  mapper::TileWalker walker_;
  uint64_t tiles_;
  std::deque<mapper::TileStep> steps_;  // loaded and not yet stored, the oldest first
  uint64_t stored_ = 0;

  uint32_t free_slots_;
  uint64_t loaded_ = 0;
  uint64_t computed_ = 0;
  sc_core::sc_event slot_freed_;
  sc_core::sc_event tile_loaded_;
  sc_core::sc_event tile_computed_;
  uint64_t finish_cycle_ = 0;
};

}  // namespace tessel::sim
