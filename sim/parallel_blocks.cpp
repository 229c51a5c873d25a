#include "sim/parallel_blocks.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "arch/memory/dram.h"
#include "arch/memory/sim_time.h"
#include "sim/sc_kernel.h"

namespace tessel::sim {

namespace {

// Chunks a block's main loop is cut into: enough that workers interleave at the memory channel.
constexpr uint64_t kChunksPerBlock = 8;

// One worker: its blocks one after another; each chunk fetches its misses, then computes for
// whatever of the chunk's main-loop time the fetch did not already cover (the next operands
// load while the current ones are multiplied).
class Worker : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Worker);

  Worker(const sc_core::sc_module_name& name, const ParallelBlocks& work, uint64_t blocks, arch::Dram& memory)
      : sc_core::sc_module(name), work_(work), blocks_(blocks), memory_(memory) {
    SC_THREAD(run);
  }

  uint64_t finish_cycle() const { return finish_cycle_; }

 private:
  void run() {
    wait(arch::cycles_to_time(work_.start_cycles));
    const uint64_t chunks = std::min(kChunksPerBlock, work_.steps_per_block);
    for (uint64_t block = 0; block < blocks_; ++block) {
      for (uint64_t chunk = 0; chunk < chunks; ++chunk) {
        const uint64_t steps = work_.steps_per_block * (chunk + 1) / chunks - work_.steps_per_block * chunk / chunks;
        const sc_core::sc_time began = sc_core::sc_time_stamp();
        memory_.transfer(static_cast<uint64_t>(work_.block_miss_bytes / static_cast<double>(chunks)),
                         arch::Direction::Read);
        const sc_core::sc_time compute = arch::cycles_to_time(static_cast<double>(steps) * work_.step_cycles);
        const sc_core::sc_time spent = sc_core::sc_time_stamp() - began;
        if (spent < compute) wait(compute - spent);
      }
      wait(arch::cycles_to_time(work_.edge_cycles));
    }
    finish_cycle_ = arch::time_to_cycles(sc_core::sc_time_stamp());
  }

  const ParallelBlocks& work_;
  uint64_t blocks_;
  arch::Dram& memory_;
  uint64_t finish_cycle_ = 0;
};

}  // namespace

ParallelBlocksRun simulate_parallel_blocks(const ParallelBlocks& work, const arch::DramSpec& memory_spec) {
  fresh_kernel();
  arch::Dram memory("memory", memory_spec);
  std::vector<std::unique_ptr<Worker>> workers;
  for (uint64_t w = 0; w < std::min(work.blocks, work.workers); ++w) {
    // The first (blocks mod workers) workers get one more.
    const uint64_t blocks = work.blocks / work.workers + (w < work.blocks % work.workers ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(("worker" + std::to_string(w)).c_str(), work, blocks, memory));
  }
  run_kernel();
  ParallelBlocksRun run;
  for (const auto& worker : workers) run.cycles = std::max(run.cycles, worker->finish_cycle());
  run.memory_bytes = memory.read_bytes();
  run.memory_busy_cycles = memory.busy_cycles();
  return run;
}

uint64_t parallel_blocks_transactions(uint64_t blocks, uint64_t steps_per_block) {
  return blocks * std::min(kChunksPerBlock, steps_per_block);
}

}  // namespace tessel::sim
