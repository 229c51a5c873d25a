// The cycle-approximate run of blocks of work spread over parallel workers that share one
// main memory (fidelity level 3): a GPU GEMM's thread blocks over its SMs, a CPU GEMM's
// blocks of C over its cores. One SystemC process per worker runs its blocks one after
// another, each block's main loop in chunks whose memory misses queue at one shared channel,
// so a memory-bound product feels the contention the analytic cost only bounds. Events at
// computed times; a fresh kernel a run.
#pragma once

#include <cstdint>

#include "arch/spec.h"

namespace tessel::sim {

struct ParallelBlocks {
  uint64_t workers = 0;         // blocks go to them round robin
  uint64_t blocks = 0;
  uint64_t steps_per_block = 0;  // main-loop steps of one block
  double step_cycles = 0;        // one step's compute, its operands at hand
  double block_miss_bytes = 0;   // main-memory bytes one block fetches
  double edge_cycles = 0;        // a block's time outside its main loop
  double start_cycles = 0;       // before any block starts (a launch, a fork)
};

struct ParallelBlocksRun {
  uint64_t cycles = 0;  // start to the last worker's last block
  uint64_t memory_bytes = 0;
  double memory_busy_cycles = 0;
};

// `memory` is the shared channel as a streaming kernel sees it. Any number of calls in one
// process, one at a time.
ParallelBlocksRun simulate_parallel_blocks(const ParallelBlocks& work, const arch::DramSpec& memory);

// The chunks a run of `blocks` blocks of `steps_per_block` steps simulates (simulation_limit.h).
uint64_t parallel_blocks_transactions(uint64_t blocks, uint64_t steps_per_block);

}  // namespace tessel::sim
