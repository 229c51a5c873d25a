// The outputs of a transformer run: summary.json, layers.csv (one row per operator and
// step), stats.json and the printed per-operator table with per-layer and whole-model totals.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/run_workload.h"
#include "sim/stats.h"

namespace tessel::sim {

nlohmann::json model_summary_json(const RunResult& result);
StatGroup model_stats_tree(const RunResult& result);
// With `stage`, a last column names the pipeline stage the rows are of.
void write_ops_csv(const RunResult& result, std::ostream& out, std::optional<uint64_t> stage = std::nullopt,
                   bool header = true);
// The prefill's ops, or the decode step's; for generate the prefill and the last decode
// step, then time to first token, time per output token and throughput.
void print_model_table(const RunResult& result, std::ostream& out);
// The per-op tables alone: the first step's and, for generate, the last decode step's.
void print_model_steps(const RunResult& result, std::ostream& out);

// One op's columns of layers.csv (from `op` to `numerics_passed`), for the layouts that add
// columns of their own before them.
const char* op_csv_columns();
void write_op_csv_fields(const OpResult& op, std::ostream& out);
// A step's per-op table (op, kind, shape, repeats, cycles, time, utilization, DRAM, energy,
// bound, check) and its per-layer and whole totals, after a line saying how its layers count.
void print_op_table(const StepResult& step, double clock_hz, std::ostream& out);

// When the weights and KV cache do not fit the architecture's DRAM, one line saying so and
// what the figures then mean; else "".
std::string dram_capacity_warning(const RunResult& result);

}  // namespace tessel::sim
