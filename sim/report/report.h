// The one report writer: what a run reports, ready to print or to write, the same for the
// command line and Python. A GEMM workload gets the GEMM layout (a row per layer, M, N and K
// columns), a transformer the model layout (a row per operator and step), a training
// iteration the training layout (a row per operator of each stage's passes).
#pragma once

#include "sim/report/common.h"
#include "sim/run_workload.h"
#include "sim/system/run_system.h"
#include "sim/system/run_training.h"

namespace tessel::sim {

// Each bundle keeps its result for the writers it holds. A system run's or a training
// iteration's bundle writes the trace when the timeline recorded its events.
ReportBundle report_bundle(RunResult result);
// A model on a system: the model layout with the system's figures (sim/report/system_layout.h).
ReportBundle report_bundle(SystemRunResult result);
// A training iteration (sim/report/training_layout.h).
ReportBundle report_bundle(TrainingRunResult result);

}  // namespace tessel::sim
