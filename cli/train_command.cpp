#include "cli/train_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/flag_bounds.h"
#include "sim/report/plan_layout.h"
#include "sim/report/report.h"
#include "sim/report/training_layout.h"
#include "sim/system/run_training.h"

namespace tessel::cli {

CLI::App* add_train_command(CLI::App& app, TrainFlags& flags) {
  CLI::App* train = app.add_subcommand(
      "train", "Simulate one training iteration of a transformer (forward, backward, optimizer) on a system");
  CLI::Option* system =
      train->add_option("--system", flags.system, "A system of devices and links (configs/systems/*.yaml)");
  CLI::Option* arch = train->add_option(
      "--arch", flags.arch, "Instead of --system: one device, or the node a GPU file's nvlink section describes");
  system->excludes(arch);
  train->add_option("--model", flags.model, "A decoder: preset name or HF config.json")->required();
  add_bounded(*train, bounds::kGlobalBatch, flags.global_batch, "Sequences an iteration, over every replica")
      ->capture_default_str();
  add_bounded(*train, bounds::kMicroBatch, flags.micro_batch, "Sequences a forward and backward pass")
      ->capture_default_str();
  add_bounded(*train, bounds::kSeq, flags.seq, "Tokens a sequence")->capture_default_str();
  train->add_option("--dtype", flags.dtype,
                    "Compute format: bf16 | fp16 (with loss scaling) | fp32 | fp8 (the layers' linears in fp8 with "
                    "per-tensor scales, the rest in bf16; devices with an fp8 rate) (default: bf16 where the device "
                    "has it); master weights, gradients and optimizer states are fp32");
  train->add_option("--attention", flags.attention, "fused (FlashAttention) | unfused")->capture_default_str();
  add_bounded(*train, bounds::kTp, flags.tp, "Devices sharing every layer (Megatron tensor parallelism)")
      ->capture_default_str();
  add_bounded(*train, bounds::kPp, flags.pp, "Pipeline stages")->capture_default_str();
  add_bounded(*train, bounds::kDp, flags.dp, "Data-parallel replicas, each taking --global-batch / dp sequences")
      ->capture_default_str();
  add_bounded(*train, bounds::kEp, flags.ep,
              "Mixture of experts: replicas sharing each MoE layer's experts; divides --dp")
      ->capture_default_str();
  add_bounded(*train, bounds::kExpertSkew, flags.expert_skew,
              "Mixture of experts: the busiest expert gets this many times the mean of the tokens")
      ->capture_default_str();
  train->add_flag("--sequence-parallel", flags.sequence_parallel,
                  "With --tp: split the norms' and residuals' tokens over the devices (Megatron sequence parallelism)");
  train->add_option("--schedule", flags.schedule, "Pipeline schedule: gpipe | 1f1b | interleaved")
      ->capture_default_str();
  add_bounded(*train, bounds::kChunks, flags.chunks, "With --schedule interleaved: model chunks each stage holds")
      ->capture_default_str();
  train->add_option("--recompute", flags.recompute,
                    "Activation recomputation: none | selective (the attention core) | full (each layer)")
      ->capture_default_str();
  add_bounded(*train, bounds::kZero, flags.zero,
              "ZeRO stage: 0 | 1 (optimizer states sharded over --dp) | 2 (and gradients) | 3 (and parameters)")
      ->capture_default_str();
  add_bounded(*train, bounds::kLoraRank, flags.lora_rank,
              "LoRA: freeze the layers' weights and train adapters of this rank on each of their linears (0: none)")
      ->capture_default_str();
  train->add_option("--teacher", flags.teacher,
                    "Distillation: a frozen teacher (preset name or HF config.json, the student's vocabulary) whose "
                    "forward pass runs beside each micro-batch's on the same devices, its probabilities a second loss");
  train->add_option("--stage-layers", flags.stage_layers,
                    "Layers of each (virtual) stage, e.g. 20,20,20,20 (default: balanced)");
  train->add_option("--collective", flags.collective,
                    "Pin the collectives' algorithm: ring | tree | hierarchical | torus | in-switch");
  CLI::Option* check = train->add_flag("--check", flags.check, "Check every op's values against Eigen, however large");
  CLI::Option* no_check = train->add_flag("--no-check", flags.no_check, "Timing only: skip the numerics check");
  check->excludes(no_check);
  add_bounded(*train, bounds::kSeed, flags.seed, "Seed of the numerics check's random operands")->capture_default_str();
  add_bounded(*train, bounds::kConfirm, flags.confirm,
              "Simulate the mapper's best N mappings of each GEMM, keep the best")
      ->capture_default_str();
  train->add_option("--trace", flags.trace,
                    "Write the iteration's timeline in the Trace Event Format (Perfetto, chrome://tracing)");
  train->add_option("--out", flags.out, "Write summary.json, layers.csv and stats.json into this directory");
  train->add_flag("--quiet", flags.quiet, "Print neither the table nor progress");
  train->add_flag("--search", flags.search,
                  "Rank every plan that fits the system and --global-batch, fastest first: tp x pp x dp over all the "
                  "devices, micro-batch 1-8, recomputation, sequence parallelism, ZeRO 0-1 (writes plans.csv and "
                  "summary.json to --out)");
  add_bounded(*train, bounds::kSearchFull, flags.search_full,
              "With --search: time the best N plans in full (the others from two shortened runs)")
      ->capture_default_str();
  add_bounded(*train, bounds::kSearchShow, flags.search_show, "With --search: plans to print")->capture_default_str();
  add_bounded(*train, bounds::kSearchJobs, flags.jobs, "With --search: worker processes (default, or 0: one a core)");
  train->callback([&flags, train] {
    if (flags.arch.empty() && flags.system.empty()) throw CLI::RequiredError("--system or --arch");
    if (!flags.search) return;
    for (const char* chosen : {"--tp", "--pp", "--dp", "--micro-batch", "--recompute", "--sequence-parallel", "--zero",
                               "--stage-layers", "--trace"}) {
      if (train->count(chosen) > 0) {
        throw CLI::ValidationError(std::string("--search chooses the plan: leave out ") + chosen);
      }
    }
  });
  train->footer(
      "Exit status: 0 success, 1 bad input (the message names file, line and key), 2 bad usage,\n"
      "3 the numerics check failed.");
  return train;
}

namespace {

template <typename Value>
Value parsed(const std::optional<Value>& value, const std::string& flag, const std::string& text,
             const std::string& choices) {
  if (!value) throw FlagError(flag + " '" + text + "': not one of " + choices);
  return *value;
}

sim::TrainingRequest training_request(const TrainFlags& flags) {
  sim::TrainingRequest request;
  request.model = load_model(flags.model);
  request.global_batch = flags.global_batch;
  request.micro_batch = flags.micro_batch;
  request.seq = flags.seq;
  if (flags.attention != "fused" && flags.attention != "unfused") {
    throw FlagError("--attention '" + flags.attention + "': not one of fused, unfused");
  }
  request.attention = flags.attention == "fused" ? workloads::AttentionImpl::Fused : workloads::AttentionImpl::Unfused;
  request.recompute =
      parsed(workloads::parse_recompute(flags.recompute), "--recompute", flags.recompute, "none, selective, full");
  request.sequence_parallel = flags.sequence_parallel;
  request.lora_rank = flags.lora_rank;
  if (!flags.teacher.empty()) request.teacher = load_model(flags.teacher);
  request.expert_skew = flags.expert_skew;
  return request;
}

sim::TrainingPlan training_plan(const TrainFlags& flags) {
  sim::TrainingPlan plan;
  plan.parallel.tensor = flags.tp;
  plan.parallel.pipeline = flags.pp;
  plan.parallel.data = flags.dp;
  plan.parallel.expert = flags.ep;
  if (!flags.stage_layers.empty()) plan.parallel.stage_layers = parse_stage_layers(flags.stage_layers);
  if (!flags.collective.empty()) plan.parallel.collective = parse_collective(flags.collective);
  plan.schedule = parsed(sim::parse_schedule(flags.schedule), "--schedule", flags.schedule, "gpipe, 1f1b, interleaved");
  plan.chunks = flags.chunks;
  plan.zero = flags.zero;
  return plan;
}

sim::RunSettings training_settings(const TrainFlags& flags, const arch::SystemSpec& system) {
  sim::RunSettings settings;
  if (!flags.dtype.empty()) {
    settings.dtype = parsed(arch::parse_dtype(flags.dtype), "--dtype", flags.dtype, "fp8, fp16, bf16, fp32");
  } else if (sim::make_device(system.device)->facts().supports(arch::DType::Bf16)) {
    settings.dtype = arch::DType::Bf16;
  }
  if (settings.dtype == arch::DType::Int8) throw FlagError("--dtype int8: training computes in a floating format");
  settings.check = flags.check ? sim::CheckMode::Always : flags.no_check ? sim::CheckMode::Never : sim::CheckMode::Auto;
  settings.seed = flags.seed;
  settings.confirm = flags.confirm;
  return settings;
}

}  // namespace

sim::ReportBundle execute_train(const TrainFlags& flags) {
  const sim::TrainingPlan plan = training_plan(flags);
  const arch::SystemSpec system = load_hardware(flags.system, flags.arch, plan.parallel.devices());
  sim::TrainingRunOptions options;
  options.record_events = !flags.trace.empty();
  return sim::report_bundle(sim::run_training(system, training_request(flags), plan, training_settings(flags, system),
                                              options, progress_observer(flags.quiet, false)));
}

std::vector<sim::PlanOutcome> execute_search(const TrainFlags& flags) {
  const sim::TrainingPlan fixed = training_plan(flags);
  const arch::SystemSpec system = load_hardware(flags.system, flags.arch, 1);
  const std::vector<sim::PlanOutcome> candidates =
      sim::plan_candidates(system, training_request(flags), fixed, sim::PlanSpace{});
  const sim::RunObserver progress = progress_observer(flags.quiet, false);
  const size_t jobs = flags.jobs > 0 ? flags.jobs : std::max(1u, std::thread::hardware_concurrency());
  return sim::search_plans(system, candidates, training_settings(flags, system), flags.search_full, jobs,
                           progress.on_step);
}

std::vector<std::string> training_warnings(const TrainFlags& flags) {
  return sim::config_warnings(training_request(flags));
}

int train_command(const TrainFlags& flags) {
  if (!flags.search) {
    const sim::ReportBundle reports = execute_train(flags);
    print_warnings(reports.summary);
    return finish_command(reports, flags.quiet, flags.out, flags.trace);
  }
  const std::vector<sim::PlanOutcome> plans = execute_search(flags);
  const std::vector<std::string> warnings = training_warnings(flags);
  print_warnings(warnings);
  if (!flags.quiet) sim::print_plans_table(plans, flags.search_show, std::cout);
  if (!flags.out.empty()) {
    std::filesystem::create_directories(flags.out);
    sim::write_file([&](std::ostream& out) { sim::write_plans_csv(plans, out); },
                    (std::filesystem::path(flags.out) / "plans.csv").string());
    sim::write_file([&](std::ostream& out) { out << sim::plans_summary_json(plans, warnings).dump(2) << '\n'; },
                    (std::filesystem::path(flags.out) / "summary.json").string());
  }
  return 0;
}

}  // namespace tessel::cli
