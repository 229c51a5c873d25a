#include "arch/memory/dma_engine.h"

namespace tessel::arch {

DmaEngine::DmaEngine(const sc_core::sc_module_name& name, Dram& dram)
    : sc_core::sc_module(name), dram_(dram) {}

void DmaEngine::load(std::initializer_list<BufferMove> moves) {
  uint64_t bytes = 0;
  for (const BufferMove& move : moves) {
    move.buffer->record_write(move.operand, move.bytes);
    bytes += move.bytes;
  }
  loaded_bytes_ += bytes;
  dram_.transfer(bytes, Direction::Read);
}

void DmaEngine::store(const BufferMove& move) {
  if (move.bytes == 0) return;
  move.buffer->record_read(move.operand, move.bytes);
  stored_bytes_ += move.bytes;
  dram_.transfer(move.bytes, Direction::Write);
}

}  // namespace tessel::arch
