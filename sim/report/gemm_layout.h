// The reports of a GEMM workload, whatever device ran it: summary.json with the workload's
// totals, layers.csv with a row per GEMM (M, N, K, cycles, stall, utilization, traffic,
// energy, roofline, mapping, check), the stats tree and the printed table.
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "sim/run_workload.h"
#include "sim/stats.h"

namespace tessel::sim {

nlohmann::json gemm_summary_json(const RunResult& result);
void write_gemm_layers_csv(const RunResult& result, std::ostream& out);
StatGroup gemm_stats_tree(const RunResult& result);
void print_gemm_table(const RunResult& result, std::ostream& out);

}  // namespace tessel::sim
