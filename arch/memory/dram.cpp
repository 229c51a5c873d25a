#include "arch/memory/dram.h"

#include <algorithm>

#include "arch/memory/sim_time.h"

namespace tessel::arch {

Dram::Dram(const sc_core::sc_module_name& name, const DramSpec& spec)
    : sc_core::sc_module(name), spec_(spec), channel_free_at_(sc_core::SC_ZERO_TIME) {}

void Dram::transfer(uint64_t bytes, Direction direction) {
  if (bytes == 0) return;
  (direction == Direction::Read ? read_bytes_ : write_bytes_) += bytes;
  if (spec_.unlimited) return;
  const double cycles = static_cast<double>(bytes) / spec_.bytes_per_cycle;
  busy_cycles_ += cycles;
  const sc_core::sc_time start = std::max(sc_core::sc_time_stamp(), channel_free_at_);
  channel_free_at_ = start + cycles_to_time(cycles);
  const sc_core::sc_time done = channel_free_at_ + cycles_to_time(static_cast<double>(spec_.latency_cycles));
  wait(done - sc_core::sc_time_stamp());
}

}  // namespace tessel::arch
