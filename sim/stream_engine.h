// The cycle-approximate run of a streamed operator (fidelity level 3): the DRAM, each
// core's DMA, buffers, vector unit and a StreamRunner, in a fresh SystemC kernel.
#pragma once

#include <cstdint>

#include "arch/energy.h"
#include "arch/spec.h"
#include "mapper/stream_plan.h"

namespace tessel::sim {

struct StreamRun {
  uint64_t total_cycles = 0;   // the last core's last store
  uint64_t array_cycles = 0;   // the busiest core's arrays
  uint64_t vector_cycles = 0;  // the busiest core's vector unit
  uint64_t chunks = 0;
  double dram_busy_cycles = 0;
  arch::Activity activity;
};

// Like simulate_gemm: any number of calls in one process, one at a time.
StreamRun simulate_stream(const arch::SystolicSpec& spec, const mapper::StreamPlan& plan);

}  // namespace tessel::sim
