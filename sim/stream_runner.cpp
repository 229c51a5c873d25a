#include "sim/stream_runner.h"

#include <algorithm>

#include "arch/memory/sim_time.h"

namespace tessel::sim {

using arch::Operand;

StreamRunner::StreamRunner(const sc_core::sc_module_name& name, const mapper::StreamPlan& plan, uint64_t first_unit,
                           uint64_t units, arch::DmaEngine& dma, arch::VectorUnit& vector,
                           arch::SramBuffer& input, arch::SramBuffer& output)
    : sc_core::sc_module(name),
      plan_(plan),
      first_unit_(first_unit),
      units_(units),
      chunks_(units == 0 ? 0 : arch::ceil_div(units, plan.units_per_chunk)),
      dma_(dma),
      vector_(vector),
      input_(input),
      output_(output) {
  SC_THREAD(load_process);
  SC_THREAD(compute_process);
  SC_THREAD(store_process);
}

mapper::StreamChunk StreamRunner::chunk(uint64_t index) const {
  const uint64_t first = index * plan_.units_per_chunk;
  return plan_.chunk(first_unit_ + first, std::min(plan_.units_per_chunk, units_ - first));
}

void StreamRunner::load_process() {
  for (uint64_t i = 0; i < chunks_; ++i) {
    while (free_slots_ == 0) wait(slot_freed_);
    --free_slots_;
    const uint64_t bytes = chunk(i).load_bytes;
    if (bytes > 0) dma_.load({{&input_, Operand::Input, bytes}});
    ++loaded_;
    chunk_loaded_.notify(sc_core::SC_ZERO_TIME);
  }
}

// The arrays and the vector unit work on a chunk side by side (a kernel overlaps the
// matrix work of one block with the vector work of the previous); the chunk is done when
// both are.
void StreamRunner::compute_process() {
  for (uint64_t i = 0; i < chunks_; ++i) {
    while (loaded_ <= i) wait(chunk_loaded_);
    const mapper::StreamChunk c = chunk(i);
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    if (c.macs > 0) input_.record_read(Operand::Input, c.load_bytes);
    if (c.vector.elements > 0) {
      const arch::VectorCost cost = vector_.run(c.vector);
      input_.record_read(Operand::Input, cost.buffer_read_bytes);
      output_.record_write(Operand::Output, cost.buffer_write_bytes);
    }
    const sc_core::sc_time array_done = start + arch::cycles_to_time(static_cast<double>(c.array_cycles));
    if (array_done > sc_core::sc_time_stamp()) wait(array_done - sc_core::sc_time_stamp());
    array_cycles_ += c.array_cycles;
    ++computed_;
    chunk_computed_.notify(sc_core::SC_ZERO_TIME);
  }
}

void StreamRunner::store_process() {
  for (uint64_t i = 0; i < chunks_; ++i) {
    while (computed_ <= i) wait(chunk_computed_);
    dma_.store({&output_, Operand::Output, chunk(i).store_bytes});
    ++free_slots_;
    slot_freed_.notify(sc_core::SC_ZERO_TIME);
  }
  finish_cycle_ = arch::time_to_cycles(sc_core::sc_time_stamp());
}

}  // namespace tessel::sim
