#include "sim/system/run_training.h"

#include <algorithm>
#include <memory>

#include "sim/step_runner.h"
#include "sim/system/links.h"
#include "sim/system/placement.h"
#include "workloads/training.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

// Bytes of an op's operands other than the model's state: the activations it reads and writes
// (a weight-gradient product's output is the gradient buffer, held anyway).
uint64_t transient_bytes(const Op& op, arch::DType dtype) {
  if (const auto* s = std::get_if<workloads::LinearShape>(&op.shape)) {
    const uint64_t elements = s->weight == workloads::WeightRole::Gradient ? s->m * s->k + s->k * s->n
                                                                          : s->m * s->k + s->m * s->n;
    return arch::bytes_for(elements * s->groups, op.format_in(dtype));
  }
  const workloads::ByteCounts bytes = op.bytes(dtype);
  return bytes.read + bytes.written;
}

uint64_t largest_transient(const workloads::OpGraph& graph, arch::DType dtype) {
  uint64_t largest = 0;
  graph.for_each_op([&](const Op& op, uint64_t) { largest = std::max(largest, transient_bytes(op, dtype)); });
  return largest;
}

// Cycles of a pass's own compute: its ops but the collectives, sends and waits.
uint64_t compute_cycles(const StepResult& step) {
  uint64_t cycles = 0;
  for (const OpResult& op : step.ops) {
    if (!op.communication && op.kind != OpKind::WaitComm) cycles += op.cycles * op.repeats;
  }
  return cycles;
}

// fp8 training computes in bf16 but for the layers' products, which need fp8 rates.
RunSettings fp8_training_settings(const RunSettings& settings, const DeviceFacts& facts) {
  for (const arch::DType needed : {arch::DType::Fp8, arch::DType::Bf16}) {
    if (!facts.supports(needed)) {
      throw SettingError("--dtype fp8: fp8 training multiplies in fp8 and computes the rest in bf16, and " +
                         facts.name + " (" + facts.source_file + ") gives no " + std::string(arch::to_string(needed)) +
                         " rate");
    }
  }
  RunSettings compute = settings;
  compute.dtype = arch::DType::Bf16;
  return compute;
}

void check_request(const TrainingRequest& request, const TrainingPlan& plan) {
  const uint64_t dp = plan.parallel.data;
  const auto refuse = [](const std::string& message) { throw SettingError(message); };
  if (request.micro_batch == 0 || request.global_batch == 0) {
    refuse("--global-batch and --micro-batch must be at least 1");
  }
  if (request.global_batch % (dp * request.micro_batch) != 0) {
    refuse("--global-batch " + std::to_string(request.global_batch) + ": each of the " + std::to_string(dp) +
           " replicas takes an equal number of micro-batches of " + std::to_string(request.micro_batch) +
           ", so it must be a multiple of " + std::to_string(dp * request.micro_batch));
  }
  if (plan.chunks == 0) refuse("--chunks must be at least 1");
  if (plan.chunks > 1 && plan.schedule != PipelineSchedule::Interleaved) {
    refuse("--chunks " + std::to_string(plan.chunks) + ": only --schedule interleaved runs model chunks");
  }
  if (plan.zero > 3) refuse("--zero " + std::to_string(plan.zero) + ": ZeRO's stages are 0 to 3");
  // Training keeps its weights in --dtype (fp8 training: --dtype fp8); a quantized checkpoint's
  // recipe is for inference.
  for (const workloads::ModelConfig* model : {&request.model, request.teacher ? &*request.teacher : nullptr}) {
    if (model && !model->quant.empty()) {
      refuse(model->name + " is quantized (" + model->quant.name + "): training runs in --dtype; give the unquantized "
             "model");
    }
  }
}

}  // namespace

std::vector<std::string> config_warnings(const TrainingRequest& request) {
  std::vector<std::string> warnings = request.model.warnings;
  if (request.teacher) {
    for (const std::string& warning : request.teacher->warnings) warnings.push_back("teacher: " + warning);
  }
  return warnings;
}

