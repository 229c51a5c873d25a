// The native half of the tessel Python package: runs exactly what `tessel run` and `tessel
// train` run, from the same flags, and hands back the same reports. Everything else (arch dicts, DataFrames,
// plots) lives in python/tessel.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>

#include "cli/cli_common.h"
#include "cli/flag_bounds.h"
#include "cli/pareto.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/train_command.h"
#include "sim/report/plan_layout.h"
#include "sim/report/serving_layout.h"
#include "workloads/model_config.h"

namespace py = pybind11;

namespace {

using tessel::cli::RunFlags;
using tessel::cli::TrainFlags;

using tessel::cli::CountBound;
using tessel::cli::RealBound;
namespace bounds = tessel::cli::bounds;

// The value under `key`, of the field's type; TesselError naming the key for another type.
template <typename Value>
Value cast_option(const py::dict& options, const char* key) {
  const py::object value = options[key];
  try {
    return value.cast<Value>();
  } catch (const py::cast_error&) {
    throw tessel::cli::FlagError(std::string(key) + ": " + std::string(py::str(py::repr(value))) + " is a " +
                                 std::string(py::str(value.get_type().attr("__name__"))) + ", not of this key's type");
  }
}

template <typename Value>
void take(const py::dict& options, const char* key, Value& field) {
  if (options.contains(key) && !options[key].is_none()) field = cast_option<Value>(options, key);
}

// The keyword of a flag: "--kv-len" is kv_len.
std::string keyword(const char* flag) {
  std::string key(flag + 2);
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

// A number is checked against its flag's bound as the command line checks it, so that -1
// raises TesselError instead of wrapping to 2^64 - 1.
template <typename Count>
void take(const py::dict& options, const CountBound& bound, Count& field) {
  const std::string key = keyword(bound.flag);
  if (!options.contains(key) || options[key.c_str()].is_none()) return;
  std::string text = py::str(options[key.c_str()]);
  const std::string problem = tessel::cli::count_problem(bound, text);
  if (!problem.empty()) throw tessel::cli::FlagError(std::string(bound.flag) + ": " + problem);
  field = static_cast<Count>(std::stoull(text));
}

void take(const py::dict& options, const RealBound& bound, double& field) {
  const std::string key = keyword(bound.flag);
  if (!options.contains(key) || options[key.c_str()].is_none()) return;
  const double value = cast_option<double>(options, key.c_str());
  const std::string problem = tessel::cli::real_problem(bound, value);
  if (!problem.empty()) throw tessel::cli::FlagError(std::string(bound.flag) + ": " + problem);
  field = value;
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
    const bool check = cast_option<bool>(options, "check");
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
                  "seq", "kv_len", "input", "output", "decode_stride", "attention", "tp", "pp", "dp", "ep",
                  "expert_skew", "microbatches", "stage_layers", "collective", "trace", "check", "seed", "confirm",
                  "mapping", "progress", "quant"});
  RunFlags flags;
  take(options, "arch", flags.target.arch);
  take(options, "gemm", flags.target.gemm);
  take(options, "topology", flags.target.topology);
  take(options, "dataflow", flags.target.dataflow);
  take(options, "dtype", flags.target.dtype);
  take(options, "objective", flags.target.objective);
  take(options, "model", flags.model);
  take(options, "quant", flags.quant);
  take(options, "phase", flags.phase);
  take(options, bounds::kBatch, flags.batch);
  take(options, bounds::kSeq, flags.seq);
  take(options, bounds::kKvLen, flags.kv_len);
  take(options, bounds::kInput, flags.input);
  take(options, bounds::kOutput, flags.output);
  take(options, bounds::kDecodeStride, flags.decode_stride);
  take(options, "attention", flags.attention);
  take(options, "system", flags.system);
  take(options, bounds::kTp, flags.tp);
  take(options, bounds::kPp, flags.pp);
  take(options, bounds::kDp, flags.dp);
  take(options, bounds::kEp, flags.ep);
  take(options, bounds::kExpertSkew, flags.expert_skew);
  take(options, bounds::kMicrobatches, flags.microbatches);
  take(options, "stage_layers", flags.stage_layers);
  take(options, "collective", flags.collective);
  take(options, "trace", flags.trace);
  take(options, bounds::kSeed, flags.seed);
  take(options, bounds::kConfirm, flags.confirm);
  take(options, "mapping", flags.mapping);
  take_check_and_progress(options, flags);
  std::set<std::string> given;
  for (const auto& item : options) {
    if (item.second.is_none()) continue;
    std::string name = item.first.cast<std::string>();
    std::replace(name.begin(), name.end(), '_', '-');
    given.insert(name);
  }
  tessel::cli::refuse_inapplicable_flags(flags, given);
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
  take(options, bounds::kGlobalBatch, flags.global_batch);
  take(options, bounds::kMicroBatch, flags.micro_batch);
  take(options, bounds::kSeq, flags.seq);
  take(options, "attention", flags.attention);
  take(options, bounds::kTp, flags.tp);
  take(options, bounds::kPp, flags.pp);
  take(options, bounds::kDp, flags.dp);
  take(options, bounds::kEp, flags.ep);
  take(options, bounds::kExpertSkew, flags.expert_skew);
  take(options, "sequence_parallel", flags.sequence_parallel);
  take(options, "schedule", flags.schedule);
  take(options, bounds::kChunks, flags.chunks);
  take(options, "recompute", flags.recompute);
  take(options, bounds::kZero, flags.zero);
  take(options, bounds::kLoraRank, flags.lora_rank);
  take(options, "teacher", flags.teacher);
  take(options, "stage_layers", flags.stage_layers);
  take(options, "collective", flags.collective);
  take(options, "trace", flags.trace);
  take(options, bounds::kSeed, flags.seed);
  take(options, bounds::kConfirm, flags.confirm);
  take(options, bounds::kSearchFull, flags.search_full);
  take(options, bounds::kSearchJobs, flags.jobs);
  take_check_and_progress(options, flags);
  return flags;
}

