// One run: every GEMM of a workload mapped, simulated, costed and (when affordable)
// checked numerically, in order. Layers execute one after another.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arch/energy.h"
#include "arch/spec.h"
#include "mapper/systolic_mapper.h"
#include "sim/engine.h"
#include "sim/numerics/gemm_check.h"
#include "sim/roofline.h"
#include "workloads/gemm.h"

namespace tessel::sim {

enum class CheckMode { Auto, Always, Never };

struct RunOptions {
  arch::DType dtype;
  mapper::Objective objective = mapper::Objective::Latency;
  bool search_dataflows = false;            // the hardware can switch dataflow per layer
  std::optional<mapper::GemmMapping> pinned;  // use this mapping for every layer instead of searching
  // The mapper's best this many mappings are simulated and the fastest kept: the analytic
  // ranking cannot see every stall of DRAM bursts shared by several arrays.
  size_t confirm = 3;
  CheckMode check = CheckMode::Auto;
  // Auto checks layers within both limits: MACs bound the product's cost, elements of
  // A, B and C the cost of drawing operands and the memory.
  uint64_t check_limit_macs;
  uint64_t check_limit_elements;
  uint64_t seed = 1;
  // Called before each layer with its index (0-based) and the layer count.
  std::function<void(size_t, size_t, const workloads::Gemm&)> on_layer;
};

struct LayerResult {
  workloads::Gemm gemm;
  mapper::MapResult map;
  size_t confirmed;           // mappings simulated to choose this one
  GemmRun run;
  Roofline roofline;
  arch::EnergyBreakdown energy;
  double utilization;         // MACs / (total cycles × peak MACs a cycle)
  double mapping_efficiency;  // MACs / PE slots of the folds: what padding partial folds wastes
  NumericsReport numerics;
  bool reused;                // same shape as an earlier layer: its simulation was reused
};

struct RunTotals {
  uint64_t total_cycles = 0;
  uint64_t compute_cycles = 0;
  uint64_t stall_cycles = 0;
  uint64_t roofline_cycles = 0;
  uint64_t macs = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
};

struct RunResult {
  const arch::SystolicSpec* spec;
  std::string workload;
  arch::DType dtype;
  std::vector<LayerResult> layers;
  RunTotals totals;
  double seconds() const;
  double utilization() const;
  bool numerics_checked() const;
  bool numerics_passed() const;  // every checked layer passed (true when none was checked)
};

// Whether options.check asks for this GEMM's numerics check (Auto: within both limits).
bool wants_gemm_check(const RunOptions& options, const workloads::Gemm& gemm);

// Maps, simulates, costs and (per options.check) checks one GEMM; the transformer runs use
// it for their Linear ops. `mappings` carries mapper results across calls.
LayerResult run_gemm_layer(const arch::SystolicSpec& spec, const workloads::Gemm& gemm,
                           const RunOptions& options, mapper::MappingCache& mappings);

RunResult run_workload(const arch::SystolicSpec& spec, const workloads::Graph& graph,
                       const RunOptions& options);

// The layers of `graph` in order, each from run_layer(gemm) (options.on_layer told first),
// except that a GEMM of a shape already run copies that layer with its own gemm and
// reused = true. Layer has members gemm and reused.
template <typename Layer, typename RunLayer>
std::vector<Layer> run_layers_reusing_shapes(const workloads::Graph& graph, const RunOptions& options,
                                             RunLayer run_layer) {
  std::vector<Layer> layers;
  std::map<std::tuple<uint64_t, uint64_t, uint64_t>, size_t> first_of_shape;
  for (size_t i = 0; i < graph.gemms.size(); ++i) {
    const workloads::Gemm& gemm = graph.gemms[i];
    if (options.on_layer) options.on_layer(i, graph.gemms.size(), gemm);
    const auto [seen, is_new] = first_of_shape.emplace(std::make_tuple(gemm.m, gemm.n, gemm.k), i);
    if (is_new) {
      layers.push_back(run_layer(gemm));
      continue;
    }
    Layer layer = layers[seen->second];
    layer.gemm = gemm;
    layer.reused = true;
    layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace tessel::sim