TrainingRunResult run_training(const arch::SystemSpec& system, const TrainingRequest& request, const TrainingPlan& plan,
                               const RunSettings& settings, const TrainingRunOptions& options,
                               const RunObserver& observer) {
  const ParallelPlan& parallel = plan.parallel;
  const Placement placement(system, parallel);
  check_request(request, plan);
  const std::unique_ptr<Device> device = make_device(system.device);
  TrainingRunResult result;
  result.fp8 = settings.dtype == arch::DType::Fp8;
  result.settings = device->configure(result.fp8 ? fp8_training_settings(settings, device->facts()) : settings);
  result.device = device->facts();
  result.system_name = system.name;
  result.system_file = system.source_file;
  result.system_devices = system.device_count();
  for (const arch::LevelSpec& level : system.levels) result.level_names.push_back(level.name);
  result.request = request;
  result.warnings = config_warnings(request);
  result.plan = plan;
  const arch::DType dtype = *result.settings.dtype;
  const uint64_t stages = parallel.pipeline;
  const uint64_t chunks = plan.chunks;
  result.microbatches = request.global_batch / parallel.data / request.micro_batch;
  const uint64_t microbatches = result.microbatches;
  const std::vector<uint64_t> split =
      split_layers(parallel.stage_layers, stages * chunks,
                   "--pp " + std::to_string(stages) + (chunks > 1 ? " --chunks " + std::to_string(chunks) : ""),
                   request.model);
  result.plan.parallel.stage_layers = split;
  std::vector<uint64_t> first_layers(split.size(), 0);
  for (size_t j = 1; j < split.size(); ++j) first_layers[j] = first_layers[j - 1] + split[j - 1];

  result.data_parallel = {parallel.data, plan.zero, dtype == arch::DType::Fp16};
  workloads::TrainingOptions training;
  training.micro_batch = request.micro_batch;
  training.seq = request.seq;
  training.attention = request.attention;
  training.recompute = request.recompute;
  training.sequence_parallel = request.sequence_parallel;
  training.lora_rank = request.lora_rank;
  training.fp8 = result.fp8;
  training.teacher = request.teacher;

  // Every chunk's graphs first: what each device holds is known, and checked, before any op
  // is costed.
  std::vector<std::vector<workloads::TrainingGraphs>> graphs(stages);
  std::vector<std::vector<workloads::DataParallelPasses>> passes(stages);
  for (uint64_t s = 0; s < stages; ++s) {
    TrainingStage& stage = result.stages.emplace_back();
    uint64_t working = 0;
    uint64_t fp8_parameters = 0;
    uint64_t teacher_parameters = 0;
    for (uint64_t c = 0; c < chunks; ++c) {
      const uint64_t position = c * stages + s;  // its virtual stage
      workloads::ModelSlice slice;
      slice.tensor_parallel = parallel.tensor;
      slice.first_layer = first_layers[position];
      slice.layers = split[position];
      slice.stage = s;
      slice.expert_parallel = parallel.expert;
      slice.expert_skew = request.expert_skew;
      workloads::StageNeighbours neighbours;
      if (position + 1 < split.size()) neighbours.next = (position + 1) % stages;
      if (position > 0) neighbours.previous = (position - 1) % stages;
      const workloads::TrainingGraphs& g =
          graphs[s].emplace_back(workloads::build_training_step(request.model, training, slice, neighbours));
      const workloads::DataParallelPasses& dp = passes[s].emplace_back(
          workloads::data_parallel_passes(g, result.data_parallel));
      TrainingChunk& chunk = stage.chunks.emplace_back();
      chunk.first_layer = slice.first_layer;
      chunk.layers = slice.layers;
      chunk.saved_bytes = g.saved_bytes(dtype);
      chunk.recomputed_macs = g.recomputed_macs;
      stage.parameters += g.parameters();
      stage.trainable += g.trainable();
      fp8_parameters += g.fp8_parameters();
      teacher_parameters += g.teacher_parameters;
      working = std::max(working, largest_transient(g.teacher, dtype));
      working = std::max({working, largest_transient(dp.forward, dtype), largest_transient(dp.backward_last, dtype)});
      if (plan.zero == 3 && parallel.data > 1) {
        // The layer being computed and the one gathered ahead of it, whole.
        for (uint64_t p : g.layer_parameters) working = std::max(working, 2 * p * arch::bytes_of(dtype));
      }
    }
    const std::vector<ScheduledPass> order = pipeline_order(plan.schedule, stages, s, microbatches, chunks);
    stage.memory.state =
        workloads::model_state_bytes(stage.parameters, stage.trainable, fp8_parameters, result.data_parallel, dtype);
    stage.memory.state.teacher_weights = teacher_parameters * arch::bytes_of(dtype);
    stage.memory.activations = peak_held(order, [&](uint64_t c) { return stage.chunks[c].saved_bytes; });
    stage.memory.working = working;
    stage.peak_microbatches = peak_held(order, [](uint64_t) { return uint64_t{1}; });
  }
  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  for (size_t s = 0; s < result.stages.size() && capacity; ++s) {
    const TrainingMemory& m = result.stages[s].memory;
    if (m.total() <= *capacity) continue;
    const std::string message =
        "stage " + std::to_string(s) + "'s devices (" + result.device.name + ") each need " + gigabytes(m.total()) +
        " GB (weights " + gigabytes(m.state.weights) + ", master weights " + gigabytes(m.state.master_weights) +
        ", gradients " + gigabytes(m.state.gradients) + ", optimizer moments " +
        gigabytes(m.state.optimizer_moments) +
        (m.state.teacher_weights > 0 ? ", teacher weights " + gigabytes(m.state.teacher_weights) : "") +
        ", activations " + gigabytes(m.activations) + ", working " +
        gigabytes(m.working) + ") and hold " + gigabytes(*capacity) + " GB: " + gigabytes(m.total() - *capacity) +
        " GB short; shard more (--tp, --pp, --zero), recompute (--recompute) or shrink --micro-batch";
    if (options.require_fit) throw SettingError(message);
    result.warnings.push_back(message);
  }
  if (options.memory_only) return result;

  const SystemLinks links(placement, *device);
  StepRunner runner(result.device, system_op_runner(links, *device), system_op_sizer(*device), result.settings,
                    observer, options.op_cache);
  for (uint64_t s = 0; s < stages; ++s) {
    TrainingStage& stage = result.stages[s];
    std::vector<const workloads::TrainingGraphs*> held;
    for (uint64_t c = 0; c < chunks; ++c) {
      if (observer.on_step && stages * chunks > 1) {
        const std::string chunk_text = chunks > 1 ? " chunk " + std::to_string(c) : "";
        observer.on_step(c * stages + s, stages * chunks, "stage " + std::to_string(s) + chunk_text);
      }
      TrainingChunk& chunk = stage.chunks[c];
      chunk.forward = runner.run(passes[s][c].forward, std::nullopt);
      if (request.teacher) chunk.forward = join_steps(runner.run(graphs[s][c].teacher, std::nullopt), chunk.forward);
      chunk.backward = runner.run(passes[s][c].backward, std::nullopt);
      chunk.backward_last = runner.run(passes[s][c].backward_last, std::nullopt);
      held.push_back(&graphs[s][c]);
    }
    stage.optimizer = runner.run(workloads::optimizer_step(held, result.data_parallel), std::nullopt);
  }

  TrainingWork work;
  work.forward = [&](uint64_t s, uint64_t c) { return &result.stages[s].chunks[c].forward; };
  work.backward = [&](uint64_t s, uint64_t c, bool last) {
    const TrainingChunk& chunk = result.stages[s].chunks[c];
    return last ? &chunk.backward_last : &chunk.backward;
  };
  work.optimizer = [&](uint64_t s) { return &result.stages[s].optimizer; };
  TimelineInput input;
  input.placement = &placement;
  input.clock_hz = result.device.clock_hz;
  input.programs = training_programs(plan.schedule, stages, microbatches, chunks, work);
  input.slots = training_slots(microbatches, chunks);
  input.record_events = options.record_events;
  result.timeline = run_timeline(input);
  for (size_t s = 0; s < result.stages.size(); ++s) {
    result.stages[s].busy_ticks = result.timeline.busy_ticks[s];
    result.stages[s].communication_ticks = result.timeline.communication_ticks[s];
  }
  result.links = link_usage(system, result.timeline, result.devices_per_stage(), result.device.clock_hz);
  return result;
}

