#include "arch/cpu/cpu_timing.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace tessel::arch::cpu {

double ddr_bytes_per_cycle(const CpuSpec& spec) {
  return spec.ddr_bytes_per_second() * spec.ddr_achievable_fraction / spec.clock_hz;
}

double ddr_latency_cycles(const CpuSpec& spec) { return spec.ddr_latency_ns * 1e-9 * spec.clock_hz; }

double parallel_overhead_cycles(const CpuSpec& spec) { return spec.parallel_overhead_s * spec.clock_hz; }

double engine_cycles(const CpuMatrixEngine& engine, DType dtype, double macs) {
  const CpuEngineRate* rate = engine.rate(dtype);
  if (!rate) {
    throw std::invalid_argument("the " + engine.name + " engine does not multiply " + std::string(to_string(dtype)));
  }
  return macs / (rate->macs_per_cycle_per_core * engine.efficiency);
}

double l3_bytes_per_cycle_per_core(const CpuSpec& spec) {
  return std::min(spec.l3_bytes_per_cycle_per_core, spec.l2_bytes_per_cycle_per_core);
}

double streaming_cycles(const CpuSpec& spec, double ddr_bytes, double fp32_ops, double special_ops) {
  const double cores = spec.cores();
  const double memory = ddr_bytes / ddr_bytes_per_cycle(spec);
  const double alu = fp32_ops / (spec.fp32_ops_per_cycle_per_core * cores);
  const double special = special_ops / (spec.special_ops_per_cycle_per_core * cores);
  return ddr_latency_cycles(spec) + std::max({memory, alu, special});
}

}  // namespace tessel::arch::cpu
