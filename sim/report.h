// The outputs of a GEMM run: summary.json, layers.csv, stats.json and the printed table.
#pragma once

#include "sim/report_common.h"
#include "sim/stats.h"
#include "sim/workload_run.h"

namespace tessel::sim {

StatGroup stats_tree(const RunResult& result);

ReportBundle report_bundle(const RunResult& result);

}  // namespace tessel::sim
