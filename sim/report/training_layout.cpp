#include "sim/report/training_layout.h"

#include <functional>
#include <iomanip>
#include <ostream>
#include <string>
#include <vector>

#include "sim/report/model_layout.h"
#include "sim/report/system_layout.h"

namespace tessel::sim {

namespace {

// A pass of one chunk of one stage, as the reports name it.
struct NamedPass {
  uint64_t stage;
  uint64_t chunk;
  const char* name;
  const StepResult* step;
};

// Every pass whose ops the reports list: each chunk's forward and backward passes (and the
// backward pass of the micro-batch that reduces the gradients, where it differs), then each
// stage's optimizer step.
std::vector<NamedPass> passes_of(const TrainingRunResult& result) {
  const bool reduction_differs = result.plan.parallel.data > 1 && result.plan.zero < 2;
  std::vector<NamedPass> passes;
  for (uint64_t s = 0; s < result.stages.size(); ++s) {
    const TrainingStage& stage = result.stages[s];
    for (uint64_t c = 0; c < stage.chunks.size(); ++c) {
      const TrainingChunk& chunk = stage.chunks[c];
      passes.push_back({s, c, "forward", &chunk.forward});
      passes.push_back({s, c, "backward", &chunk.backward});
      if (reduction_differs) passes.push_back({s, c, "backward_last", &chunk.backward_last});
    }
    passes.push_back({s, 0, "optimizer", &stage.optimizer});
  }
  return passes;
}

std::string layer_ranges(const TrainingStage& stage) {
  std::string text;
  for (const TrainingChunk& chunk : stage.chunks) {
    text += (text.empty() ? "" : ",") + std::to_string(chunk.first_layer) + "-" +
            std::to_string(chunk.first_layer + chunk.layers - 1);
  }
  return text;
}

nlohmann::json phases_json(const IterationPhases& p) {
  return {{"forward", p.forward_s},
          {"backward", p.backward_s},
          {"optimizer", p.optimizer_s},
          {"communication", p.communication_s},
          {"bubble", p.bubble_s}};
}

nlohmann::json memory_json(const TrainingMemory& m) {
  return {{"weights", m.state.weights},
          {"master_weights", m.state.master_weights},
          {"gradients", m.state.gradients},
          {"optimizer_moments", m.state.optimizer_moments},
          {"teacher_weights", m.state.teacher_weights},
          {"activations", m.activations},
          {"working", m.working},
          {"total", m.total()}};
}

nlohmann::json plan_json(const TrainingRunResult& result) {
  const TrainingPlan& p = result.plan;
  const TrainingRequest& r = result.request;
  const ParallelPlan& pp = p.parallel;
  return {{"tp", pp.tensor},
          {"pp", pp.pipeline},
          {"dp", pp.data},
          {"ep", pp.expert},
          {"schedule", std::string(to_string(p.schedule))},
          {"chunks", p.chunks},
          {"zero", p.zero},
          {"sequence_parallel", r.sequence_parallel},
          {"recompute", std::string(workloads::to_string(r.recompute))},
          {"global_batch", r.global_batch},
          {"micro_batch", r.micro_batch},
          {"microbatches", result.microbatches},
          {"seq", r.seq},
          {"lora_rank", r.lora_rank},
          {"teacher", r.teacher ? nlohmann::json(r.teacher->name) : nlohmann::json(nullptr)},
          {"stage_layers", pp.stage_layers},
          {"collective", pp.collective ? std::string(arch::to_string(*pp.collective)) : std::string("fastest")}};
}

struct Numerics {
  uint64_t checked = 0;
  bool passed = true;
};

Numerics numerics_of(const TrainingRunResult& result) {
  Numerics n;
  for (const NamedPass& pass : passes_of(result)) {
    for (const OpResult& op : pass.step->ops) {
      if (!op.numerics.checked || op.reused) continue;
      ++n.checked;
      n.passed = n.passed && op.numerics.passed;
    }
  }
  return n;
}

}  // namespace

nlohmann::json training_summary_json(const TrainingRunResult& result) {
  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  const double iteration = result.iteration_s();
  nlohmann::json stages = nlohmann::json::array();
  bool fits = true;
  for (size_t s = 0; s < result.stages.size(); ++s) {
    const TrainingStage& stage = result.stages[s];
    const double busy = result.timeline.seconds(stage.busy_ticks, result.device.clock_hz);
    fits = fits && (!capacity || stage.memory.total() <= *capacity);
    stages.push_back({{"stage", s},
                      {"layers", layer_ranges(stage)},
                      {"devices", result.devices_per_stage()},
                      {"parameters", stage.parameters},
                      {"trainable_parameters", stage.trainable},
                      {"busy_s", busy},
                      {"idle_s", iteration - busy},
                      {"phases_s", phases_json(result.phases(s))},
                      {"peak_microbatches", stage.peak_microbatches},
                      {"memory_bytes", memory_json(stage.memory)},
                      {"capacity_bytes", capacity ? nlohmann::json(*capacity) : nlohmann::json()},
                      {"fits", capacity ? nlohmann::json(stage.memory.total() <= *capacity) : nlohmann::json()}});
  }
  const arch::EnergyBreakdown energy = result.energy();
  const double tokens = static_cast<double>(result.request.global_batch * result.request.seq);
  const Numerics numerics = numerics_of(result);
  return {{"model", result.request.model.name},
          {"device", result.device.name},
          {"dtype", std::string(arch::to_string(result.fp8 ? arch::DType::Fp8 : *result.settings.dtype))},
          {"attention", result.request.attention == workloads::AttentionImpl::Fused ? "fused" : "unfused"},
          {"system",
           {{"name", result.system_name},
            {"file", result.system_file},
            {"devices", result.system_devices},
            {"devices_used", result.devices_used()},
            {"levels", result.level_names}}},
          {"plan", plan_json(result)},
          {"iteration_s", iteration},
          {"tokens_per_s", result.tokens_per_s()},
          {"model_flops", result.model_flops()},
          {"hardware_flops", result.hardware_flops()},
          {"mfu", result.mfu()},
          {"hfu", result.hfu()},
          {"busiest_stage", result.busiest_stage()},
          {"phases_s", phases_json(result.phases(result.busiest_stage()))},
          {"energy_pj", energy.total_pj()},
          {"energy_breakdown_pj", energy_breakdown_json(energy)},
          {"energy_per_token_pj", energy.total_pj() / tokens},
          {"fits_in_dram", capacity ? nlohmann::json(fits) : nlohmann::json()},
          {"devices", stages},
          {"links", links_json(result.links)},
          {"numerics",
           {{"checked", numerics.checked > 0},
            {"passed", numerics_passed_json(numerics.checked > 0, numerics.passed)},
            {"ops_checked", numerics.checked}}},
          {"warnings", result.warnings}};
}

void write_training_ops_csv(const TrainingRunResult& result, std::ostream& out) {
  out << "stage,chunk,pass," << op_csv_columns() << '\n' << std::setprecision(10);
  for (const NamedPass& pass : passes_of(result)) {
    for (const OpResult& op : pass.step->ops) {
      out << pass.stage << ',' << pass.chunk << ',' << pass.name << ',';
      write_op_csv_fields(op, out);
      out << '\n';
    }
  }
}

StatGroup training_stats_tree(const TrainingRunResult& result) {
  StatGroup root("train", "tessel train of " + result.request.model.name + " on " + result.system_name);
  root.add("iteration_s", result.iteration_s(), "s", "one iteration on the timeline, its optimizer step included")
      .add("tokens_per_s", result.tokens_per_s(), "tokens/s", "global batch × sequence length / iteration")
      .add("mfu", result.mfu(), "ratio", "the model's matrix-product FLOPs / (iteration × devices × peak)")
      .add("hfu", result.hfu(), "ratio", "the same with recomputation's FLOPs")
      .add("devices_used", result.devices_used(), "count", "tp × pp × dp devices of the system");
  add_energy_stats(root, result.energy());
  StatGroup& stages = root.child("stages", "one device of each pipeline stage: its passes' ops, time and memory");
  const std::vector<NamedPass> passes = passes_of(result);
  for (size_t s = 0; s < result.stages.size(); ++s) {
    const TrainingStage& stage = result.stages[s];
    const IterationPhases p = result.phases(s);
    StatGroup& group = stages.child("stage" + std::to_string(s), "layers " + layer_ranges(stage));
    group.add("forward_s", p.forward_s, "s", "forward passes' compute, every micro-batch")
        .add("backward_s", p.backward_s, "s", "backward passes' compute, recomputation included")
        .add("optimizer_s", p.optimizer_s, "s", "the optimizer step's compute")
        .add("communication_s", p.communication_s, "s", "collectives the device waited for")
        .add("bubble_s", p.bubble_s, "s", "idle, waiting for the stages before or after it")
        .add("memory_bytes", stage.memory.total(), "bytes", "model state, activations at the peak, working set")
        .add("activation_bytes", stage.memory.activations, "bytes",
             "activations kept for backward passes, at the peak");
    for (const NamedPass& pass : passes) {
      if (pass.stage != s) continue;
      const std::string chunk = result.plan.chunks > 1 ? std::to_string(pass.chunk) : "";
      StatGroup& pass_group = group.child(pass.name + chunk, std::string(pass.name) + " pass, one micro-batch");
      for (const OpResult& op : pass.step->ops) {
        pass_group.child(op.name, workloads::kind_name(op.kind) + " " + op.shape)
            .add("cycles", op.cycles, "cycles", "one execution")
            .add("repeats", op.repeats, "count", "executions in the pass")
            .add("flops", op.flops, "flops", "one execution")
            .add("dram_bytes", op.activity.dram_read_bytes + op.activity.dram_write_bytes, "bytes", "one execution")
            .add("energy_pj", op.energy.total_pj(), "pJ", "one execution");
      }
    }
  }
  add_link_stats(root, result.links);
  return root;
}

void print_training_table(const TrainingRunResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  const TrainingPlan& p = result.plan;
  const TrainingRequest& r = result.request;
  out << r.model.name << " training on " << result.system_name << " (" << result.devices_used() << " of "
      << result.system_devices << " " << result.device.name << "): tp " << p.parallel.tensor << ", pp "
      << p.parallel.pipeline << ", dp " << p.parallel.data << ", " << to_string(p.schedule)
      << (p.chunks > 1 ? " × " + std::to_string(p.chunks) + " chunks" : "") << ", ZeRO " << p.zero << ", recompute "
      << workloads::to_string(r.recompute) << (r.sequence_parallel ? ", sequence parallel" : "") << "; "
      << result.microbatches << " micro-batches of " << r.micro_batch << " × " << r.seq << " tokens a replica ("
      << (result.fp8 ? "fp8 products, bf16" : arch::to_string(*result.settings.dtype)) << ")\n";
  const TrainingChunk& first = result.stages.front().chunks.front();
  out << "stage 0, one micro-batch's forward pass: ";
  print_op_table(first.forward, result.device.clock_hz, out);
  out << "\nstage 0, its backward pass: ";
  print_op_table(first.backward_last, result.device.clock_hz, out);
  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  out << "\nstage  layers       fwd ms    bwd ms    opt ms   comm ms  bubble %   memory GB"
      << (capacity ? " / capacity" : "") << '\n';
  for (size_t s = 0; s < result.stages.size(); ++s) {
    const TrainingStage& stage = result.stages[s];
    const IterationPhases ph = result.phases(s);
    out << std::left << std::setw(7) << s << std::setw(11) << layer_ranges(stage) << std::right << std::fixed
        << std::setprecision(1) << std::setw(10) << ph.forward_s * 1e3 << std::setw(10) << ph.backward_s * 1e3
        << std::setw(10) << ph.optimizer_s * 1e3 << std::setw(10) << ph.communication_s * 1e3 << std::setw(10)
        << 100.0 * ph.bubble_s / result.iteration_s() << std::setw(12)
        << static_cast<double>(stage.memory.total()) / 1e9;
    if (capacity) out << " / " << static_cast<double>(*capacity) / 1e9;
    out << '\n';
    out.flags(flags);
  }
  print_link_lines(result.links, out);
  const arch::EnergyBreakdown energy = result.energy();
  out << std::setprecision(6) << "iteration " << result.iteration_s() << " s, " << result.tokens_per_s()
      << " tokens/s, MFU " << std::setprecision(3) << 100.0 * result.mfu() << "%, HFU " << 100.0 * result.hfu()
      << "%; energy " << std::setprecision(6) << energy.total_pj() / 1e12 << " J (links " << energy.link_pj / 1e12
      << " J)";
  const Numerics numerics = numerics_of(result);
  if (numerics.checked > 0) {
    out << "; numerics " << (numerics.passed ? "pass" : "FAIL") << " (" << numerics.checked << " ops)";
  }
  out << '\n';
  for (const std::string& warning : result.warnings) out << "warning: " << warning << '\n';
  out.flags(flags);
}

void write_training_trace(const TrainingRunResult& result, std::ostream& out) {
  write_timeline_trace(result.timeline, result.system_name, result.device.clock_hz, out);
}

}  // namespace tessel::sim
