#include "sim/system/run_system.h"

#include <algorithm>
#include <memory>

#include "sim/decode_steps.h"
#include "sim/step_runner.h"
#include "sim/system/links.h"
#include "sim/system/placement.h"
#include "sim/system/run_support.h"
#include "sim/system/schedule.h"
#include "workloads/transformer.h"

namespace tessel::sim {

namespace {

// The largest number of micro-batches at most `limit` that splits `sequences` evenly.
uint64_t even_split_at_most(uint64_t sequences, uint64_t limit) {
  for (uint64_t m = std::min(sequences, limit); m > 1; --m) {
    if (sequences % m == 0) return m;
  }
  return 1;
}

// What a stage's device holds: its slice's parameters, the replica's KV cache of its layers at
// the longest, the largest working set of an op (its operands other than weights and cache)
// and the hidden states of the micro-batches waiting for it.
Footprint footprint_of(const workloads::ModelConfig& model, const workloads::OpGraph& largest_step,
                       const workloads::Phase& last, uint64_t replica_batch, uint64_t microbatches, uint64_t tp,
                       uint64_t first_layer, uint64_t layers, arch::DType dtype) {
  Footprint footprint;
  footprint.weight_bytes = largest_step.total_parameter_bytes(dtype);
  if (model.causal) {
    footprint.kv_cache_bytes = workloads::kv_cache_bytes(workloads::tensor_parallel_shard(model, tp), replica_batch,
                                                         last.kv_len, first_layer, layers, dtype);
  }
  uint64_t working = 0;
  uint64_t rows = 0;
  largest_step.for_each_op([&](const workloads::Op& op, uint64_t) {
    const workloads::ElementCounts counts = op.elements();
    const uint64_t moved = counts.read + counts.written;
    working = std::max(working, moved - std::min(moved, op.parameters()));
    if (const auto* s = std::get_if<workloads::RowsShape>(&op.shape)) rows = std::max(rows, s->rows);
  });
  footprint.activation_bytes = (working + microbatches * rows * model.hidden_size) * arch::bytes_of(dtype);
  return footprint;
}

}  // namespace

SystemRunResult run_system(const arch::SystemSpec& system, const ModelWorkload& workload, const ParallelPlan& plan,
                           const RunSettings& settings, const SystemRunOptions& options, const RunObserver& observer) {
  const Placement placement(system, plan);
  const std::unique_ptr<Device> device = make_device(system.device);
  SystemRunResult result;
  result.warnings = workload.model.warnings;
  result.settings = device->configure(settings);
  result.device = device->facts();
  result.system_name = system.name;
  result.system_file = system.source_file;
  result.system_devices = system.device_count();
  for (const arch::LevelSpec& level : system.levels) result.level_names.push_back(level.name);
  result.workload = workload;
  result.plan = plan;

  const workloads::ModelConfig& model = workload.model;
  const std::vector<workloads::Phase> phases = phases_of(workload.request);
  workloads::check_steps_size(model, phases);
  const uint64_t batch = workload.request.batch;
  if (batch % plan.data != 0) {
    throw SettingError("--dp " + std::to_string(plan.data) + ": the replicas serve equal shares of --batch " +
                       std::to_string(batch) + ", which it does not divide");
  }
  const uint64_t replica_batch = batch / plan.data;
  result.plan.microbatches = plan.microbatches == 0 ? even_split_at_most(replica_batch, plan.pipeline) : plan.microbatches;
  const uint64_t microbatches = result.plan.microbatches;
  if (replica_batch % microbatches != 0) {
    throw SettingError("--microbatches " + std::to_string(microbatches) + ": it must divide the " +
                       std::to_string(replica_batch) + " sequences each replica serves");
  }
  result.plan.stage_layers =
      split_layers(plan.stage_layers, plan.pipeline, "--pp " + std::to_string(plan.pipeline), model);

  const SystemLinks links(placement, *device);
  StepRunner runner(result.device, system_op_runner(links, *device), system_op_sizer(*device), result.settings,
                    observer);
  uint64_t first_layer = 0;
  for (uint64_t s = 0; s < plan.pipeline; ++s) {
    StageRun& stage = result.stages.emplace_back();
    stage.first_layer = first_layer;
    stage.layers = result.plan.stage_layers[s];
    first_layer += stage.layers;
    stage.run.device = result.device;
    stage.run.workload = workload;
    stage.run.settings = result.settings;
  }
  const arch::DType dtype = *result.settings.dtype;
  workloads::check_quant(model.quant, dtype);
  const auto phase_of = [&](size_t i) {
    workloads::Phase phase = phases[i];
    phase.batch = replica_batch / microbatches;
    return phase;
  };
  const auto graph_of = [&](uint64_t s, size_t i) {
    const StageRun& stage = result.stages[s];
    return workloads::build_model(model, phase_of(i), workload.attention,
                                  workloads::ModelSlice{plan.tensor, stage.first_layer, stage.layers, s, plan.expert,
                                                        workload.expert_skew});
  };
  const auto announce = [&](size_t i) {
    if (observer.on_step && phases.size() > 1) observer.on_step(i, phases.size(), workloads::phase_text(phases[i]));
  };
  for (size_t i = 0; i < std::min<size_t>(phases.size(), 2); ++i) {
    announce(i);
    for (uint64_t s = 0; s < plan.pipeline; ++s) {
      StageRun& stage = result.stages[s];
      const workloads::OpGraph graph = graph_of(s, i);
      stage.run.steps.push_back(runner.run(graph, phase_of(i)));
      if (i == 0) {
        workloads::Phase last = phases.back();
        last.batch = replica_batch;
        stage.footprint = footprint_of(model, graph, last, replica_batch, microbatches, plan.tensor, stage.first_layer,
                                       stage.layers, dtype);
        stage.run.weight_bytes = stage.footprint.weight_bytes;
        stage.run.kv_cache_bytes = stage.footprint.kv_cache_bytes;
      }
    }
  }
  // As in a one-device run: later decode steps differ only in the cache, run timing-only, and
  // only some are simulated (sim/decode_steps.h). The timeline needs every step's ops: all are kept.
  runner.stop_checking();
  std::vector<SpanGraphs> graphs;  // each stage's
  for (uint64_t s = 0; s < plan.pipeline; ++s) graphs.emplace_back([&, s](size_t i) { return graph_of(s, i); });
  DecodeStepper stepper;
  stepper.simulate = [&](size_t i) {
    StageSteps steps;
    for (uint64_t s = 0; s < plan.pipeline; ++s) steps.push_back(runner.run(graphs[s].at(i), phase_of(i)));
    return steps;
  };
  stepper.interpolate = [&](size_t i, size_t lo, size_t hi) {
    StageSteps steps;
    for (uint64_t s = 0; s < plan.pipeline; ++s) {
      steps.push_back(graphs[s].between(runner, phases, phase_of(i), i, lo, hi));
    }
    return steps;
  };
  stepper.keep = [&](size_t i, StageSteps steps) {
    announce(i);
    for (uint64_t s = 0; s < plan.pipeline; ++s) result.stages[s].run.steps.push_back(std::move(steps[s]));
  };
  if (phases.size() > 2) run_decode_steps(phases, result.settings.decode_stride, stepper);

  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  for (size_t s = 0; s < result.stages.size() && capacity; ++s) {
    const Footprint& f = result.stages[s].footprint;
    if (f.total() <= *capacity) continue;
    const std::string message =
        "stage " + std::to_string(s) + "'s devices (" + result.device.name + ") each need " + gigabytes(f.total()) +
        " GB (weights " + gigabytes(f.weight_bytes) + ", KV cache " + gigabytes(f.kv_cache_bytes) + ", activations " +
        gigabytes(f.activation_bytes) + ") and hold " + gigabytes(*capacity) + " GB: " +
        gigabytes(f.total() - *capacity) + " GB short; spread the model over more devices (--tp, --pp)";
    if (options.require_fit) throw SettingError(message);
    result.warnings.push_back(message);
  }

  TimelineInput input;
  input.placement = &placement;
  input.clock_hz = result.device.clock_hz;
  input.programs = inference_programs(plan.pipeline, phases.size(), microbatches, [&](uint64_t stage, size_t step) {
    return &result.stages[stage].run.steps[step];
  });
  input.slots = phases.size() * microbatches;
  input.steps = phases.size();
  input.microbatches = microbatches;
  input.record_events = options.record_events;
  result.timeline = run_timeline(input);
  for (size_t s = 0; s < result.stages.size(); ++s) result.stages[s].busy_ticks = result.timeline.busy_ticks[s];
  result.links = link_usage(system, result.timeline, result.devices_per_stage(), result.device.clock_hz);
  return result;
}

double SystemRunResult::seconds() const { return timeline.seconds(timeline.end_ticks, device.clock_hz); }

double SystemRunResult::ttft_s() const {
  uint64_t first = 0;
  for (uint64_t at : timeline.finished.front()) first = std::max(first, at);
  return timeline.seconds(first, device.clock_hz);
}

double SystemRunResult::tpot_s() const {
  const uint64_t output = workload.request.output;
  return workload.request.kind == ModelRequest::Generate ? (seconds() - ttft_s()) / static_cast<double>(output) : 0;
}

double SystemRunResult::tokens_per_s() const {
  return static_cast<double>(workload.request.batch * workload.request.output) / seconds();
}

double SystemRunResult::stage_busy_s(size_t stage) const {
  return timeline.seconds(stages.at(stage).busy_ticks, device.clock_hz);
}

arch::EnergyBreakdown SystemRunResult::energy() const {
  arch::EnergyBreakdown total;
  for (const StageRun& stage : stages) {
    for (const StepResult& step : stage.run.steps) total += step.energy;
  }
  total = total.scaled(static_cast<double>(plan.microbatches * devices_per_stage()));
  // Every device draws its static power for the whole run: waiting on a link or a bubble too.
  if (device.power) {
    const auto devices = static_cast<double>(devices_per_stage() * stages.size());
    total.static_pj = arch::static_pj(*device.power, seconds()) * devices;
  }
  return total;
}

uint64_t SystemRunResult::total_flops() const {
  uint64_t flops = 0;
  for (const StageRun& stage : stages) {
    for (const StepResult& step : stage.run.steps) flops += step.flops;
  }
  return flops * plan.microbatches * devices_per_stage();
}

uint64_t SystemRunResult::total_macs() const {
  uint64_t macs = 0;
  for (const StageRun& stage : stages) {
    for (const StepResult& step : stage.run.steps) macs += step.macs;
  }
  return macs * plan.microbatches * devices_per_stage();
}

arch::Activity SystemRunResult::total_activity() const {
  arch::Activity activity;
  for (const StageRun& stage : stages) {
    for (const StepResult& step : stage.run.steps) activity += step.activity;
  }
  return activity.times(plan.microbatches * devices_per_stage());
}

}  // namespace tessel::sim
