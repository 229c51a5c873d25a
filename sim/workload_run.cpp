#include "sim/workload_run.h"

#include <map>
#include <tuple>

namespace tessel::sim {

namespace {

bool wants_check(const RunOptions& options, const workloads::Gemm& gemm) {
  switch (options.check) {
    case CheckMode::Always: return true;
    case CheckMode::Never: return false;
    case CheckMode::Auto: {
      const uint64_t elements = gemm.m * gemm.k + gemm.k * gemm.n + gemm.m * gemm.n;
      return gemm.macs() <= options.check_limit_macs && elements <= options.check_limit_elements;
    }
  }
  return false;
}

LayerResult run_layer(const arch::SystolicSpec& spec, const workloads::Gemm& gemm,
                      const RunOptions& options) {
  LayerResult layer{};
  layer.gemm = gemm;
  layer.map = mapper::map_gemm(spec, gemm, options.dtype);
  layer.run = simulate_gemm(spec, {gemm.m, gemm.n, gemm.k}, layer.map.mapping);
  layer.roofline = roofline(spec, gemm, options.dtype);
  layer.energy = arch::energy_of(spec, options.dtype, layer.run.activity);
  const double peak = peak_macs_per_cycle(spec, options.dtype);
  layer.utilization = static_cast<double>(gemm.macs()) / (static_cast<double>(layer.run.total_cycles) * peak);
  uint64_t pe_slots = 0;
  for (const ArrayStats& array : layer.run.arrays) pe_slots += array.pe_slots;
  layer.mapping_efficiency = static_cast<double>(gemm.macs()) / static_cast<double>(pe_slots);
  if (wants_check(options, gemm)) {
    layer.numerics = check_gemm({gemm.m, gemm.n, gemm.k, options.dtype, layer.map.mapping.tile.k, options.seed});
  }
  return layer;
}

}  // namespace

RunResult run_workload(const arch::SystolicSpec& spec, const workloads::Graph& graph,
                       const RunOptions& options) {
  RunResult result{&spec, graph.name, options.dtype, {}, {}};
  std::map<std::tuple<uint64_t, uint64_t, uint64_t>, size_t> first_of_shape;
  for (size_t i = 0; i < graph.gemms.size(); ++i) {
    const workloads::Gemm& gemm = graph.gemms[i];
    if (options.on_layer) options.on_layer(i, graph.gemms.size(), gemm);
    const auto shape = std::make_tuple(gemm.m, gemm.n, gemm.k);
    const auto seen = first_of_shape.find(shape);
    if (seen == first_of_shape.end()) {
      first_of_shape.emplace(shape, i);
      result.layers.push_back(run_layer(spec, gemm, options));
    } else {
      LayerResult layer = result.layers[seen->second];
      layer.gemm = gemm;
      layer.reused = true;
      result.layers.push_back(layer);
    }
    const LayerResult& layer = result.layers.back();
    RunTotals& t = result.totals;
    t.total_cycles += layer.run.total_cycles;
    t.compute_cycles += layer.run.compute_cycles;
    t.stall_cycles += layer.run.stall_cycles;
    t.roofline_cycles += layer.roofline.cycles();
    t.macs += gemm.macs();
    t.activity += layer.run.activity;
    t.energy.mac_pj += layer.energy.mac_pj;
    t.energy.sram_pj += layer.energy.sram_pj;
    t.energy.dram_pj += layer.energy.dram_pj;
  }
  return result;
}

double RunResult::seconds() const { return static_cast<double>(totals.total_cycles) / spec->clock_hz; }

double RunResult::utilization() const {
  return static_cast<double>(totals.macs) /
         (static_cast<double>(totals.total_cycles) * peak_macs_per_cycle(*spec, dtype));
}

bool RunResult::numerics_checked() const {
  for (const LayerResult& layer : layers) {
    if (layer.numerics.checked) return true;
  }
  return false;
}

bool RunResult::numerics_passed() const {
  for (const LayerResult& layer : layers) {
    if (layer.numerics.checked && !layer.numerics.passed) return false;
  }
  return true;
}

}  // namespace tessel::sim
