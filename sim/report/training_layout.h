// The reports of a training iteration: summary.json (iteration time, tokens/s, MFU and HFU,
// where the busiest stage's time went, each stage's memory by category against its capacity,
// the links, energy per iteration and per token, the plan), layers.csv (one row per op of each
// stage's, chunk's and pass's graph), stats.json and the printed table.
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "sim/report/common.h"
#include "sim/stats.h"
#include "sim/system/run_training.h"

namespace tessel::sim {

nlohmann::json training_summary_json(const TrainingRunResult& result);
// Columns stage, chunk, pass (forward, backward, backward_last when the reducing micro-batch's
// differs, optimizer), then layers.csv's op columns.
void write_training_ops_csv(const TrainingRunResult& result, std::ostream& out);
StatGroup training_stats_tree(const TrainingRunResult& result);
void print_training_table(const TrainingRunResult& result, std::ostream& out);
void write_training_trace(const TrainingRunResult& result, std::ostream& out);

}  // namespace tessel::sim
