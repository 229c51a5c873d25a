#include "sim/cpu_gemm_engine.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "arch/cpu/cpu_timing.h"
#include "sim/parallel_blocks.h"
#include "sim/simulation_limit.h"

namespace tessel::sim {

CpuGemmRun simulate_cpu_gemm(const arch::CpuSpec& spec, const mapper::CpuGemmPlan& plan) {
  ParallelBlocks work;
  work.workers = spec.cores();
  work.blocks = plan.blocks;
  work.steps_per_block = plan.k_steps;
  work.step_cycles = plan.step_cycles;
  // Every block misses its share of what the L3 cannot keep; C goes out at its end.
  work.block_miss_bytes = plan.dram_bytes / static_cast<double>(plan.blocks);
  work.edge_cycles = plan.block_cycles - static_cast<double>(plan.k_steps) * plan.step_cycles;
  work.start_cycles = plan.start_cycles;
  const arch::DramSpec ddr{false, arch::cpu::ddr_bytes_per_cycle(spec),
                           static_cast<uint64_t>(arch::cpu::ddr_latency_cycles(spec)), 0.0};
  const ParallelBlocksRun blocks = simulate_parallel_blocks(work, ddr);
  return {blocks.cycles, blocks.memory_bytes, blocks.memory_busy_cycles};
}

uint64_t cpu_gemm_transactions(const mapper::CpuGemmPlan& plan) {
  return parallel_blocks_transactions(plan.blocks, plan.k_steps);
}

CpuGemmChoice choose_cpu_gemm(const arch::CpuSpec& spec, const mapper::CpuGemm& gemm, size_t confirm) {
  const std::vector<mapper::CpuGemmPlan> plans = mapper::rank_cpu_gemm(spec, gemm);
  CpuGemmChoice best{plans.front(), {}, 0, 0};
  for (size_t i = 0; i < std::min(std::max<size_t>(confirm, 1), plans.size()); ++i) {
    if (i > 0 && cpu_gemm_transactions(plans[i]) > kMaxSimulatedTransactions) continue;
    const CpuGemmRun run = simulate_cpu_gemm(spec, plans[i]);
    best.transactions += cpu_gemm_transactions(plans[i]);
    if (i == 0 || run.cycles < best.run.cycles) {
      best.plan = plans[i];
      best.run = run;
    }
    ++best.confirmed;
  }
  return best;
}

CpuGemmChoice estimate_cpu_gemm(const arch::CpuSpec& spec, const mapper::CpuGemm& gemm) {
  CpuGemmChoice guess{mapper::map_cpu_gemm(spec, gemm), {}, 0, 0};
  guess.run.cycles = static_cast<uint64_t>(std::ceil(guess.plan.cycles));
  guess.run.dram_bytes = static_cast<uint64_t>(guess.plan.dram_bytes);
  guess.run.dram_busy_cycles = guess.plan.dram_cycles;
  return guess;
}

}  // namespace tessel::sim
