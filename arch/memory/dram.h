// Off-chip memory shared by every requester: one bandwidth server in request order plus a
// fixed latency. A transfer starts when the channel frees, occupies it bytes/bandwidth
// cycles, and completes `latency` cycles later; requests pipeline behind each other.
#pragma once

#include <cstdint>
#include <systemc>

#include "arch/spec.h"

namespace tessel::arch {

enum class Direction { Read, Write };

class Dram : public sc_core::sc_module {
 public:
  Dram(const sc_core::sc_module_name& name, const DramSpec& spec);

  // Blocks the calling SC_THREAD until the transfer completes.
  void transfer(uint64_t bytes, Direction direction);

  uint64_t read_bytes() const { return read_bytes_; }
  uint64_t write_bytes() const { return write_bytes_; }
  // Cycles the channel spent moving data (not waiting for latency).
  double busy_cycles() const { return busy_cycles_; }

 private:
  DramSpec spec_;
  sc_core::sc_time channel_free_at_;
  uint64_t read_bytes_ = 0;
  uint64_t write_bytes_ = 0;
  double busy_cycles_ = 0;
};

}  // namespace tessel::arch
