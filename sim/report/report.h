// The one report writer: what a run reports, ready to print or to write, the same for the
// command line and Python. A GEMM workload gets the GEMM layout (a row per layer, M, N and K
// columns), a transformer the model layout (a row per operator and step).
#pragma once

#include "sim/report/common.h"
#include "sim/run_workload.h"
#include "sim/system/run_system.h"

namespace tessel::sim {

ReportBundle report_bundle(const RunResult& result);
// A model on a system: the model layout with the system's figures (sim/report/system_layout.h).
ReportBundle report_bundle(const SystemRunResult& result);

}  // namespace tessel::sim
