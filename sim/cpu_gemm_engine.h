// The cycle-approximate run of a GEMM on a CPU (fidelity level 3): its CpuGemmPlan's blocks of
// C over the cores (sim/parallel_blocks), each block's K steps in chunks whose L3 misses
// queue at one DDR channel every core shares.
#pragma once

#include <cstdint>

#include "arch/cpu/cpu_spec.h"
#include "mapper/cpu_gemm_plan.h"

namespace tessel::sim {

struct CpuGemmRun {
  uint64_t cycles = 0;  // the parallel region's start to the last core's last block
  uint64_t dram_bytes = 0;
  double dram_busy_cycles = 0;
};

CpuGemmRun simulate_cpu_gemm(const arch::CpuSpec& spec, const mapper::CpuGemmPlan& plan);

struct CpuGemmChoice {
  mapper::CpuGemmPlan plan;
  CpuGemmRun run;
  size_t confirmed = 0;       // plans simulated to choose it
  uint64_t transactions = 0;  // their runs' chunks (simulation_limit.h)
};

// The mapper's `confirm` best plans simulated and the fastest kept (the first in the analytic
// order among equals), as the GPU's are; runners-up too large to simulate are passed over.
CpuGemmChoice choose_cpu_gemm(const arch::CpuSpec& spec, const mapper::CpuGemm& gemm, size_t confirm);

// The mapper's best plan at its closed-form figures, unsimulated: a cheap guess of the GEMM's
// time at another clock (the power-limit search).
CpuGemmChoice estimate_cpu_gemm(const arch::CpuSpec& spec, const mapper::CpuGemm& gemm);

uint64_t cpu_gemm_transactions(const mapper::CpuGemmPlan& plan);

}  // namespace tessel::sim
