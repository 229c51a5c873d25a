// The time formulas of a CPU's parts, in cycles of its clock: what one core's engines and
// vector lanes take for some work, what share of L3 and DDR a core gets, and the parallel
// region every operator pays. The CPU mappers and the SystemC run both build on these.
#pragma once

#include <cstdint>

#include "arch/cpu/cpu_spec.h"

namespace tessel::arch::cpu {

// DDR as every core streaming sees it: the achievable fraction of the peak.
double ddr_bytes_per_cycle(const CpuSpec& spec);
double ddr_latency_cycles(const CpuSpec& spec);
double parallel_overhead_cycles(const CpuSpec& spec);

// One core's `engine` on `macs` of `dtype` at its sustained rate. Throws std::invalid_argument
// when the engine does not take `dtype`.
double engine_cycles(const CpuMatrixEngine& engine, DType dtype, double macs);

// What one core pulls from the L3 with every core pulling, at most what its L2 takes in.
double l3_bytes_per_cycle_per_core(const CpuSpec& spec);

// A bandwidth-bound operator of vector work that moves `ddr_bytes`, spread over every core:
// the slowest of DDR (at the achievable fraction), the vector lanes and the special
// functions, plus one DDR latency to fill the pipe. No parallel overhead (the caller adds it).
double streaming_cycles(const CpuSpec& spec, double ddr_bytes, double fp32_ops, double special_ops);

}  // namespace tessel::arch::cpu
