// What `tessel describe` and `tessel map` print for a GPU.
#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <vector>

#include "mapper/gpu_mapper.h"
#include "sim/devices/gpu_device.h"
#include "sim/devices/plan_report.h"

namespace tessel::sim {

namespace {

nlohmann::json plan_json(const mapper::GpuGemmPlan& p) {
  return {{"tile",
           {{"m", p.tile.m}, {"n", p.tile.n}, {"k", p.tile.k}, {"stages", p.tile.stages}, {"warps", p.tile.warps}}},
          {"split_k", p.split_k},
          {"resident_blocks", p.resident},
          {"thread_blocks", p.thread_blocks},
          {"waves", p.waves},
          {"active_sms", p.active_sms},
          {"k_steps", p.k_steps},
          {"step_cycles", p.step_cycles},
          {"block_cycles", p.block_cycles},
          {"sm_cycles", p.sm_cycles},
          {"hbm_cycles", p.hbm_cycles},
          {"launch_cycles", p.launch_cycles},
          {"cycles", p.cycles},
          {"hbm_bytes", p.hbm_bytes},
          {"l2_bytes", p.l2_bytes}};
}

}  // namespace

void GpuDevice::describe(std::ostream& out) const {
  const arch::GpuSpec& spec = spec_;
  const std::ios::fmtflags flags = out.flags();
  const double clock = spec.clock_hz;
  out << std::setprecision(4) << spec.name << " (" << spec.source_file << ")\n";
  out << "  clock " << clock / 1e6 << " MHz; " << spec.sms << " SMs\n";
  for (const arch::TensorRate& rate : spec.tensor) {
    const double peak = 2 * spec.peak_macs_per_cycle(rate.dtype) * clock;
    const char* unit = rate.dtype == arch::DType::Int8 ? " TOPS" : " TFLOP/s";
    out << "  " << std::left << std::setw(5) << arch::to_string(rate.dtype) << std::right << " tensor-core peak "
        << peak / 1e12 << unit << " dense; a main loop sustains " << spec.tensor_efficiency * peak / 1e12 << unit
        << " (efficiency " << spec.tensor_efficiency << ")\n";
  }
  if (spec.sparse_2_4) {
    // A 2:4 weight's MACs count the pruned zeros: the sparse loop's dense-equivalent rate.
    out << "  sparse tensor cores take 2:4 weights: a main loop sustains " << 2 * spec.sparse_efficiency
        << "x the dense peak in dense-equivalent MACs (efficiency " << spec.sparse_efficiency << ")\n";
  }
  out << "  CUDA cores " << spec.fp32_ops_per_cycle_per_sm * spec.sms * clock / 1e12
      << " fp32 Tops/s; special functions " << spec.special_ops_per_cycle_per_sm * spec.sms * clock / 1e12
      << " Tops/s\n";
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
  if (spec.power) {
    out << "  power: idle " << spec.power->idle_w << " W, static " << spec.power->static_w << " W";
    if (spec.power->limit_w) out << ", limit " << *spec.power->limit_w << " W (an op above it runs at a lower clock)";
    out << "\n";
  }
  if (spec.nvlink) {
    const arch::NvlinkSpec& link = *spec.nvlink;
    out << "  NVLink: " << link.gpus_per_node << " GPUs a node, " << link.bytes_per_second / 1e9 << " GB/s each way, "
        << link.achievable_fraction * link.bytes_per_second / 1e9 << " GB/s achievable (fraction "
        << link.achievable_fraction << "); a collective " << link.collective_latency_s * 1e6 << " us + "
        << link.step_latency_s * 1e6 << " us a ring step\n";
  }
  out.flags(flags);
}

Device::MappingReport GpuDevice::explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings, size_t top,
                                                 uint64_t) {
  const arch::DType dtype = *settings.dtype;
  const std::vector<mapper::GpuGemmPlan> plans = mapper::rank_gpu_gemm(spec_, {gemm.m, gemm.n, gemm.k, dtype});
  const mapper::GpuGemmPlan& p = plans.front();
  const double clock = spec_.clock_hz;
  std::ostringstream out;
  out << "GEMM " << gemm.name << ": C[" << gemm.m << "x" << gemm.n << "] = A[" << gemm.m << "x" << gemm.k << "] B["
      << gemm.k << "x" << gemm.n << "], " << arch::to_string(dtype) << ", on " << spec_.name << "; objective latency\n";
  out << "mapping: " << p.describe() << "\n";
  const uint64_t shared =
      static_cast<uint64_t>(p.tile.stages) * (p.tile.m + p.tile.n) * p.tile.k * arch::bytes_of(dtype);
  out << "  thread block: " << p.tile.m << "x" << p.tile.n << " of C, K in steps of " << p.tile.k << ", "
      << p.tile.stages << " stages in shared memory (" << shared / 1024 << " KiB), " << p.tile.warps << " warps; "
      << p.resident << " resident per SM\n";
  out << "  grid: " << p.thread_blocks << " thread blocks (split-K " << p.split_k << ") over " << spec_.sms
      << " SMs: " << p.waves << " on the busiest, " << p.active_sms << " SMs busy\n";
  out << "  main loop: " << p.k_steps << " steps of " << std::fixed << std::setprecision(1) << p.step_cycles
      << " cycles, set by " << p.step_bound << "\n";
  out << std::setprecision(3) << "cost (analytic): " << p.cycles / clock * 1e6 << " us (" << std::setprecision(0)
      << p.cycles << " cycles: SMs " << p.sm_cycles << ", HBM " << p.hbm_cycles << ", launch " << p.launch_cycles
      << "); HBM " << std::setprecision(2) << p.hbm_bytes / 1e6 << " MB after L2 reuse, L2 to SMs " << p.l2_bytes / 1e6
      << " MB; bound by " << (p.sm_cycles >= p.hbm_cycles ? "the SMs" : "HBM") << "\n";
  out << "searched: " << plans.size() << " plans (tiles x splits of K that fit an SM)\n";
  return finish_plan_report(out, plans, top, facts_, gemm, dtype, plan_json);
}

}  // namespace tessel::sim
