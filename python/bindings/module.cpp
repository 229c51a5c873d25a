// The native half of the tessel Python package: runs exactly what `tessel run` and `tessel
// train` run, from the same flags, and hands back the same reports. Everything else (arch dicts, DataFrames,
// plots) lives in python/tessel.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <initializer_list>
#include <optional>
#include <string>

#include "cli/cli_common.h"
#include "cli/run_command.h"
#include "cli/train_command.h"
#include "sim/report/plan_layout.h"
#include "workloads/model_config.h"

namespace py = pybind11;

namespace {

using tessel::cli::RunFlags;
using tessel::cli::TrainFlags;

template <typename Value>
void take(const py::dict& options, const char* key, Value& field) {
  if (options.contains(key) && !options[key].is_none()) field = options[key].cast<Value>();
}

// Throws ValueError naming the first key not among `known`.
void refuse_unknown(const py::dict& options, const char* command, std::initializer_list<const char*> known) {
  for (const auto& item : options) {
    const std::string key = item.first.cast<std::string>();
    bool found = false;
    for (const char* name : known) found = found || key == name;
    if (!found) throw py::value_error(std::string(command) + ": unknown option '" + key + "'");
  }
}

// check is True (--check), False (--no-check) or None (the default limits); progress prints
// what --quiet silences.
template <typename Flags>
void take_check_and_progress(const py::dict& options, Flags& flags) {
  if (options.contains("check") && !options["check"].is_none()) {
    const bool check = options["check"].cast<bool>();
    flags.check = check;
    flags.no_check = !check;
  }
  bool progress = false;
  take(options, "progress", progress);
  flags.quiet = !progress;
}

// The keys are the long flags of `tessel run` with '-' as '_'.
RunFlags run_flags(const py::dict& options) {
  refuse_unknown(options, "run",
                 {"arch", "system", "gemm", "topology", "dataflow", "dtype", "objective", "model", "phase", "batch",
                  "seq", "kv_len", "input", "output", "attention", "tp", "pp", "dp", "ep", "expert_skew",
                  "microbatches", "stage_layers", "collective", "trace", "check", "seed", "confirm", "mapping",
                  "progress"});
  RunFlags flags;
  take(options, "arch", flags.target.arch);
  take(options, "gemm", flags.target.gemm);
  take(options, "topology", flags.target.topology);
  take(options, "dataflow", flags.target.dataflow);
  take(options, "dtype", flags.target.dtype);
  take(options, "objective", flags.target.objective);
  take(options, "model", flags.model);
  take(options, "phase", flags.phase);
  take(options, "batch", flags.batch);
  take(options, "seq", flags.seq);
  take(options, "kv_len", flags.kv_len);
  take(options, "input", flags.input);
  take(options, "output", flags.output);
  take(options, "attention", flags.attention);
  take(options, "system", flags.system);
  take(options, "tp", flags.tp);
  take(options, "pp", flags.pp);
  take(options, "dp", flags.dp);
  take(options, "ep", flags.ep);
  take(options, "expert_skew", flags.expert_skew);
  take(options, "microbatches", flags.microbatches);
  take(options, "stage_layers", flags.stage_layers);
  take(options, "collective", flags.collective);
  take(options, "trace", flags.trace);
  take(options, "seed", flags.seed);
  take(options, "confirm", flags.confirm);
  take(options, "mapping", flags.mapping);
  take_check_and_progress(options, flags);
  return flags;
}

// The keys are the long flags of `tessel train` with '-' as '_'.
TrainFlags train_flags(const py::dict& options) {
  refuse_unknown(options, "train",
                 {"arch", "system", "model", "dtype", "global_batch", "micro_batch", "seq", "attention", "tp", "pp",
                  "dp", "ep", "expert_skew", "sequence_parallel", "schedule", "chunks", "recompute", "zero",
                  "lora_rank", "teacher", "stage_layers", "collective", "trace", "check", "seed", "confirm",
                  "progress", "search_full", "jobs"});
  TrainFlags flags;
  take(options, "arch", flags.arch);
  take(options, "system", flags.system);
  take(options, "model", flags.model);
  take(options, "dtype", flags.dtype);
  take(options, "global_batch", flags.global_batch);
  take(options, "micro_batch", flags.micro_batch);
  take(options, "seq", flags.seq);
  take(options, "attention", flags.attention);
  take(options, "tp", flags.tp);
  take(options, "pp", flags.pp);
  take(options, "dp", flags.dp);
  take(options, "ep", flags.ep);
  take(options, "expert_skew", flags.expert_skew);
  take(options, "sequence_parallel", flags.sequence_parallel);
  take(options, "schedule", flags.schedule);
  take(options, "chunks", flags.chunks);
  take(options, "recompute", flags.recompute);
  take(options, "zero", flags.zero);
  take(options, "lora_rank", flags.lora_rank);
  take(options, "teacher", flags.teacher);
  take(options, "stage_layers", flags.stage_layers);
  take(options, "collective", flags.collective);
  take(options, "trace", flags.trace);
  take(options, "seed", flags.seed);
  take(options, "confirm", flags.confirm);
  take(options, "search_full", flags.search_full);
  take(options, "jobs", flags.jobs);
  take_check_and_progress(options, flags);
  return flags;
}

py::dict reports_dict(const tessel::sim::ReportBundle& reports) {
  py::dict out;
  out["summary"] = reports.summary.dump();
  out["layers_csv"] = reports.layers_csv;
  out["stats"] = reports.stats.dump();
  out["table"] = reports.table;
  out["numerics_passed"] = reports.numerics_passed;
  out["trace"] = reports.trace.empty() ? py::object(py::none()) : py::object(py::str(reports.trace));
  return out;
}

py::dict run(const py::dict& options) { return reports_dict(tessel::cli::execute_run(run_flags(options))); }

py::dict train(const py::dict& options) { return reports_dict(tessel::cli::execute_train(train_flags(options))); }

// `tessel train --search`: plans.csv and summary.json.
py::dict search_plans(const py::dict& options) {
  const std::vector<tessel::sim::PlanOutcome> plans = tessel::cli::execute_search(train_flags(options));
  py::dict out;
  out["plans_csv"] = tessel::sim::printed([&](std::ostream& csv) { tessel::sim::write_plans_csv(plans, csv); });
  out["summary"] = tessel::sim::plans_summary_json(plans, tessel::cli::training_warnings(train_flags(options))).dump();
  return out;
}

// The figures a roofline plot needs.
py::dict arch_figures(const std::string& path) {
  const tessel::sim::DeviceFacts facts = tessel::cli::load_device(path)->facts();
  py::dict peaks;
  for (const tessel::sim::FormatPeak& peak : facts.peaks) {
    peaks[py::str(std::string(tessel::arch::to_string(peak.dtype)))] = peak.macs_per_cycle;
  }
  py::dict figures;
  figures["name"] = facts.name;
  figures["clock_hz"] = facts.clock_hz;
  figures["peak_macs_per_cycle"] = peaks;
  const std::optional<double> dram = facts.dram_bytes_per_cycle();
  figures["dram_bytes_per_cycle"] = dram ? py::object(py::float_(*dram)) : py::object(py::none());
  return figures;
}

}  // namespace