double TrainingRunResult::iteration_s() const { return timeline.seconds(timeline.end_ticks, device.clock_hz); }

double TrainingRunResult::tokens_per_s() const {
  return static_cast<double>(request.global_batch * request.seq) / iteration_s();
}

double TrainingRunResult::hardware_flops() const {
  double macs = 0;
  for (const TrainingStage& stage : stages) {
    for (const TrainingChunk& chunk : stage.chunks) {
      macs += static_cast<double>(microbatches) * static_cast<double>(chunk.forward.macs + chunk.backward.macs);
    }
  }
  return 2 * macs * static_cast<double>(devices_per_stage());
}

double TrainingRunResult::model_flops() const {
  double recomputed = 0;
  for (const TrainingStage& stage : stages) {
    for (const TrainingChunk& chunk : stage.chunks) {
      recomputed += static_cast<double>(microbatches) * static_cast<double>(chunk.recomputed_macs);
    }
  }
  return hardware_flops() - 2 * recomputed * static_cast<double>(devices_per_stage());
}

arch::DType TrainingRunResult::product_format() const { return fp8 ? arch::DType::Fp8 : *settings.dtype; }

double TrainingRunResult::mfu() const {
  const double peak = 2 * device.peak_macs_per_cycle(product_format()) * device.clock_hz;
  return model_flops() / (iteration_s() * static_cast<double>(devices_used()) * peak);
}

