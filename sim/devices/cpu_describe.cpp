// What `tessel describe` and `tessel map` print for a CPU.
#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <vector>

#include "arch/cpu/cpu_timing.h"
#include "mapper/cpu_gemm_plan.h"
#include "sim/devices/cpu_device.h"
#include "sim/devices/plan_report.h"

namespace tessel::sim {

namespace {

nlohmann::json plan_json(const mapper::CpuGemmPlan& p) {
  return {{"engine", p.engine_name},
          {"block", {{"m", p.block.m}, {"n", p.block.n}, {"k", p.block.k}}},
          {"blocks", p.blocks},
          {"waves", p.waves},
          {"active_cores", p.active_cores},
          {"k_steps", p.k_steps},
          {"step_cycles", p.step_cycles},
          {"block_cycles", p.block_cycles},
          {"core_cycles", p.core_cycles},
          {"dram_cycles", p.dram_cycles},
          {"start_cycles", p.start_cycles},
          {"cycles", p.cycles},
          {"dram_bytes", p.dram_bytes},
          {"l3_bytes", p.l3_bytes}};
}

}  // namespace

void CpuDevice::describe(std::ostream& out) const {
  const arch::CpuSpec& spec = spec_;
  const std::ios::fmtflags flags = out.flags();
  const double clock = spec.clock_hz;
  out << std::setprecision(4) << spec.name << " (" << spec.source_file << ")\n";
  out << "  clock " << clock / 1e6 << " MHz; " << spec.sockets << " socket(s) of " << spec.cores_per_socket
      << " cores\n";
  for (const arch::CpuMatrixEngine& engine : spec.engines) {
    out << "  engine " << engine.name << " (tiles " << engine.tile_m << "x" << engine.tile_n << " over "
        << engine.tile_k_bytes << " bytes of K; a blocked GEMM sustains " << engine.efficiency << " of its peak):";
    for (const arch::CpuEngineRate& rate : engine.rates) {
      const double peak = 2 * rate.macs_per_cycle_per_core * spec.cores() * clock;
      out << " " << arch::to_string(rate.dtype) << " " << peak / 1e12
          << (rate.dtype == arch::DType::Int8 ? " TOPS" : " TFLOP/s");
    }
    out << "\n";
  }
  out << "  vector lanes " << spec.fp32_ops_per_cycle_per_core * spec.cores() * clock / 1e12
      << " fp32 Tops/s; special functions " << spec.special_ops_per_cycle_per_core * spec.cores() * clock / 1e12
      << " Tops/s\n";
  out << "  per core: " << spec.l1d_bytes_per_core / 1024 << " KiB L1d, " << spec.l2_bytes_per_core / 1024
      << " KiB L2 at " << spec.l2_bytes_per_cycle_per_core << " B/cycle; L3 "
      << static_cast<double>(spec.l3_bytes()) / (1 << 20) << " MiB, " << spec.l3_bytes_per_cycle_per_core
      << " B/cycle a core\n";
  out << "  DDR " << spec.ddr_channels_per_socket * spec.sockets << " channels, " << spec.ddr_bytes_per_second() / 1e9
      << " GB/s peak, " << spec.ddr_achievable_fraction * spec.ddr_bytes_per_second() / 1e9
      << " GB/s achievable (fraction " << spec.ddr_achievable_fraction << "), latency " << spec.ddr_latency_ns << " ns";
  if (spec.ddr_capacity_bytes() > 0) {
    out << ", " << static_cast<double>(spec.ddr_capacity_bytes()) / (1ull << 30) << " GiB";
  }
  out << "\n";
  out << "  parallel region (fork and join) " << spec.parallel_overhead_s * 1e6 << " us an operator\n";
  if (spec.power) {
    out << "  power: idle " << spec.power->idle_w << " W, static " << spec.power->static_w << " W";
    if (spec.power->limit_w) out << ", limit " << *spec.power->limit_w << " W (an op above it runs at a lower clock)";
    out << "\n";
  }
  out.flags(flags);
}

Device::MappingReport CpuDevice::explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings, size_t top,
                                                 uint64_t) {
  const arch::DType dtype = *settings.dtype;
  const std::vector<mapper::CpuGemmPlan> plans = mapper::rank_cpu_gemm(spec_, {gemm.m, gemm.n, gemm.k, dtype});
  const mapper::CpuGemmPlan& p = plans.front();
  const double clock = spec_.clock_hz;
  std::ostringstream out;
  out << "GEMM " << gemm.name << ": C[" << gemm.m << "x" << gemm.n << "] = A[" << gemm.m << "x" << gemm.k << "] B["
      << gemm.k << "x" << gemm.n << "], " << arch::to_string(dtype) << ", on " << spec_.name << "; objective latency\n";
  out << "mapping: " << p.describe() << "\n";
  const double panels = static_cast<double>(p.block.m + p.block.n) * p.block.k * arch::bytes_of(dtype);
  out << "  block: " << p.block.m << "x" << p.block.n << " of C on the " << p.engine_name << " engine, K in steps of "
      << p.block.k << " (panels of A and B " << panels / 1024 << " KiB in a core's L2, double-buffered)\n";
  out << "  cores: " << p.blocks << " blocks over " << spec_.cores() << " cores: " << p.waves << " on the busiest, "
      << p.active_cores << " cores busy\n";
  out << "  a block: " << p.k_steps << " steps of " << std::fixed << std::setprecision(1) << p.step_cycles
      << " cycles, set by " << p.step_bound << "\n";
  out << std::setprecision(3) << "cost (analytic): " << p.cycles / clock * 1e6 << " us (" << std::setprecision(0)
      << p.cycles << " cycles: cores " << p.core_cycles << ", DDR " << p.dram_cycles << ", fork and join "
      << p.start_cycles << "); DDR " << std::setprecision(2) << p.dram_bytes / 1e6 << " MB after L3 reuse, L3 to L2 "
      << p.l3_bytes / 1e6 << " MB; bound by " << (p.core_cycles >= p.dram_cycles ? "the cores" : "DDR") << "\n";
  out << "searched: " << plans.size() << " plans (engines x blocks whose panels fit a core's L2)\n";
  return finish_plan_report(out, plans, top, facts_, gemm, dtype, plan_json);
}

}  // namespace tessel::sim
