#include "arch/gpu/gpu_timing.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace tessel::arch::gpu {

double hbm_bytes_per_cycle(const GpuSpec& spec) {
  return spec.hbm_bytes_per_second * spec.hbm_achievable_fraction / spec.clock_hz;
}

double hbm_latency_cycles(const GpuSpec& spec) { return spec.hbm_latency_ns * 1e-9 * spec.clock_hz; }

double launch_overhead_cycles(const GpuSpec& spec) { return spec.launch_overhead_s * spec.clock_hz; }

namespace {

double peak_macs_per_cycle_per_sm(const GpuSpec& spec, DType dtype) {
  const std::optional<double> rate = spec.tensor_macs_per_cycle_per_sm(dtype);
  if (!rate) {
    throw std::invalid_argument(spec.name + " has no tensor-core rate for " + std::string(to_string(dtype)));
  }
  return *rate;
}

}  // namespace

double tensor_cycles(const GpuSpec& spec, DType dtype, double macs) {
  return macs / (peak_macs_per_cycle_per_sm(spec, dtype) * spec.tensor_efficiency);
}

double attention_tensor_cycles(const GpuSpec& spec, DType dtype, double macs) {
  return macs / (peak_macs_per_cycle_per_sm(spec, dtype) * spec.attention_efficiency);
}

double l2_bytes_per_cycle_per_sm(const GpuSpec& spec, uint32_t active_sms) {
  const double share = spec.l2_bytes_per_cycle / std::max<uint32_t>(active_sms, 1);
  return std::min(share, spec.shared_memory_bytes_per_cycle_per_sm);
}

double hbm_stream_bytes_per_cycle_per_sm(const GpuSpec& spec, double bytes_in_flight) {
  return bytes_in_flight / std::max(hbm_latency_cycles(spec), 1.0);
}

double streaming_kernel_cycles(const GpuSpec& spec, double hbm_bytes, double fp32_ops, double special_ops) {
  const double memory = hbm_bytes / hbm_bytes_per_cycle(spec);
  const double alu = fp32_ops / (spec.fp32_ops_per_cycle_per_sm * spec.sms);
  const double special = special_ops / (spec.special_ops_per_cycle_per_sm * spec.sms);
  return hbm_latency_cycles(spec) + std::max({memory, alu, special});
}

}  // namespace tessel::arch::gpu