// The keys are the long flags of `tessel serve` with '-' as '_', and chunked_prefill.
tessel::cli::ServeFlags serve_flags(const py::dict& options) {
  refuse_unknown(options, "serve",
                 {"placement", "arch", "system", "tp", "replicas", "prefill_arch", "prefill_system", "prefill_tp",
                  "kv_link_gbps", "kv_link_latency_us", "offload_weights_gbps", "offload_kv_gbps", "host_memory_gib", "attention_arch",
                  "attention_ops", "attention_link_gbps", "attention_link_latency_us", "attention_microbatches",
                  "draft_model", "draft_tokens", "acceptance",
                  "model", "quant", "dtype", "requests", "arrivals", "concurrency", "prompt_len", "output_len",
                  "requests_count", "seed", "scheduler", "max_batch", "token_budget", "chunked_prefill", "block_size",
                  "kv_blocks", "memory_fraction", "shape_cells", "slo_ttft_ms", "slo_tpot_ms", "trace", "progress"});
  tessel::cli::ServeFlags flags;
  take(options, "placement", flags.placement);
  take(options, "arch", flags.arch);
  take(options, "system", flags.system);
  take(options, bounds::kTp, flags.tp);
  take(options, bounds::kReplicas, flags.replicas);
  take(options, "prefill_arch", flags.prefill_arch);
  take(options, "prefill_system", flags.prefill_system);
  take(options, bounds::kPrefillTp, flags.prefill_tp);
  take(options, bounds::kKvLinkGbps, flags.kv_link_gbps);
  take(options, bounds::kKvLinkLatencyUs, flags.kv_link_latency_us);
  take(options, bounds::kOffloadWeightsGbps, flags.offload_weights_gbps);
  take(options, bounds::kOffloadKvGbps, flags.offload_kv_gbps);
  take(options, bounds::kHostMemoryGib, flags.host_memory_gib);
  take(options, "attention_arch", flags.attention_arch);
  take(options, "attention_ops", flags.attention_ops);
  take(options, bounds::kAttentionLinkGbps, flags.attention_link_gbps);
  take(options, bounds::kAttentionLinkLatencyUs, flags.attention_link_latency_us);
  take(options, bounds::kAttentionMicrobatches, flags.attention_microbatches);
  take(options, "draft_model", flags.draft_model);
  take(options, bounds::kDraftTokens, flags.draft_tokens);
  if (options.contains("acceptance") && !options["acceptance"].is_none()) {
    double acceptance = 0;
    take(options, bounds::kAcceptance, acceptance);
    flags.acceptance = acceptance;
  }
  if ((!flags.prefill_arch.empty() || !flags.prefill_system.empty()) != (flags.kv_link_gbps > 0)) {
    throw tessel::cli::FlagError("serve: prefill (prefill_arch or prefill_system) and kv_link_gbps go together");
  }
  take(options, "model", flags.model);
  take(options, "quant", flags.quant);
  take(options, "dtype", flags.dtype);
  take(options, "requests", flags.requests);
  take(options, "arrivals", flags.arrivals);
  take(options, bounds::kConcurrency, flags.concurrency);
  take(options, "prompt_len", flags.prompt_len);
  take(options, "output_len", flags.output_len);
  take(options, bounds::kRequestsCount, flags.requests_count);
  take(options, bounds::kSeed, flags.seed);
  take(options, "scheduler", flags.scheduler);
  take(options, bounds::kMaxBatch, flags.max_batch);
  take(options, bounds::kTokenBudget, flags.token_budget);
  bool chunked = true;
  take(options, "chunked_prefill", chunked);
  flags.no_chunked_prefill = !chunked;
  take(options, bounds::kBlockSize, flags.block_size);
  take(options, bounds::kKvBlocks, flags.kv_blocks);
  take(options, bounds::kMemoryFraction, flags.memory_fraction);
  take(options, bounds::kShapeCells, flags.shape_cells);
  for (const auto& [bound, field] : {std::pair{&bounds::kSloTtftMs, &flags.slo_ttft_ms},
                                     std::pair{&bounds::kSloTpotMs, &flags.slo_tpot_ms}}) {
    if (!options.contains(keyword(bound->flag)) || options[py::str(keyword(bound->flag))].is_none()) continue;
    double value = 0;
    take(options, *bound, value);
    *field = value;
  }
  take(options, "trace", flags.trace);
  bool progress = false;
  take(options, "progress", progress);
  flags.quiet = !progress;
  const int sources = !flags.requests.empty() + !flags.arrivals.empty() + (flags.concurrency > 0);
  if (sources != 1) throw tessel::cli::FlagError("serve: give one of requests, arrivals or concurrency");
  if (!flags.requests.empty()) {
    for (const char* generated : {"prompt_len", "output_len", "requests_count", "seed"}) {
      if (std::string(generated) == "seed" && !flags.draft_model.empty()) continue;  // it seeds the acceptances
      if (options.contains(generated) && !options[generated].is_none()) {
        throw tessel::cli::FlagError(std::string("serve: ") + generated + " applies to generated requests, not to a "
                                     "trace");
      }
    }
  }
  return flags;
}

