// Drives one core through its share of a streamed operator (sim/stream_plan): a load process
// (DMA in), a compute process (the core's arrays and its vector unit) and a store process
// (DMA out) walk the same chunks. Two buffer slots: the next chunk loads while this one
// computes, and compute waits when DRAM is late.
#pragma once

#include <cstdint>
#include <systemc>

#include "arch/memory/dma_engine.h"
#include "arch/memory/sram_buffer.h"
#include "arch/vector/vector_unit.h"
#include "mapper/stream_plan.h"

namespace tessel::sim {

class StreamRunner : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(StreamRunner);
  // `input` receives the loads and feeds the compute; `output` takes results for the stores.
  StreamRunner(const sc_core::sc_module_name& name, const mapper::StreamPlan& plan, uint64_t first_unit,
               uint64_t units, arch::DmaEngine& dma, arch::VectorUnit& vector, arch::SramBuffer& input,
               arch::SramBuffer& output);

  uint64_t finish_cycle() const { return finish_cycle_; }
  uint64_t array_cycles() const { return array_cycles_; }
  uint64_t chunks() const { return chunks_; }

 private:
  mapper::StreamChunk chunk(uint64_t index) const;
  void load_process();
  void compute_process();
  void store_process();

  const mapper::StreamPlan& plan_;
  uint64_t first_unit_;
  uint64_t units_;
  uint64_t chunks_;
  arch::DmaEngine& dma_;
  arch::VectorUnit& vector_;
  arch::SramBuffer& input_;
  arch::SramBuffer& output_;

  uint32_t free_slots_ = 2;
  uint64_t loaded_ = 0;
  uint64_t computed_ = 0;
  sc_core::sc_event slot_freed_;
  sc_core::sc_event chunk_loaded_;
  sc_core::sc_event chunk_computed_;
  uint64_t array_cycles_ = 0;
  uint64_t finish_cycle_ = 0;
};

}  // namespace tessel::sim
