#include "cli/run_command.h"

#include <iostream>
#include <optional>

#include "mapper/mapping_json.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_check.h"
#include "sim/report/model_layout.h"
#include "sim/report/report.h"
#include "sim/run_workload.h"

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

sim::RunSettings run_settings(const RunFlags& flags) {
  sim::RunSettings settings = target_settings(flags.target);
  settings.check = flags.check ? sim::CheckMode::Always : flags.no_check ? sim::CheckMode::Never : sim::CheckMode::Auto;
  settings.seed = flags.seed;
  settings.confirm = flags.confirm;
  settings.tensor_parallel = flags.tp;
  if (!flags.mapping.empty()) settings.pinned = mapper::read_mapping_file(flags.mapping);
  return settings;
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

sim::Workload workload_of(const RunFlags& flags) {
  if (flags.model.empty()) return sim::GemmWorkload{load_workload(flags.target)};
  if (!flags.target.gemm.empty() || !flags.target.topology.empty()) {
    throw FlagError("--model runs a transformer: leave out --gemm and --topology");
  }
  sim::ModelWorkload model;
  model.attention = attention_impl(flags.attention);
  model.request = model_request(flags);
  model.model = load_model(flags.model);
  return model;
}

}  // namespace

sim::ReportBundle execute_run(const RunFlags& flags) {
  const std::unique_ptr<sim::Device> device = load_device(flags.target.arch);
  const sim::Workload workload = workload_of(flags);
  sim::RunObserver observer;
  if (!flags.quiet) {
    const auto progress = [](size_t i, size_t count, const std::string& what) {
      std::cerr << "[" << i + 1 << "/" << count << "] " << what << '\n';
    };
    if (std::holds_alternative<sim::GemmWorkload>(workload)) observer.on_op = progress;
    observer.on_step = progress;
  }
  const sim::RunResult result = sim::run_workload(*device, workload, run_settings(flags), observer);
  if (result.model()) {
    const std::string warning = sim::dram_capacity_warning(result);
    if (!warning.empty()) std::cerr << "tessel: " << warning << '\n';
  }
  return sim::report_bundle(result);
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