double TrainingRunResult::hfu() const { return mfu() * hardware_flops() / model_flops(); }

IterationPhases TrainingRunResult::phases(size_t s) const {
  const TrainingStage& stage = stages.at(s);
  const double m = static_cast<double>(microbatches);
  const auto seconds = [&](uint64_t cycles) { return static_cast<double>(cycles) / device.clock_hz; };
  IterationPhases phases;
  for (const TrainingChunk& chunk : stage.chunks) {
    phases.forward_s += m * seconds(compute_cycles(chunk.forward));
    phases.backward_s +=
        (m - 1) * seconds(compute_cycles(chunk.backward)) + seconds(compute_cycles(chunk.backward_last));
  }
  phases.optimizer_s = seconds(compute_cycles(stage.optimizer));
  phases.communication_s = timeline.seconds(stage.communication_ticks, device.clock_hz);
  const double accounted = phases.forward_s + phases.backward_s + phases.optimizer_s + phases.communication_s;
  phases.bubble_s = std::max(0.0, iteration_s() - accounted);
  return phases;
}

size_t TrainingRunResult::busiest_stage() const {
  size_t busiest = 0;
  double most = -1;
  for (size_t s = 0; s < stages.size(); ++s) {
    const IterationPhases p = phases(s);
    const double compute = p.forward_s + p.backward_s + p.optimizer_s;
    if (compute > most) {
      most = compute;
      busiest = s;
    }
  }
  return busiest;
}

arch::EnergyBreakdown TrainingRunResult::energy() const {
  arch::EnergyBreakdown total;
  const double m = static_cast<double>(microbatches);
  for (const TrainingStage& stage : stages) {
    for (const TrainingChunk& chunk : stage.chunks) {
      total += chunk.forward.energy.scaled(m);
      total += chunk.backward.energy.scaled(m - 1);
      total += chunk.backward_last.energy;
    }
    total += stage.optimizer.energy;
  }
  total = total.scaled(static_cast<double>(devices_per_stage()));
  // Every device draws its static power for the whole iteration: waiting on a link or a bubble too.
  if (device.power) {
    total.static_pj = arch::static_pj(*device.power, iteration_s()) *
                      static_cast<double>(devices_per_stage() * stages.size());
  }
  return total;
}

}  // namespace tessel::sim
