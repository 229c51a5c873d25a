// The outputs of a GEMM run: summary.json, layers.csv, stats.json and the printed table.
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/report_common.h"
#include "sim/stats.h"
#include "sim/workload_run.h"

namespace tessel::sim {

nlohmann::json summary_json(const RunResult& result);
StatGroup stats_tree(const RunResult& result);
void write_layers_csv(const RunResult& result, std::ostream& out);
void print_table(const RunResult& result, std::ostream& out);

ReportBundle report_bundle(const RunResult& result);

}  // namespace tessel::sim
