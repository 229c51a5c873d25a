#include "sim/cli/describe_gpu.h"

#include <iomanip>
#include <ostream>

namespace tessel::cli {

void describe_gpu(const arch::GpuSpec& spec, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  const double clock = spec.clock_hz;
  out << std::setprecision(4) << spec.name << " (" << spec.source_file << ")\n";
  out << "  clock " << clock / 1e6 << " MHz; " << spec.sms << " SMs\n";
  for (const arch::TensorRate& rate : spec.tensor) {
    const double peak = 2 * rate.macs_per_cycle_per_sm * spec.sms * clock;
    const char* unit = rate.dtype == arch::DType::Int8 ? " TOPS" : " TFLOP/s";
    out << "  " << std::left << std::setw(5) << arch::to_string(rate.dtype) << std::right << " tensor-core peak "
        << peak / 1e12 << unit << " dense; a main loop sustains " << spec.tensor_efficiency * peak / 1e12 << unit
        << " (efficiency " << spec.tensor_efficiency << ")\n";
  }
  out << "  CUDA cores " << spec.fp32_ops_per_cycle_per_sm * spec.sms * clock / 1e12 << " fp32 Tops/s; special functions "
      << spec.special_ops_per_cycle_per_sm * spec.sms * clock / 1e12 << " Tops/s\n";
  out << "  per SM: " << spec.register_file_bytes_per_sm / 1024 << " KiB registers, "
      << spec.shared_memory_bytes_per_sm / 1024 << " KiB shared memory at "
      << spec.shared_memory_bytes_per_cycle_per_sm << " B/cycle, " << spec.max_threads_per_sm << " threads\n";
  out << "  L2 " << static_cast<double>(spec.l2_bytes) / (1 << 20) << " MiB at "
      << spec.l2_bytes_per_cycle * clock / 1e9 << " GB/s\n";
  out << "  HBM " << spec.hbm_bytes_per_second / 1e9 << " GB/s peak, "
      << spec.hbm_achievable_fraction * spec.hbm_bytes_per_second / 1e9 << " GB/s achievable (fraction "
      << spec.hbm_achievable_fraction << "), latency " << spec.hbm_latency_ns << " ns";
  if (spec.hbm_capacity_bytes > 0) out << ", " << static_cast<double>(spec.hbm_capacity_bytes) / (1ull << 30) << " GiB";
  out << "\n";
  out << "  kernel launch " << spec.launch_overhead_s * 1e6 << " us\n";
  if (spec.nvlink) {
    const arch::NvlinkSpec& link = *spec.nvlink;
    out << "  NVLink: " << link.gpus_per_node << " GPUs a node, " << link.bytes_per_second / 1e9 << " GB/s each way, "
        << link.achievable_fraction * link.bytes_per_second / 1e9 << " GB/s achievable (fraction "
        << link.achievable_fraction << "); a collective " << link.collective_latency_s * 1e6 << " us + "
        << link.step_latency_s * 1e6 << " us a ring step\n";
  }
  out.flags(flags);
}

}  // namespace tessel::cli
