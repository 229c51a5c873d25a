#include "mapper/cpu_gemm_plan.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

#include "arch/cpu/cpu_timing.h"
#include "mapper/wave_reuse.h"

namespace tessel::mapper {

namespace {

using arch::ceil_div;

constexpr uint32_t kBlockM[] = {16, 32, 64, 128, 256, 512};
constexpr uint32_t kBlockN[] = {16, 32, 64, 128, 256, 512, 1024};
constexpr uint32_t kBlockK[] = {64, 128, 256, 512, 1024, 2048};
constexpr double kAccumulatorBytes = 4;  // fp32 or int32 partial sums of C's block

uint64_t round_up(uint64_t value, uint64_t multiple) { return ceil_div(value, multiple) * multiple; }

}  // namespace

double CpuGemm::b_bytes() const {
  return workloads::stored_weight_bytes_per_element(k, n, dtype, b_stored, b_sparsity);
}

double dequant_lane_ops_per_element(const CpuGemm& gemm) {
  // Expanding pruned weights: decode the index or mask bit and place the value (a masked expand,
  // VPEXPAND, does both for a vector of them): two lane operations an element.
  const double expand = gemm.b_sparsity ? 2.0 : 0.0;
  if (!gemm.b_stored || gemm.b_stored->format == gemm.dtype) return expand;
  // Unpack (shift and mask, 4-bit values only), convert to fp32, scale (an fma with the zero
  // point for groups along K), and convert down to the engine's format: AVX-512 does each on
  // 16 fp32 lanes.
  const bool packed = arch::bits_of(gemm.b_stored->format) < 8;
  const bool grouped = gemm.b_stored->scales == workloads::ScaleGranularity::Group;
  return expand + (packed ? 2.0 : 0.0) + 1.0 + (grouped ? 1.0 : 0.0) + 1.0;
}

std::optional<CpuGemmPlan> cost_cpu_gemm(const arch::CpuSpec& spec, const CpuGemm& g, size_t engine_index,
                                         const CpuBlock& block) {
  const arch::CpuMatrixEngine& engine = spec.engines.at(engine_index);
  if (!engine.rate(g.dtype)) return std::nullopt;
  const double panels = (block.m * g.a_bytes() + block.n * g.b_bytes()) * block.k;
  if (2 * panels + static_cast<double>(block.m) * block.n * kAccumulatorBytes > static_cast<double>(spec.l2_bytes_per_core)) {
    return std::nullopt;
  }
  CpuGemmPlan plan;
  plan.engine = engine_index;
  plan.engine_name = engine.name;
  plan.block = block;
  plan.blocks = ceil_div(g.m, block.m) * ceil_div(g.n, block.n);
  plan.active_cores = static_cast<uint32_t>(std::min<uint64_t>(plan.blocks, spec.cores()));
  plan.waves = ceil_div(plan.blocks, spec.cores());
  plan.k_steps = ceil_div(g.k, block.k);

  plan.l3_bytes = static_cast<double>(plan.blocks * plan.k_steps) * panels;
  const double output_bytes = static_cast<double>(g.m * g.n) * arch::gemm_output_bytes(g.dtype);
  const double input_bytes = wave_input_bytes(
      {g.m, g.n, g.k, g.a_bytes(), g.b_bytes(), block.m, block.n, spec.cores(), static_cast<double>(spec.l3_bytes())});
  plan.dram_bytes = input_bytes + output_bytes;

  // A step takes the longest of the engine's work on the step's panels (padded to its
  // instructions' tiles), pulling them from the L3, and the core's share of DDR for what the
  // L3 misses.
  const double step_macs = static_cast<double>(round_up(block.m, engine.tile_m)) *
                           static_cast<double>(round_up(block.n, engine.tile_n)) *
                           static_cast<double>(round_up(block.k, engine.tile_k(g.dtype)));
  plan.padded_macs = step_macs * static_cast<double>(plan.blocks * plan.k_steps);
  const double compute = arch::cpu::engine_cycles(engine, g.dtype, step_macs);
  const double l3 = panels / arch::cpu::l3_bytes_per_cycle_per_core(spec);
  const double miss_fraction = std::min(1.0, input_bytes / plan.l3_bytes);
  const double ddr_share = arch::cpu::ddr_bytes_per_cycle(spec) / plan.active_cores;
  const double ddr = panels * miss_fraction / ddr_share;
  const double lanes = spec.fp32_ops_per_cycle_per_core / 2;
  const double dequant = static_cast<double>(block.n) * block.k * dequant_lane_ops_per_element(g) / lanes;
  plan.step_cycles = std::max({compute, l3, ddr, dequant});
  plan.step_bound = compute >= std::max({l3, ddr, dequant}) ? "the " + engine.name + " engine"
                    : l3 >= std::max(ddr, dequant)          ? "the core's share of L3"
                    : ddr >= dequant                        ? "the core's share of DDR"
                                                            : "dequantizing B";

  // Each block waits one DDR latency for its first panels and writes its block of C from L2.
  const double edges = arch::cpu::ddr_latency_cycles(spec) + static_cast<double>(block.m) * block.n *
                                                                 arch::gemm_output_bytes(g.dtype) /
                                                                 spec.l2_bytes_per_cycle_per_core;
  plan.block_cycles = static_cast<double>(plan.k_steps) * plan.step_cycles + edges;
  plan.core_cycles = static_cast<double>(plan.waves) * plan.block_cycles;
  plan.dram_cycles = plan.dram_bytes / arch::cpu::ddr_bytes_per_cycle(spec);
  plan.start_cycles = arch::cpu::parallel_overhead_cycles(spec);
  plan.cycles = plan.start_cycles + std::max(plan.core_cycles, plan.dram_cycles + arch::cpu::ddr_latency_cycles(spec));
  return plan;
}

std::string CpuGemmPlan::describe() const {
  return engine_name + " blocks " + std::to_string(block.m) + "x" + std::to_string(block.n) + "x" +
         std::to_string(block.k) + ", " + std::to_string(waves) + " wave(s)";
}

std::vector<CpuGemmPlan> rank_cpu_gemm(const arch::CpuSpec& spec, const CpuGemm& gemm) {
  if (gemm.m == 0 || gemm.n == 0 || gemm.k == 0) throw std::invalid_argument("a GEMM size is zero");
  spec.peak_macs_per_cycle(gemm.dtype);  // throws for a format no engine takes
  std::vector<CpuGemmPlan> plans;
  for (size_t e = 0; e < spec.engines.size(); ++e) {
    const arch::CpuMatrixEngine& engine = spec.engines[e];
    if (!engine.rate(gemm.dtype)) continue;
    // A block never exceeds the GEMM rounded up to the engine's tiles: larger ones only pad.
    std::set<std::tuple<uint32_t, uint32_t, uint32_t>> seen;
    for (uint32_t bm : kBlockM) {
      for (uint32_t bn : kBlockN) {
        for (uint32_t bk : kBlockK) {
          const CpuBlock block{static_cast<uint32_t>(std::min<uint64_t>(bm, round_up(gemm.m, engine.tile_m))),
                               static_cast<uint32_t>(std::min<uint64_t>(bn, round_up(gemm.n, engine.tile_n))),
                               static_cast<uint32_t>(std::min<uint64_t>(bk, round_up(gemm.k, engine.tile_k(gemm.dtype))))};
          if (!seen.insert({block.m, block.n, block.k}).second) continue;
          if (const std::optional<CpuGemmPlan> plan = cost_cpu_gemm(spec, gemm, e, block)) plans.push_back(*plan);
        }
      }
    }
  }
  if (plans.empty()) throw std::invalid_argument(spec.name + ": no block's panels fit a core's L2");
  // Among plans of equal time (DDR-bound ones tie) the one leaving its cores the most slack
  // first, then candidate order: the engine listed first and the smaller block.
  std::stable_sort(plans.begin(), plans.end(), [](const CpuGemmPlan& a, const CpuGemmPlan& b) {
    return a.cycles < b.cycles || (a.cycles == b.cycles && a.core_cycles < b.core_cycles);
  });
  return plans;
}

CpuGemmPlan map_cpu_gemm(const arch::CpuSpec& spec, const CpuGemm& gemm) { return rank_cpu_gemm(spec, gemm).front(); }

}  // namespace tessel::mapper
