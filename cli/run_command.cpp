#include "cli/run_command.h"

#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli/flag_bounds.h"
#include "mapper/mapping_json.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_check.h"
#include "sim/report/model_layout.h"
#include "sim/report/report.h"
#include "sim/report/system_layout.h"
#include "sim/run_workload.h"

namespace tessel::cli {

CLI::App* add_run_command(CLI::App& app, RunFlags& flags) {
  CLI::App* run = app.add_subcommand(
      "run", "Map and simulate GEMM layers or a transformer on an architecture (systolic, FPGA, GPU or CPU)");
  add_target_flags(*run, flags.target, false);
  CLI::Option* system = run->add_option(
      "--system", flags.system,
      "A system of devices and links (configs/systems/*.yaml) instead of --arch; needs --model");
  CLI::Option* model = run->add_option(
      "--model", flags.model, "A transformer instead of --gemm/--topology: preset name or HF config.json");
  run->add_option("--phase", flags.phase,
                  "With --model: prefill (--seq) | decode (one step, --kv-len) | generate (--input, then --output "
                  "decode steps)")
      ->capture_default_str();
  run->add_option("--quant", flags.quant, quant_help());
  add_bounded(*run, bounds::kBatch, flags.batch, "With --model: sequences")->capture_default_str();
  add_bounded(*run, bounds::kSeq, flags.seq, "With --model, prefill: tokens per sequence")->capture_default_str();
  add_bounded(*run, bounds::kKvLen, flags.kv_len, "With --model, decode: tokens already in the KV cache")
      ->capture_default_str();
  add_bounded(*run, bounds::kInput, flags.input, "With --model, generate: prompt tokens")->capture_default_str();
  add_bounded(*run, bounds::kOutput, flags.output,
              "With --model, generate: decode steps, one output token each (each reported)")
      ->capture_default_str();
  add_bounded(*run, bounds::kDecodeStride, flags.decode_stride,
              "With --model, generate: simulate the first and last decode steps and those whose cache length is a "
              "multiple of this, and interpolate the steps between (1: simulate every step)")
      ->capture_default_str();
  run->add_option("--attention", flags.attention,
                  "With --model: fused (flash-style, scores stay on chip) | unfused (scores cross DRAM)")
      ->capture_default_str();
  add_bounded(*run, bounds::kTp, flags.tp,
              "With --model: devices sharing every layer (Megatron tensor parallelism), of a --system or of the "
              "node a GPU file's nvlink section describes")
      ->capture_default_str();
  add_bounded(*run, bounds::kPp, flags.pp, "With --model: pipeline stages, each a run of consecutive layers")
      ->capture_default_str();
  add_bounded(*run, bounds::kDp, flags.dp, "With --model: data-parallel replicas, each serving --batch / dp sequences")
      ->capture_default_str();
  add_bounded(*run, bounds::kEp, flags.ep,
              "With --model (mixture of experts): replicas whose devices share each MoE layer's experts; divides "
              "--dp")
      ->capture_default_str();
  add_bounded(*run, bounds::kExpertSkew, flags.expert_skew,
              "With a mixture-of-experts --model: the busiest expert gets this many times the mean of the tokens "
              "(1: uniform routing)")
      ->capture_default_str();
  add_bounded(*run, bounds::kMicrobatches, flags.microbatches,
              "With --pp: groups of a replica's sequences flowing through the stages (default: one a stage)");
  run->add_option("--stage-layers", flags.stage_layers,
                  "With --pp: layers of each stage, e.g. 20,20,20,20 (default: balanced)");
  run->add_option("--collective", flags.collective,
                  "Pin the collectives' algorithm: ring | tree | hierarchical | torus | in-switch (default: the "
                  "fastest for each)");
  run->add_option("--trace", flags.trace,
                  "With --model: write the timeline (each stage's device and links) in the Trace Event Format "
                  "(Perfetto, chrome://tracing)");
  CLI::Option* check = run->add_flag(
      "--check", flags.check,
      "Check every layer's values against Eigen, however large (default: layers of at most " +
          std::to_string(sim::default_check_limit_macs()) + " MACs and " +
          std::to_string(sim::default_check_limit_elements()) +
          " elements of A, B and C, about a second each; with --model, other ops on a slice of at most " +
          std::to_string(sim::default_op_check_limits().max_elements) + " elements)");
  CLI::Option* no_check = run->add_flag("--no-check", flags.no_check, "Timing only: skip the numerics check");
  check->excludes(no_check);
  add_bounded(*run, bounds::kSeed, flags.seed, "Seed of the random operands of the numerics check")
      ->capture_default_str();
  add_bounded(*run, bounds::kConfirm, flags.confirm,
              "Simulate the mapper's best N mappings of each layer and keep the best (1: trust the analytic ranking)")
      ->capture_default_str();
  run->add_option("--mapping", flags.mapping,
                  "Pin this mapping (a `tessel map --json` file) for every layer instead of searching")
      ->excludes(model);
  system->needs(model);
  system->excludes(run->get_option("--arch"));
  run->callback([&flags, run] {
    if (flags.target.arch.empty() && flags.system.empty()) throw CLI::RequiredError("--arch or --system");
    std::set<std::string> given;
    for (const CLI::Option* option : run->get_options()) {
      if (option->count() > 0 && !option->get_lnames().empty()) given.insert(option->get_lnames().front());
    }
    try {
      refuse_inapplicable_flags(flags, given);
    } catch (const FlagError& error) {
      throw CLI::ValidationError(error.what());
    }
  });
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
  settings.decode_stride = flags.decode_stride;
  settings.confirm = flags.confirm;
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
  if (flags.model.empty()) {
    const workloads::QuantRecipe quant =
        flags.quant.empty() ? workloads::QuantRecipe{} : workloads::parse_quant(flags.quant);
    if (!quant.prune.empty()) {
      throw FlagError("--quant " + flags.quant + ": pruning heads or MLP channels shrinks a model (--model); a GEMM "
                      "list has none");
    }
    return sim::GemmWorkload{load_workload(flags.target), quant};
  }
  if (!flags.target.gemm.empty() || !flags.target.topology.empty()) {
    throw FlagError("--model runs a transformer: leave out --gemm and --topology");
  }
  sim::ModelWorkload model;
  model.attention = attention_impl(flags.attention);
  model.request = model_request(flags);
  model.model = load_model(flags.model, flags.quant);
  model.expert_skew = flags.expert_skew;
  return model;
}

sim::ParallelPlan parallel_plan(const RunFlags& flags) {
  sim::ParallelPlan plan;
  plan.tensor = flags.tp;
  plan.pipeline = flags.pp;
  plan.data = flags.dp;
  plan.expert = flags.ep;
  plan.microbatches = flags.microbatches;
  if (!flags.stage_layers.empty()) plan.stage_layers = parse_stage_layers(flags.stage_layers);
  if (!flags.collective.empty()) plan.collective = parse_collective(flags.collective);
  return plan;
}

// Whether the flags ask for more than one device, or for a timeline: then the model runs on a
// system (a file's, or the node a GPU file's nvlink section describes, or one device).
bool wants_system(const RunFlags& flags) {
  return !flags.system.empty() || !flags.trace.empty() || flags.tp > 1 || flags.pp > 1 || flags.dp > 1 ||
         flags.ep > 1 || flags.microbatches > 0 || !flags.stage_layers.empty() || !flags.collective.empty();
}


sim::ReportBundle execute_system_run(const RunFlags& flags, const sim::Workload& workload) {
  const auto* model = std::get_if<sim::ModelWorkload>(&workload);
  if (model == nullptr) {
    throw FlagError("--system, --tp, --pp, --dp, --ep and --trace spread a transformer over devices: they need "
                    "--model");
  }
  const sim::ParallelPlan plan = parallel_plan(flags);
  const arch::SystemSpec system = load_hardware(flags.system, flags.target.arch, plan.devices());
  sim::SystemRunOptions options;
  // An --arch run warns when the model does not fit, as a one-device run does.
  options.require_fit = !flags.system.empty();
  options.record_events = !flags.trace.empty();
  return sim::report_bundle(
      sim::run_system(system, *model, plan, run_settings(flags), options, progress_observer(flags.quiet, false)));
}

}  // namespace

