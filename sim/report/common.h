// Pieces every report shares: CSV quoting, and the activity, energy and numerics figures as
// stats-tree entries and JSON.
#pragma once

#include <functional>
#include <optional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/energy.h"
#include "sim/numerics/gemm_check.h"
#include "sim/stats.h"

#include "workloads/quant_recipe.h"

namespace tessel::sim {

// The text as one CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& text);

void add_activity_stats(StatGroup& group, const arch::Activity& activity);
void add_energy_stats(StatGroup& group, const arch::EnergyBreakdown& energy);
void add_numerics_stats(StatGroup& group, const NumericsReport& numerics);

// summary.json's numerics.passed: null when nothing was checked, so that an unchecked run never
// reads as a passed one.
nlohmann::json numerics_passed_json(bool checked, bool passed);

// What a run reports, the same for the command line and Python. The summary is made at once;
// the rest is written when asked for (a long generate run's layers.csv is large, and a quiet run
// without --out needs none of it), from the run's result, which the writers hold.
struct ReportBundle {
  using Writer = std::function<void(std::ostream&)>;
  nlohmann::json summary;  // summary.json
  bool numerics_passed = true;
  Writer write_layers_csv;                // layers.csv
  std::function<nlohmann::json()> stats;  // stats.json
  Writer print_table;                     // what `tessel run` prints
  Writer write_trace;                     // the timeline (--trace) in the Trace Event Format; empty when not recorded
};

// What `write` prints, as a string.
std::string printed(const std::function<void(std::ostream&)>& write);

// Writes summary.json, layers.csv and stats.json into `directory`, creating it; throws
// std::runtime_error naming a file it cannot write.
void write_report_files(const ReportBundle& reports, const std::string& directory);

// Writes what `write` prints into the file at `path`; throws std::runtime_error naming it when
// it cannot.
void write_file(const std::function<void(std::ostream&)>& write, const std::string& path);

// Adds "resources" (each resource's name, used, available, utilization) to a summary, for
// architectures built on a device's fixed resources (FPGA designs); adds nothing otherwise.
void add_resources_json(nlohmann::json& summary, const std::vector<arch::ResourceUse>& resources);

// summary.json's "quant": null without a recipe, else its name, "weights" and "kv_cache" (each
// null or {format, scales, group, zero_points}), "activations" (null or the format the
// quantized linears multiply in), "sparsity" (null, {pattern} or {density, format}), "keep",
// "keep_layers", "prune" (null or {heads, mlp_channels}), "activation_sparsity" (null or {density,
// ops, outputs, predictor_rank}) and a "description".
nlohmann::json quant_json(const workloads::QuantRecipe& recipe);
// summary.json's numerics.scheme: null, or the worst checked quantized linear's "sqnr_db" and
// "max_abs_error" against the fp64 product of the unquantized operands, the unquantized
// format's "format_sqnr_db" on the same operands and what the scheme adds ("added_db").
nlohmann::json scheme_json(const std::optional<NumericsReport>& scheme);
// summary.json's numerics.scheme_layer: null, or scheme_json's keys for a whole decoder layer
// under the recipe (RunResult::scheme_layer), with "passed", "layer" (what was checked) and
// "reference".
nlohmann::json scheme_layer_json(const std::optional<NumericsReport>& layer);

// {"mac", "sram", "dram", "vector"} in pJ.
nlohmann::json energy_breakdown_json(const arch::EnergyBreakdown& energy);

}  // namespace tessel::sim
