// The time formulas of a GPU's parts, in cycles of its clock: what one SM's tensor and CUDA
// cores take for some work, what share of L2 and HBM an SM gets, and how fast one SM can
// stream from HBM with a given number of bytes in flight. The GEMM mapper and the SystemC
// run both build on these.
#pragma once

#include <cstdint>

#include "arch/gpu/gpu_spec.h"

namespace tessel::arch::gpu {

// HBM as a streaming kernel sees it: the achievable fraction of the peak.
double hbm_bytes_per_cycle(const GpuSpec& spec);
double hbm_latency_cycles(const GpuSpec& spec);
double launch_overhead_cycles(const GpuSpec& spec);

// One SM's tensor cores on `macs` of `dtype` at the sustained (pipeline-efficiency) rate.
// Throws std::invalid_argument when the tensor cores do not take `dtype`.
double tensor_cycles(const GpuSpec& spec, DType dtype, double macs);
// The same at fused attention's sustained rate.
double attention_tensor_cycles(const GpuSpec& spec, DType dtype, double macs);

// What one SM can pull from L2 when `active_sms` pull at once: its even share of the L2's
// bandwidth, at most what its shared memory can take in.
double l2_bytes_per_cycle_per_sm(const GpuSpec& spec, uint32_t active_sms);

// Little's law: an SM with `bytes_in_flight` outstanding loads streams from HBM at most
// bytes_in_flight / latency a cycle.
double hbm_stream_bytes_per_cycle_per_sm(const GpuSpec& spec, double bytes_in_flight);

// A bandwidth-bound kernel of CUDA-core work that moves `hbm_bytes`: the slowest of HBM (at
// the achievable fraction), the CUDA cores of every SM and the special-function units, plus
// one HBM latency to fill the pipe. No launch overhead (the caller adds it per kernel).
double streaming_kernel_cycles(const GpuSpec& spec, double hbm_bytes, double fp32_ops, double special_ops);

}  // namespace tessel::arch::gpu