// `tessel serve`: summary.json, requests.csv, iterations.csv, the table and (asked for) the trace.
py::dict serve(const py::dict& options) {
  const tessel::cli::ServeFlags flags = serve_flags(options);
  const tessel::cli::ServeRun run = tessel::cli::execute_serve(flags);
  py::dict out;
  out["summary"] = tessel::sim::serve_summary_json(run.result, run.summary, run.objectives).dump();
  out["requests_csv"] =
      tessel::sim::printed([&](std::ostream& csv) { tessel::sim::write_requests_csv(run.result, csv); });
  out["iterations_csv"] =
      tessel::sim::printed([&](std::ostream& csv) { tessel::sim::write_iterations_csv(run.result, csv); });
  out["table"] =
      tessel::sim::printed([&](std::ostream& text) { tessel::sim::print_serve_table(run.result, run.summary, text); });
  out["trace"] = flags.trace.empty() ? py::object(py::none())
                                     : py::object(py::str(tessel::sim::printed([&](std::ostream& trace) {
                                         tessel::sim::write_serve_trace(run.result, trace);
                                       })));
  return out;
}

// `tessel serve --search`: placements.csv and summary.json.
py::dict search_serve_placements(const py::dict& options) {
  tessel::cli::ServeFlags flags = serve_flags(options);
  if (flags.tp != 1 || flags.replicas != 1 || !flags.prefill_arch.empty() || !flags.prefill_system.empty() ||
      !flags.trace.empty()) {
    throw tessel::cli::FlagError("serve search: it chooses the placement; leave out tp, replicas, prefill and trace");
  }
  flags.search = true;
  tessel::sim::ServiceObjectives objectives;
  const std::vector<tessel::sim::PlacementOutcome> outcomes = tessel::cli::execute_placement_search(flags, objectives);
  py::dict out;
  out["placements_csv"] =
      tessel::sim::printed([&](std::ostream& csv) { tessel::sim::write_placements_csv(outcomes, csv); });
  out["summary"] = tessel::sim::placements_summary_json(outcomes, objectives).dump();
  return out;
}

py::dict reports_dict(const tessel::sim::ReportBundle& reports) {
  py::dict out;
  out["summary"] = reports.summary.dump();
  out["layers_csv"] = tessel::sim::printed(reports.write_layers_csv);
  out["stats"] = reports.stats().dump();
  out["table"] = tessel::sim::printed(reports.print_table);
  out["numerics_passed"] = reports.numerics_passed;
  out["trace"] =
      reports.write_trace ? py::object(py::str(tessel::sim::printed(reports.write_trace))) : py::object(py::none());
  return out;
}

// The rows (each a value per objective) on the Pareto front of `objectives` (cli/pareto.h), in
// row order, and whether each objective is maximized.
py::dict pareto_front(const std::vector<std::vector<double>>& rows, const std::string& objectives) {
  std::vector<tessel::cli::Goal> goals;
  py::list maximize;
  for (const tessel::cli::Objective& objective : tessel::cli::parse_objectives(objectives)) {
    goals.push_back(objective.goal);
    maximize.append(objective.goal == tessel::cli::Goal::Maximize);
  }
  py::dict out;
  out["rows"] = tessel::cli::pareto_front(rows, goals);
  out["maximize"] = maximize;
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
  m.def("serve", &serve, py::arg("options"),
        "Runs what `tessel serve` runs; returns summary, requests_csv, iterations_csv, table and trace");
  m.def("search_serve_placements", &search_serve_placements, py::arg("options"),
        "Runs what `tessel serve --search` runs; returns placements_csv and summary");
  m.def("train", &train, py::arg("options"), "Runs what `tessel train` runs; returns what run returns");
  m.def("search_plans", &search_plans, py::arg("options"),
        "Runs what `tessel train --search` runs; returns plans_csv and summary (JSON text)");
  m.def("arch_figures", &arch_figures, py::arg("path"), "Clock, peak MACs a cycle per format, DRAM bytes a cycle");
  m.def("presets", &tessel::workloads::preset_names, "The model presets --model accepts");
  m.def("pareto_front", &pareto_front, py::arg("rows"), py::arg("objectives"),
        "The rows on the Pareto front of objectives (as `tessel sweep --pareto` takes them): {rows, maximize}");
}