void refuse_inapplicable_flags(const RunFlags& flags, const std::set<std::string>& given) {
  if (flags.model.empty()) {
    const std::string workload = flags.target.topology.empty() ? "--gemm" : "--topology";
    for (const char* name : {"phase", "batch", "seq", "kv-len", "input", "output", "decode-stride", "attention", "tp",
                             "pp", "dp", "ep",
                             "expert-skew", "microbatches", "stage-layers", "collective", "trace"}) {
      if (given.count(name) > 0) throw FlagError("--" + std::string(name) + " applies to a --model run, not to " + workload);
    }
    return;
  }
  // The tokens each phase reads: prefill --seq, decode --kv-len, generate --input and --output.
  const std::pair<const char*, const char*> phase_of[] = {
      {"seq", "prefill"}, {"kv-len", "decode"}, {"input", "generate"}, {"output", "generate"},
      {"decode-stride", "generate"}};
  for (const auto& [name, phase] : phase_of) {
    if (given.count(name) > 0 && flags.phase != phase) {
      throw FlagError("--" + std::string(name) + " applies to --phase " + phase + ", not to --phase " + flags.phase);
    }
  }
}

sim::ReportBundle execute_run(const RunFlags& flags, sim::Device* device) {
  if (flags.target.arch.empty() == flags.system.empty()) {
    throw FlagError("give the hardware with one of --arch FILE (one device) or --system FILE (devices and links)");
  }
  const sim::Workload workload = workload_of(flags);
  if (wants_system(flags)) return execute_system_run(flags, workload);
  std::unique_ptr<sim::Device> loaded;
  if (!device) device = (loaded = load_device(flags.target.arch)).get();
  const bool gemms = std::holds_alternative<sim::GemmWorkload>(workload);
  sim::RunResult result =
      sim::run_workload(*device, workload, run_settings(flags), progress_observer(flags.quiet, gemms));
  if (result.model()) {
    const std::string warning = sim::dram_capacity_warning(result);
    if (!warning.empty()) std::cerr << "tessel: " << warning << '\n';
  }
  return sim::report_bundle(std::move(result));
}

int run_command(const RunFlags& flags) {
  const sim::ReportBundle reports = execute_run(flags);
  print_warnings(reports.summary);
  return finish_command(reports, flags.quiet, flags.out, flags.trace);
}

}  // namespace tessel::cli
