// A GEMM workload (--gemm, a SCALE-Sim topology) on a GPU: each GEMM mapped to thread-block
// tiles and run in waves over the SMs in SystemC, as a transformer's linears are
// (gpu_model_run), checked numerically when affordable, one kernel after another. A GEMM of
// the same shape as an earlier one reuses its run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/gpu/gpu_spec.h"
#include "mapper/gpu_mapper.h"
#include "sim/model_run.h"
#include "sim/workload_run.h"
#include "workloads/gemm.h"

namespace tessel::sim {

struct GpuLayerResult {
  workloads::Gemm gemm;
  mapper::GpuGemmPlan plan;
  OpResult op;                // cycles (launch included), activity, energy, roofline, mapping, numerics
  double mapping_efficiency;  // MACs / the MAC slots of its thread-block tiles (edge tiles pad)
  bool reused;

  // The kernel's cycles beyond its busiest SM's tensor-core cycles.
  uint64_t stall_cycles() const { return op.cycles - std::min(op.cycles, op.array_busy_cycles); }
};

struct GpuRunResult {
  const arch::GpuSpec* spec;
  std::string workload;
  arch::DType dtype;
  std::vector<GpuLayerResult> layers;
  RunTotals totals;  // compute_cycles: the busiest SM's tensor-core cycles, summed

  double utilization() const;  // MACs / (total cycles × the tensor cores' peak)
};

// options: dtype (one the tensor cores take), check, limits, seed and on_layer; the GPU mapper
// minimises latency, so objective, dataflow search, confirm and a pinned mapping do not apply.
GpuRunResult run_gpu_workload(const arch::GpuSpec& spec, const workloads::Graph& graph, const RunOptions& options);

}  // namespace tessel::sim
