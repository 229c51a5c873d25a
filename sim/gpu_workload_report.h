// The outputs of a GEMM run on a GPU: the same summary.json keys and layers.csv columns as a
// systolic run's (gemm_run_report; dataflow and area are null), and a stats.json of each
// GEMM's thread-block plan, waves, HBM and L2 traffic.
#pragma once

#include "sim/gpu_workload_run.h"
#include "sim/report_common.h"

namespace tessel::sim {

ReportBundle report_bundle(const GpuRunResult& result);

}  // namespace tessel::sim
