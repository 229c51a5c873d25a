#include "sim/workload_run.h"

#include <algorithm>

namespace tessel::sim {

namespace {


mapper::MapResult pinned_mapping(const arch::SystolicSpec& spec, const workloads::Gemm& gemm,
                                 const RunOptions& options) {
  mapper::GemmMapping mapping = *options.pinned;
  mapping.dtype = options.dtype;
  const mapper::Extents extents{gemm.m, gemm.n, gemm.k};
  mapper::check_mapping(spec, extents, mapping, gemm.name);
  mapper::MapResult result;
  result.mapping = mapping;
  result.cost = mapper::analytic_cost(spec, extents, mapping);
  result.considered = 1;
  result.space = 1;
  return result;
}

// The objective measured on a simulated run, the same quantity the mapper estimated.
double simulated_objective(const arch::SystolicSpec& spec, const RunOptions& options, const GemmRun& run) {
  const double cycles = static_cast<double>(run.total_cycles);
  const double energy = arch::energy_of(spec, options.dtype, run.activity).total_pj();
  switch (options.objective) {
    case mapper::Objective::Latency: return cycles;
    case mapper::Objective::Energy: return energy;
    case mapper::Objective::EnergyDelay: return cycles * energy;
  }
  return cycles;
}

// Simulates the mapper's best mappings (up to options.confirm) and keeps the best run.
void simulate_best(const arch::SystolicSpec& spec, const mapper::Extents& extents, const RunOptions& options,
                   LayerResult& layer) {
  layer.run = simulate_gemm(spec, extents, layer.map.mapping);
  layer.confirmed = 1;
  for (const mapper::RankedMapping& other : layer.map.alternatives) {
    if (layer.confirmed >= options.confirm) break;
    ++layer.confirmed;
    GemmRun run = simulate_gemm(spec, extents, other.mapping);
    if (simulated_objective(spec, options, run) < simulated_objective(spec, options, layer.run)) {
      layer.run = std::move(run);
      layer.map.mapping = other.mapping;
      layer.map.cost = other.cost;
    }
  }
}

}  // namespace

bool wants_gemm_check(const RunOptions& options, const workloads::Gemm& gemm) {
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

LayerResult run_gemm_layer(const arch::SystolicSpec& spec, const workloads::Gemm& gemm,
                           const RunOptions& options, mapper::MappingCache& mappings) {
  LayerResult layer{};
  layer.gemm = gemm;
  mapper::MapperOptions mapper_options;
  mapper_options.dtype = options.dtype;
  mapper_options.objective = options.objective;
  mapper_options.search_dataflows = options.search_dataflows;
  mapper_options.alternatives = std::max<size_t>(mapper_options.alternatives, options.confirm);
  layer.map = options.pinned ? pinned_mapping(spec, gemm, options) : mappings.map(gemm, mapper_options);
  simulate_best(spec, {gemm.m, gemm.n, gemm.k}, options, layer);
  layer.roofline = roofline(spec, gemm, options.dtype);
  layer.energy = arch::energy_of(spec, options.dtype, layer.run.activity);
  const double peak = peak_macs_per_cycle(spec, options.dtype);
  layer.utilization = static_cast<double>(gemm.macs()) / (static_cast<double>(layer.run.total_cycles) * peak);
  uint64_t pe_slots = 0;
  for (const ArrayStats& array : layer.run.arrays) pe_slots += array.pe_slots;
  layer.mapping_efficiency = static_cast<double>(gemm.macs()) / static_cast<double>(pe_slots);
  if (wants_gemm_check(options, gemm)) {
    layer.numerics = check_gemm({gemm.m, gemm.n, gemm.k, options.dtype, layer.map.mapping.tile.k, options.seed});
  }
  return layer;
}

RunResult run_workload(const arch::SystolicSpec& spec, const workloads::Graph& graph,
                       const RunOptions& options) {
  RunResult result{&spec, graph.name, options.dtype, {}, {}};
  mapper::MappingCache mappings(spec);
  result.layers = run_layers_reusing_shapes<LayerResult>(
      graph, options, [&](const workloads::Gemm& gemm) { return run_gemm_layer(spec, gemm, options, mappings); });
  for (const LayerResult& layer : result.layers) {
    RunTotals& t = result.totals;
    t.total_cycles += layer.run.total_cycles;
    t.compute_cycles += layer.run.compute_cycles;
    t.stall_cycles += layer.run.stall_cycles;
    t.roofline_cycles += layer.roofline.cycles();
    t.macs += layer.gemm.macs();
    t.activity += layer.run.activity;
    t.energy += layer.energy;
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
