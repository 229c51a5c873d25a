#include "sim/cli/map_gpu.h"

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "mapper/gpu_mapper.h"
#include "sim/cli/cli_common.h"

namespace tessel::cli {

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

void map_gemm_on_gpu(const arch::GpuSpec& spec, const workloads::Gemm& gemm, arch::DType dtype, size_t top,
                     const std::string& json_path, std::ostream& out) {
  const std::vector<mapper::GpuGemmPlan> plans = mapper::rank_gpu_gemm(spec, {gemm.m, gemm.n, gemm.k, dtype});
  const mapper::GpuGemmPlan& p = plans.front();
  const double clock = spec.clock_hz;
  out << "GEMM " << gemm.name << ": C[" << gemm.m << "x" << gemm.n << "] = A[" << gemm.m << "x" << gemm.k << "] B["
      << gemm.k << "x" << gemm.n << "], " << arch::to_string(dtype) << ", on " << spec.name << "; objective latency\n";
  out << "mapping: " << p.describe() << "\n";
  const uint64_t shared =
      static_cast<uint64_t>(p.tile.stages) * (p.tile.m + p.tile.n) * p.tile.k * arch::bytes_of(dtype);
  out << "  thread block: " << p.tile.m << "x" << p.tile.n << " of C, K in steps of " << p.tile.k << ", "
      << p.tile.stages << " stages in shared memory (" << shared / 1024 << " KiB), " << p.tile.warps << " warps; "
      << p.resident << " resident per SM\n";
  out << "  grid: " << p.thread_blocks << " thread blocks (split-K " << p.split_k << ") over " << spec.sms
      << " SMs: " << p.waves << " on the busiest, " << p.active_sms << " SMs busy\n";
  out << "  main loop: " << p.k_steps << " steps of " << std::fixed << std::setprecision(1) << p.step_cycles
      << " cycles, set by " << p.step_bound << "\n";
  out << std::setprecision(3) << "cost (analytic): " << p.cycles / clock * 1e6 << " us (" << std::setprecision(0)
      << p.cycles << " cycles: SMs " << p.sm_cycles << ", HBM " << p.hbm_cycles << ", launch " << p.launch_cycles
      << "); HBM " << std::setprecision(2) << p.hbm_bytes / 1e6 << " MB after L2 reuse, L2 to SMs " << p.l2_bytes / 1e6
      << " MB; bound by " << (p.sm_cycles >= p.hbm_cycles ? "the SMs" : "HBM") << "\n";
  out << "searched: " << plans.size() << " plans (tiles x splits of K that fit an SM)\n";
  const size_t shown = std::min(top, plans.size() - 1);
  if (shown > 0) out << "runners-up:\n";
  for (size_t i = 1; i <= shown; ++i) {
    out << "  " << i + 1 << ". " << std::setprecision(3) << plans[i].cycles / clock * 1e6 << " us: "
        << plans[i].describe() << "\n";
  }
  out.unsetf(std::ios::floatfield);
  if (json_path.empty()) return;
  nlohmann::json alternatives = nlohmann::json::array();
  for (size_t i = 1; i <= shown; ++i) alternatives.push_back(plan_json(plans[i]));
  const nlohmann::json result = {{"gemm", {{"name", gemm.name}, {"M", gemm.m}, {"N", gemm.n}, {"K", gemm.k}}},
                                 {"arch", spec.name},
                                 {"arch_file", spec.source_file},
                                 {"dtype", std::string(arch::to_string(dtype))},
                                 {"objective", "latency"},
                                 {"plan", plan_json(p)},
                                 {"considered", plans.size()},
                                 {"alternatives", alternatives}};
  std::ofstream file(json_path);
  if (!file) throw FlagError("--json: cannot write " + json_path);
  file << result.dump(2) << '\n';
}

}  // namespace tessel::cli
