// The outputs of a run: summary.json, layers.csv, stats.json and the printed table.
#pragma once

#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/stats.h"
#include "sim/workload_run.h"

namespace tessel::sim {

nlohmann::json summary_json(const RunResult& result);
StatGroup stats_tree(const RunResult& result);
void write_layers_csv(const RunResult& result, std::ostream& out);
void print_table(const RunResult& result, std::ostream& out);

// Writes summary.json, layers.csv and stats.json into `directory`, creating it.
void write_reports(const RunResult& result, const std::string& directory);

}  // namespace tessel::sim
