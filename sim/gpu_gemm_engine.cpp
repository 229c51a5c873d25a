#include "sim/gpu_gemm_engine.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "arch/gpu/gpu_timing.h"
#include "arch/memory/dram.h"
#include "arch/memory/sim_time.h"
#include "sim/sc_kernel.h"
#include "sim/simulation_limit.h"

namespace tessel::sim {

namespace {

// Chunks a block's main loop is cut into: enough that SMs interleave at the HBM channel.
constexpr uint64_t kChunksPerBlock = 8;

// One SM: its blocks one after another; each chunk fetches its HBM misses, then computes
// for whatever of the chunk's main-loop time the fetch did not already cover (the next
// stages load while the current one computes).
class SmRunner : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(SmRunner);

  SmRunner(const sc_core::sc_module_name& name, const mapper::GpuGemmPlan& plan, uint64_t blocks, double start_cycles,
           double edge_cycles, arch::Dram& hbm)
      : sc_core::sc_module(name), plan_(plan), blocks_(blocks), start_cycles_(start_cycles), edge_cycles_(edge_cycles),
        hbm_(hbm) {
    SC_THREAD(run);
  }

  uint64_t finish_cycle() const { return finish_cycle_; }

 private:
  void run() {
    wait(arch::cycles_to_time(start_cycles_));
    const uint64_t chunks = std::min(kChunksPerBlock, plan_.k_steps);
    const double block_hbm_bytes = plan_.hbm_bytes / static_cast<double>(plan_.thread_blocks);
    for (uint64_t block = 0; block < blocks_; ++block) {
      for (uint64_t chunk = 0; chunk < chunks; ++chunk) {
        const uint64_t steps = plan_.k_steps * (chunk + 1) / chunks - plan_.k_steps * chunk / chunks;
        const sc_core::sc_time began = sc_core::sc_time_stamp();
        hbm_.transfer(static_cast<uint64_t>(block_hbm_bytes / static_cast<double>(chunks)), arch::Direction::Read);
        const sc_core::sc_time compute = arch::cycles_to_time(static_cast<double>(steps) * plan_.step_cycles);
        const sc_core::sc_time spent = sc_core::sc_time_stamp() - began;
        if (spent < compute) wait(compute - spent);
      }
      wait(arch::cycles_to_time(edge_cycles_));
    }
    finish_cycle_ = arch::time_to_cycles(sc_core::sc_time_stamp());
  }

  const mapper::GpuGemmPlan& plan_;
  uint64_t blocks_;
  double start_cycles_;
  double edge_cycles_;
  arch::Dram& hbm_;
  uint64_t finish_cycle_ = 0;
};

}  // namespace

GpuGemmRun simulate_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemmPlan& plan) {
  fresh_kernel();
  const arch::DramSpec hbm_spec{false, arch::gpu::hbm_bytes_per_cycle(spec),
                                static_cast<uint64_t>(arch::gpu::hbm_latency_cycles(spec)), 0.0};
  arch::Dram hbm("hbm", hbm_spec);
  // What a block spends outside its main loop, as the plan costs it.
  const double edge_cycles = plan.block_cycles - static_cast<double>(plan.k_steps) * plan.step_cycles;
  std::vector<std::unique_ptr<SmRunner>> sms;
  for (uint32_t sm = 0; sm < plan.active_sms; ++sm) {
    // Blocks go to SMs round robin: the first (blocks mod SMs) SMs get one more.
    const uint64_t blocks = plan.thread_blocks / spec.sms + (sm < plan.thread_blocks % spec.sms ? 1 : 0);
    sms.push_back(std::make_unique<SmRunner>(("sm" + std::to_string(sm)).c_str(), plan, blocks, plan.launch_cycles,
                                             edge_cycles, hbm));
  }
  run_kernel();
  GpuGemmRun run;
  for (const auto& sm : sms) run.cycles = std::max(run.cycles, sm->finish_cycle());
  run.hbm_bytes = hbm.read_bytes();
  run.hbm_busy_cycles = hbm.busy_cycles();
  run.seconds = static_cast<double>(run.cycles) / spec.clock_hz;
  return run;
}

uint64_t gpu_gemm_transactions(const mapper::GpuGemmPlan& plan) {
  return plan.thread_blocks * std::min(kChunksPerBlock, plan.k_steps);
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