// libsystemc's main() calls sc_main, so every binary that links it must define one; a Python
// module never runs it, but the import fails without the symbol (pybind11 hides the rest).
extern "C" __attribute__((visibility("default"))) int sc_main(int, char*[]) { return 0; }

PYBIND11_MODULE(_tessel, m) {
  m.doc() = "tessel's simulator core; use the tessel package";
  static py::exception<std::exception> error(m, "TesselError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const py::error_already_set&) {
      throw;
    } catch (const py::builtin_exception&) {
      throw;
    } catch (const std::exception& e) {
      error(e.what());
    }
  });
  m.def("run", &run, py::arg("options"),
        "Runs what `tessel run` runs; returns summary (JSON text), layers_csv, stats (JSON text), table, "
        "numerics_passed and trace (JSON text of the timeline when asked for, else None)");
  m.def("train", &train, py::arg("options"), "Runs what `tessel train` runs; returns what run returns");
  m.def("search_plans", &search_plans, py::arg("options"),
        "Runs what `tessel train --search` runs; returns plans_csv and summary (JSON text)");
  m.def("arch_figures", &arch_figures, py::arg("path"), "Clock, peak MACs a cycle per format, DRAM bytes a cycle");
  m.def("presets", &tessel::workloads::preset_names, "The model presets --model accepts");
}
