#include "sim/cli/run_command.h"

#include <iostream>
#include <optional>

#include "arch/config_gpu.h"
#include "mapper/mapping_json.h"
#include "sim/gpu_model_run.h"
#include "sim/gpu_workload_report.h"
#include "sim/gpu_workload_run.h"
#include "sim/model_report.h"
#include "sim/model_run.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_check.h"
#include "sim/report.h"
#include "sim/workload_run.h"

namespace tessel::cli {

CLI::App* add_run_command(CLI::App& app, RunFlags& flags) {
  CLI::App* run = app.add_subcommand(
      "run", "Map and simulate GEMM layers or a transformer on an architecture (systolic, FPGA or GPU)");
  add_target_flags(*run, flags.target);
  CLI::Option* model = run->add_option(
      "--model", flags.model, "A transformer instead of --gemm/--topology: preset name or HF config.json");
  run->add_option("--phase", flags.phase,
                  "With --model: prefill (--seq) | decode (one step, --kv-len) | generate (--input, then --output "
                  "decode steps)")
      ->capture_default_str();
  run->add_option("--batch", flags.batch, "With --model: sequences")->capture_default_str();
  run->add_option("--seq", flags.seq, "With --model, prefill: tokens per sequence")->capture_default_str();
  run->add_option("--kv-len", flags.kv_len, "With --model, decode: tokens already in the KV cache")
      ->capture_default_str();
  run->add_option("--input", flags.input, "With --model, generate: prompt tokens")->capture_default_str();
  run->add_option("--output", flags.output, "With --model, generate: decode steps, one output token each")
      ->capture_default_str();
  run->add_option("--attention", flags.attention,
                  "With --model: fused (flash-style, scores stay on chip) | unfused (scores cross DRAM)")
      ->capture_default_str();
  run->add_option("--tp", flags.tp,
                  "With --model on a GPU file with nvlink: GPUs sharing every layer (Megatron tensor parallelism); "
                  "figures are one GPU's (at most the node's nvlink.gpus_per_node)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  CLI::Option* check = run->add_flag(
      "--check", flags.check,
      "Check every layer's values against Eigen, however large (default: layers of at most " +
          std::to_string(sim::default_check_limit_macs()) + " MACs and " +
          std::to_string(sim::default_check_limit_elements()) +
          " elements of A, B and C, about a second each; with --model, other ops on a slice of at most " +
          std::to_string(sim::default_op_check_limits().max_elements) + " elements)");
  CLI::Option* no_check = run->add_flag("--no-check", flags.no_check, "Timing only: skip the numerics check");
  check->excludes(no_check);
  run->add_option("--seed", flags.seed, "Seed of the random operands of the numerics check")->capture_default_str();
  run->add_option("--confirm", flags.confirm,
                  "Simulate the mapper's best N mappings of each layer and keep the best (1: trust the analytic ranking)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run->add_option("--mapping", flags.mapping,
                  "Pin this mapping (a `tessel map --json` file) for every layer instead of searching")
      ->excludes(model);
  run->add_option("--out", flags.out, "Write summary.json, layers.csv and stats.json into this directory");
  run->add_flag("--quiet", flags.quiet, "Print neither the table nor progress");
  run->footer(
      "Exit status: 0 success, 1 bad input (the message names file, line and key), 2 bad usage,\n"
      "3 the numerics check failed.");
  return run;
}

namespace {

sim::RunOptions gemm_options(const RunFlags& flags, arch::DType dtype) {
  sim::RunOptions options;
  options.dtype = dtype;
  options.objective = choose_objective(flags.target.objective);
  options.check = flags.check ? sim::CheckMode::Always : flags.no_check ? sim::CheckMode::Never : sim::CheckMode::Auto;
  options.check_limit_macs = sim::default_check_limit_macs();
  options.check_limit_elements = sim::default_check_limit_elements();
  options.seed = flags.seed;
  options.confirm = flags.confirm;
  return options;
}

sim::ModelRequest model_request(const RunFlags& flags) {
  sim::ModelRequest request;
  request.batch = flags.batch;
  request.seq = flags.seq;
  request.cached = flags.kv_len;
  request.input = flags.input;
  request.output = flags.output;
  if (flags.phase == "prefill") {
    request.kind = sim::ModelRequest::Prefill;
  } else if (flags.phase == "decode") {
    request.kind = sim::ModelRequest::Decode;
  } else if (flags.phase == "generate") {
    request.kind = sim::ModelRequest::Generate;
  } else {
    throw FlagError("--phase '" + flags.phase + "': not one of prefill, decode, generate");
  }
  return request;
}

workloads::AttentionImpl attention_impl(const std::string& name) {
  if (name == "fused") return workloads::AttentionImpl::Fused;
  if (name == "unfused") return workloads::AttentionImpl::Unfused;
  throw FlagError("--attention '" + name + "': not one of fused, unfused");
}

sim::ReportBundle execute_model_run(const RunFlags& flags) {
  if (!flags.target.gemm.empty() || !flags.target.topology.empty()) {
    throw FlagError("--model runs a transformer: leave out --gemm and --topology");
  }
  sim::ModelRunOptions options;
  options.attention = attention_impl(flags.attention);
  options.tensor_parallel = flags.tp;
  const sim::ModelRequest request = model_request(flags);
  const workloads::ModelConfig model = load_model(flags.model);
  if (!flags.quiet) {
    options.on_step = [](size_t i, size_t count, const workloads::Phase& phase) {
      if (count > 1) std::cerr << "[" << i + 1 << "/" << count << "] " << workloads::phase_text(phase) << '\n';
    };
  }
  sim::ModelRunResult result;
  if (arch::is_gpu_file(flags.target.arch)) {
    if (!flags.target.dataflow.empty()) throw FlagError("--dataflow: a GPU has no dataflow to choose");
    const arch::GpuSpec gpu = arch::load_gpu_spec(flags.target.arch);
    options.gemm = gemm_options(flags, choose_gpu_dtype(gpu, flags.target.dtype));
    result = sim::run_model(gpu, model, request, options);
  } else {
    if (flags.tp > 1) throw FlagError("--tp: tensor parallelism runs on GPUs linked by NVLink (a kind: gpu file)");
    bool search_dataflows = false;
    const arch::SystolicSpec spec = load_target(flags.target, search_dataflows);
    options.gemm = gemm_options(flags, choose_dtype(spec, flags.target.dtype));
    options.gemm.search_dataflows = search_dataflows;
    result = sim::run_model(spec, model, request, options);
  }
  const std::string warning = sim::dram_capacity_warning(result);
  if (!warning.empty()) {
    std::cerr << "tessel: " << warning << '\n';
    if (arch::is_gpu_file(flags.target.arch)) std::cerr << "tessel: --tp N shares the layers over N GPUs\n";
  }
  return sim::report_bundle(result);
}

}  // namespace

// GEMMs on a GPU: the mapper picks thread-block tiles for latency, so the systolic search's
// flags do not apply.
sim::ReportBundle execute_gpu_gemm_run(const RunFlags& flags, const arch::GpuSpec& gpu) {
  refuse_systolic_search_flags(flags.target);
  if (!flags.mapping.empty()) throw FlagError("--mapping: a GPU's GEMMs are mapped to thread blocks, not pinned");
  const workloads::Graph graph = load_workload(flags.target);
  sim::RunOptions options = gemm_options(flags, choose_gpu_dtype(gpu, flags.target.dtype));
  if (!flags.quiet && graph.gemms.size() > 1) {
    options.on_layer = [](size_t i, size_t count, const workloads::Gemm& gemm) {
      std::cerr << "[" << i + 1 << "/" << count << "] " << gemm.name << '\n';
    };
  }
  return sim::report_bundle(sim::run_gpu_workload(gpu, graph, options));
}

sim::ReportBundle execute_run(const RunFlags& flags) {
  if (!flags.model.empty()) return execute_model_run(flags);
  if (flags.tp != 1) throw FlagError("--tp shards a transformer: it needs --model");
  if (arch::is_gpu_file(flags.target.arch)) return execute_gpu_gemm_run(flags, arch::load_gpu_spec(flags.target.arch));
  bool search_dataflows = false;
  const arch::SystolicSpec spec = load_target(flags.target, search_dataflows);
  const workloads::Graph graph = load_workload(flags.target);
  sim::RunOptions options = gemm_options(flags, choose_dtype(spec, flags.target.dtype));
  options.search_dataflows = search_dataflows;
  if (!flags.mapping.empty()) options.pinned = mapper::read_mapping_file(flags.mapping);
  if (!flags.quiet && graph.gemms.size() > 1) {
    options.on_layer = [](size_t i, size_t count, const workloads::Gemm& gemm) {
      std::cerr << "[" << i + 1 << "/" << count << "] " << gemm.name << '\n';
    };
  }

  return sim::report_bundle(sim::run_workload(spec, graph, options));
}

int run_command(const RunFlags& flags) {
  const sim::ReportBundle reports = execute_run(flags);
  if (!flags.quiet) std::cout << reports.table;
  if (!flags.out.empty()) sim::write_report_files(reports, flags.out);
  if (reports.numerics_passed) return 0;
  std::cerr << "tessel: the numerics check failed: see the numerics entries in "
            << (flags.out.empty() ? "the table" : flags.out + "/stats.json") << '\n';
  return kExitNumericsFailed;
}

}  // namespace tessel::cli
