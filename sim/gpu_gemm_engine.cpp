#include "sim/gpu_gemm_engine.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "arch/gpu/gpu_timing.h"
#include "sim/parallel_blocks.h"
#include "sim/simulation_limit.h"

namespace tessel::sim {

namespace {

// The plan as blocks over the SMs (sim/parallel_blocks.h).
ParallelBlocks as_blocks(const arch::GpuSpec& spec, const mapper::GpuGemmPlan& plan) {
  ParallelBlocks work;
  work.workers = spec.sms;
  work.blocks = plan.thread_blocks;
  work.steps_per_block = plan.k_steps;
  work.step_cycles = plan.step_cycles;
  work.block_miss_bytes = plan.hbm_bytes / static_cast<double>(plan.thread_blocks);
  // What a block spends outside its main loop, as the plan costs it.
  work.edge_cycles = plan.block_cycles - static_cast<double>(plan.k_steps) * plan.step_cycles;
  work.start_cycles = plan.launch_cycles;
  return work;
}

}  // namespace

GpuGemmRun simulate_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemmPlan& plan) {
  const arch::DramSpec hbm{false, arch::gpu::hbm_bytes_per_cycle(spec),
                           static_cast<uint64_t>(arch::gpu::hbm_latency_cycles(spec)), 0.0};
  const ParallelBlocksRun blocks = simulate_parallel_blocks(as_blocks(spec, plan), hbm);
  GpuGemmRun run;
  run.cycles = blocks.cycles;
  run.hbm_bytes = blocks.memory_bytes;
  run.hbm_busy_cycles = blocks.memory_busy_cycles;
  run.seconds = static_cast<double>(run.cycles) / spec.clock_hz;
  return run;
}

uint64_t gpu_gemm_transactions(const mapper::GpuGemmPlan& plan) {
  return parallel_blocks_transactions(plan.thread_blocks, plan.k_steps);
}

GpuGemmChoice choose_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemm& gemm, size_t confirm) {
  const std::vector<mapper::GpuGemmPlan> plans = mapper::rank_gpu_gemm(spec, gemm);
  GpuGemmChoice best{plans.front(), {}, 0};
  for (size_t i = 0; i < std::min(std::max<size_t>(confirm, 1), plans.size()); ++i) {
    if (i > 0 && gpu_gemm_transactions(plans[i]) > kMaxSimulatedTransactions) continue;
    const GpuGemmRun run = simulate_gpu_gemm(spec, plans[i]);
    best.transactions += gpu_gemm_transactions(plans[i]);
    if (i == 0 || run.cycles < best.run.cycles) {
      best.plan = plans[i];
      best.run = run;
    }
    ++best.confirmed;
  }
  return best;
}

GpuGemmChoice estimate_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemm& gemm) {
  GpuGemmChoice guess{mapper::map_gpu_gemm(spec, gemm), {}, 0};
  guess.run.cycles = static_cast<uint64_t>(std::ceil(guess.plan.cycles));
  guess.run.hbm_bytes = static_cast<uint64_t>(guess.plan.hbm_bytes);
  guess.run.hbm_busy_cycles = guess.plan.hbm_cycles;
  guess.run.seconds = static_cast<double>(guess.run.cycles) / spec.clock_hz;
  return guess;
}

}  // namespace tessel::sim
