#include "sim/report/report.h"

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

ReportBundle report_bundle(const RunResult& result) {
  if (std::holds_alternative<GemmWorkload>(result.workload)) {
    return stamped({gemm_summary_json(result), printed([&](std::ostream& out) { write_gemm_layers_csv(result, out); }),
                    gemm_stats_tree(result).to_json(),
                    printed([&](std::ostream& out) { print_gemm_table(result, out); }), result.numerics_passed(), ""});
  }
  return stamped({model_summary_json(result), printed([&](std::ostream& out) { write_ops_csv(result, out); }),
                  model_stats_tree(result).to_json(),
                  printed([&](std::ostream& out) { print_model_table(result, out); }), result.numerics_passed(), ""});
}

ReportBundle report_bundle(const SystemRunResult& result) {
  bool passed = true;
  for (const StageRun& stage : result.stages) passed = passed && stage.run.numerics_passed();
  return stamped({system_summary_json(result), printed([&](std::ostream& out) { write_system_ops_csv(result, out); }),
                  system_stats_tree(result).to_json(),
                  printed([&](std::ostream& out) { print_system_table(result, out); }), passed, ""});
}

ReportBundle report_bundle(const TrainingRunResult& result) {
  const nlohmann::json summary = training_summary_json(result);
  return stamped({summary, printed([&](std::ostream& out) { write_training_ops_csv(result, out); }),
                  training_stats_tree(result).to_json(),
                  printed([&](std::ostream& out) { print_training_table(result, out); }),
                  summary["numerics"]["passed"] != false, ""});
}

}  // namespace tessel::sim
