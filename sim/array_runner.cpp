#include "sim/array_runner.h"

#include "arch/memory/sim_time.h"

namespace tessel::sim {

using arch::Operand;

ArrayRunner::ArrayRunner(const sc_core::sc_module_name& name, const arch::SystolicSpec& spec,
                         const mapper::Extents& slice, const mapper::GemmMapping& mapping,
                         arch::DmaEngine& dma, arch::SystolicArray& array,
                         arch::SramBuffer* const (&buffer_of)[3], const ArrayRunner* input_leader)
    : sc_core::sc_module(name),
      spec_(spec),
      mapping_(mapping),
      dma_(dma),
      array_(array),
      buffer_of_{buffer_of[0], buffer_of[1], buffer_of[2]},
      input_leader_(input_leader),
      walker_(spec, slice, mapping, input_leader == nullptr),
      tiles_(walker_.tiles()),
      free_slots_(mapping.double_buffered ? 2 : 1) {
  SC_THREAD(load_process);
  SC_THREAD(compute_process);
  SC_THREAD(store_process);
}

void ArrayRunner::load_process() {
  mapper::TileStep step;
  for (uint64_t tile = 0; walker_.next(step); ++tile) {
    while (free_slots_ == 0) wait(slot_freed_);
    --free_slots_;
    steps_.push_back(step);
    dma_.load({{buffer_of_[0], Operand::Input, step.load_input_bytes},
               {buffer_of_[1], Operand::Weight, step.load_weight_bytes},
               {buffer_of_[2], Operand::Output, step.load_partial_bytes}});
    if (input_leader_) {
      while (input_leader_->loaded_ <= tile) wait(input_leader_->tile_loaded_);
    }
    ++loaded_;
    tile_loaded_.notify(sc_core::SC_ZERO_TIME);
  }
}

void ArrayRunner::compute_process() {
  for (uint64_t tile = 0; tile < tiles_; ++tile) {
    while (loaded_ <= tile) wait(tile_loaded_);
    const mapper::TileStep step = steps_[tile - stored_];
    array_.compute(step.work, mapper::performed_macs(step.size.m * step.size.n * step.size.k, mapping_, spec_.array));
    ++computed_;
    if (stored_ == tile && step.store_bytes == 0) {
      // Nothing leaves and every earlier store is done: the slot frees now, without waking
      // the store process (most tiles of a K loop store nothing).
      free_slot();
    } else {
      tile_computed_.notify(sc_core::SC_ZERO_TIME);
    }
  }
}

void ArrayRunner::store_process() {
  while (stored_ < tiles_) {
    while (computed_ <= stored_) wait(tile_computed_);
    dma_.store({buffer_of_[2], Operand::Output, steps_.front().store_bytes});
    free_slot();
  }
}

void ArrayRunner::free_slot() {
  steps_.pop_front();
  ++stored_;
  ++free_slots_;
  slot_freed_.notify(sc_core::SC_ZERO_TIME);
  if (stored_ == tiles_) finish_cycle_ = arch::time_to_cycles(sc_core::sc_time_stamp());
}

}  // namespace tessel::sim
