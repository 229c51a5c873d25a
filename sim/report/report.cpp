#include "sim/report/report.h"

#include <memory>
#include <utility>

#include "sim/report/build_info.h"
#include "sim/report/gemm_layout.h"
#include "sim/report/model_layout.h"
#include "sim/report/system_layout.h"
#include "sim/report/training_layout.h"

namespace tessel::sim {

namespace {

// Every summary.json says which tessel wrote it.
ReportBundle stamped(ReportBundle reports) {
  add_build_info(reports.summary);
  return reports;
}

}  // namespace

ReportBundle report_bundle(RunResult result) {
  const auto run = std::make_shared<const RunResult>(std::move(result));
  if (std::holds_alternative<GemmWorkload>(run->workload)) {
    return stamped({gemm_summary_json(*run), run->numerics_passed(),
                    [run](std::ostream& out) { write_gemm_layers_csv(*run, out); },
                    [run] { return gemm_stats_tree(*run).to_json(); },
                    [run](std::ostream& out) { print_gemm_table(*run, out); }, {}});
  }
  return stamped({model_summary_json(*run), run->numerics_passed(),
                  [run](std::ostream& out) { write_ops_csv(*run, out); },
                  [run] { return model_stats_tree(*run).to_json(); },
                  [run](std::ostream& out) { print_model_table(*run, out); }, {}});
}

ReportBundle report_bundle(SystemRunResult result) {
  const auto run = std::make_shared<const SystemRunResult>(std::move(result));
  bool passed = true;
  for (const StageRun& stage : run->stages) passed = passed && stage.run.numerics_passed();
  ReportBundle::Writer trace;
  if (!run->timeline.events.empty()) trace = [run](std::ostream& out) { write_trace(*run, out); };
  return stamped({system_summary_json(*run), passed, [run](std::ostream& out) { write_system_ops_csv(*run, out); },
                  [run] { return system_stats_tree(*run).to_json(); },
                  [run](std::ostream& out) { print_system_table(*run, out); }, trace});
}

ReportBundle report_bundle(TrainingRunResult result) {
  const auto run = std::make_shared<const TrainingRunResult>(std::move(result));
  nlohmann::json summary = training_summary_json(*run);
  const bool passed = summary["numerics"]["passed"] != false;
  ReportBundle::Writer trace;
  if (!run->timeline.events.empty()) trace = [run](std::ostream& out) { write_training_trace(*run, out); };
  return stamped({std::move(summary), passed, [run](std::ostream& out) { write_training_ops_csv(*run, out); },
                  [run] { return training_stats_tree(*run).to_json(); },
                  [run](std::ostream& out) { print_training_table(*run, out); }, trace});
}

}  // namespace tessel::sim
