// The cycle-approximate run of a GEMM on a GPU (fidelity level 3): one SystemC process per
// SM executes its thread blocks of a GpuGemmPlan wave after wave, each main loop in chunks
// whose HBM misses queue at one shared HBM channel, so a memory-bound GEMM feels the
// contention the analytic cost only bounds. Events at computed times; a fresh kernel a run.
#pragma once

#include <cstdint>

#include "arch/gpu/gpu_spec.h"
#include "mapper/gpu_mapper.h"

namespace tessel::sim {

struct GpuGemmRun {
  uint64_t cycles = 0;  // launch overhead to the last SM's last block
  uint64_t hbm_bytes = 0;
  double hbm_busy_cycles = 0;
  double seconds = 0;
};

// Any number of calls in one process, one at a time.
GpuGemmRun simulate_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemmPlan& plan);

struct GpuGemmChoice {
  mapper::GpuGemmPlan plan;
  GpuGemmRun run;
  size_t confirmed = 0;      // plans simulated to choose it
  uint64_t transactions = 0;  // their runs' thread-block chunks (simulation_limit.h)
};

// The mapper's `confirm` best plans simulated and the fastest kept (the first in the
// analytic order among equals), as the systolic runs confirm theirs: the closed form cannot
// see every stall of SMs queueing at one HBM. confirm = 1 trusts the analytic ranking; runners-up
// too large to simulate (simulation_limit.h) are passed over.
GpuGemmChoice choose_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemm& gemm, size_t confirm);

// The mapper's best plan at its closed-form figures, unsimulated: a cheap guess of the GEMM's
// time at another clock (GpuDevice's power-limit search).
GpuGemmChoice estimate_gpu_gemm(const arch::GpuSpec& spec, const mapper::GpuGemm& gemm);

// The transactions of the plan's simulation: each SM's thread blocks, chunk by chunk.
uint64_t gpu_gemm_transactions(const mapper::GpuGemmPlan& plan);

}  // namespace tessel::sim
