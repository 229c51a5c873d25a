#include "sim/roofline.h"

#include <cmath>

#include "mapper/cost_model.h"

namespace tessel::sim {

double peak_macs_per_cycle(const arch::SystolicSpec& spec, arch::DType dtype) {
  return static_cast<double>(spec.array_count()) * spec.array.rows * spec.array.cols *
         spec.find_dtype(dtype)->macs_per_pe_per_cycle;
}

Roofline roofline(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype) {
  const uint64_t bytes = mapper::compulsory_dram_bytes({gemm.m, gemm.n, gemm.k}, dtype);
  const double compute = static_cast<double>(gemm.macs()) / peak_macs_per_cycle(spec, dtype);
  const double memory = spec.dram.unlimited ? 0.0 : static_cast<double>(bytes) / spec.dram.bytes_per_cycle;
  // Floors, so a simulated count (whole cycles) can equal but never undercut them.
  return {static_cast<uint64_t>(std::floor(compute)), static_cast<uint64_t>(std::floor(memory))};
}

}  // namespace tessel::sim
