#include "sim/run_workload.h"

#include <map>
#include <variant>

#include "workloads/input_error.h"
#include "workloads/op_graph.h"

namespace tessel::sim {

namespace {

using workloads::Op;

// What makes two ops cost the same: kind, sizes and the flags that change their work.
std::string op_identity(const Op& op) {
  std::string id = workloads::kind_name(op.kind) + " " + op.shape_text();
  if (const auto* s = std::get_if<workloads::LinearShape>(&op.shape)) id += s->bias ? " bias" : "";
  if (const auto* s = std::get_if<workloads::BatchedMatmulShape>(&op.shape)) {
    id += " shared " + std::to_string(s->b_shared_by) + " cached " + std::to_string(s->b_from_cache);
  }
  if (const auto* s = std::get_if<workloads::SoftmaxShape>(&op.shape)) id += s->causal ? " causal" : "";
  if (const auto* s = std::get_if<workloads::AttentionShape>(&op.shape)) {
    id += (s->causal ? " causal" : "") + std::string(" cached ") + std::to_string(s->kv_cached);
  }
  return id;
}

arch::Activity times(arch::Activity activity, uint64_t n) {
  activity.macs *= n;
  activity.dram_read_bytes *= n;
  activity.dram_write_bytes *= n;
  for (size_t o = 0; o < 3; ++o) {
    activity.buffer_read_bytes[o] *= n;
    activity.buffer_write_bytes[o] *= n;
  }
  activity.vector_alu_ops *= static_cast<double>(n);
  activity.vector_special_ops *= static_cast<double>(n);
  return activity;
}

arch::EnergyBreakdown times(const arch::EnergyBreakdown& energy, uint64_t n) {
  const double k = static_cast<double>(n);
  arch::EnergyBreakdown total;
  total.mac_pj = energy.mac_pj * k;
  total.sram_pj = energy.sram_pj * k;
  total.dram_pj = energy.dram_pj * k;
  total.vector_pj = energy.vector_pj * k;
  return total;
}

// Runs the ops of graphs on one device, each identity once.
class StepRunner {
 public:
  StepRunner(Device& device, const RunSettings& settings, const RunObserver& observer)
      : device_(device), settings_(settings), observer_(observer) {}

  void stop_checking() { settings_.check = CheckMode::Never; }

  StepResult run(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase) {
    StepResult step;
    step.phase = phase;
    size_t index = 0;
    size_t count = graph.prologue.size() + graph.layer.size() + graph.epilogue.size();
    const auto add_all = [&](const std::vector<Op>& ops, uint64_t repeats, bool in_layer) {
      for (const Op& op : ops) {
        if (observer_.on_op && count > 1) observer_.on_op(index, count, op.name);
        ++index;
        add(step, op, repeats, in_layer);
      }
    };
    add_all(graph.prologue, 1, false);
    add_all(graph.layer, graph.layer_repeats, true);
    add_all(graph.epilogue, 1, false);
    return step;
  }

 private:
  void add(StepResult& step, const Op& op, uint64_t repeats, bool in_layer) {
    const std::string id = op_identity(op);
    auto seen = simulated_.find(id);
    OpResult result;
    if (seen != simulated_.end()) {
      result = seen->second;
      result.reused = true;
    } else {
      result = device_.run(op, settings_);
      result.dram_utilization = dram_utilization(device_.facts(), result.activity, result.cycles);
      simulated_.emplace(id, result);
    }
    result.name = op.name;
    result.kind = op.kind;
    result.shape = op.shape_text();
    result.repeats = repeats;
    result.in_layer = in_layer;
    result.flops = op.flops();
    result.macs = op.macs();

    step.cycles += result.cycles * repeats;
    if (in_layer) step.layer_cycles += result.cycles;
    step.roofline_cycles += result.roofline.cycles() * repeats;
    step.flops += result.flops * repeats;
    step.macs += result.macs * repeats;
    step.activity += times(result.activity, repeats);
    step.energy += times(result.energy, repeats);
    step.ops.push_back(std::move(result));
  }

  Device& device_;
  RunSettings settings_;
  const RunObserver& observer_;
  std::map<std::string, OpResult> simulated_;
};

std::vector<workloads::Phase> phases_of(const ModelRequest& request) {
  const auto require = [](uint64_t value, const char* flag) {
    if (value == 0) throw workloads::InputError(std::string(flag) + " must be at least 1");
  };
  require(request.batch, "--batch");
  switch (request.kind) {
    case ModelRequest::Prefill:
      require(request.seq, "--seq");
      return {workloads::Phase::prefill(request.batch, request.seq)};
    case ModelRequest::Decode:
      return {workloads::Phase::decode(request.batch, request.cached)};
    case ModelRequest::Generate: {
      require(request.input, "--input");
      require(request.output, "--output");
      std::vector<workloads::Phase> phases{workloads::Phase::prefill(request.batch, request.input)};
      for (uint64_t i = 0; i < request.output; ++i) {
        phases.push_back(workloads::Phase::decode(request.batch, request.input + i));
      }
      return phases;
    }
  }
  return {};
}

void run_gemms(const GemmWorkload& workload, StepRunner& runner, RunResult& result) {
  result.steps.push_back(runner.run(workloads::linear_graph(workload.graph), std::nullopt));
}

void run_model(const ModelWorkload& workload, StepRunner& runner, const RunObserver& observer, RunResult& result) {
  const workloads::ModelConfig& model = workload.model;
  const std::vector<workloads::Phase> phases = phases_of(workload.request);
  const uint64_t tp = result.settings.tensor_parallel;
  const uint32_t element_bytes = arch::bytes_of(result.dtype());
  result.weight_bytes =
      workloads::build_model(model, phases.front(), workload.attention, tp).total_parameters() * element_bytes;
  if (model.causal) {
    const uint64_t positions = phases.back().kv_len;
    const uint64_t kv_heads = workloads::tensor_parallel_shard(model, tp).num_key_value_heads;
    result.kv_cache_bytes = workload.request.batch * positions * kv_heads * model.head_dim * 2 *
                            model.num_hidden_layers * element_bytes;
  }
  for (size_t i = 0; i < phases.size(); ++i) {
    if (observer.on_step && phases.size() > 1) observer.on_step(i, phases.size(), workloads::phase_text(phases[i]));
    // Decode steps after the first differ from it only in the cache length: their new
    // operators run timing-only, so a long generate run is not dominated by checks.
    if (i == 2) runner.stop_checking();
    result.steps.push_back(runner.run(workloads::build_model(model, phases[i], workload.attention, tp), phases[i]));
  }
}

}  // namespace

std::string request_kind_name(ModelRequest::Kind kind) {
  switch (kind) {
    case ModelRequest::Prefill: return "prefill";
    case ModelRequest::Decode: return "decode";
    case ModelRequest::Generate: return "generate";
  }
  return "unknown";
}

RunResult run_workload(Device& device, const Workload& workload, const RunSettings& settings,
                       const RunObserver& observer) {
  RunResult result;
  result.settings = device.configure(settings);
  result.device = device.facts();
  result.workload = workload;
  if (std::holds_alternative<GemmWorkload>(workload) && settings.tensor_parallel > 1) {
    throw SettingError("--tp shards a transformer: it needs --model");
  }
  StepRunner runner(device, result.settings, observer);
  if (const auto* gemms = std::get_if<GemmWorkload>(&workload)) run_gemms(*gemms, runner, result);
  if (const auto* model = std::get_if<ModelWorkload>(&workload)) run_model(*model, runner, observer, result);
  return result;
}

uint64_t RunResult::cycles() const {
  uint64_t total = 0;
  for (const StepResult& step : steps) total += step.cycles;
  return total;
}

double RunResult::seconds() const { return static_cast<double>(cycles()) / device.clock_hz; }

double RunResult::step_seconds(size_t step) const {
  return static_cast<double>(steps.at(step).cycles) / device.clock_hz;
}

double RunResult::ttft_s() const { return step_seconds(0); }

double RunResult::tpot_s() const {
  if (steps.size() < 2) return 0;
  return (seconds() - ttft_s()) / static_cast<double>(steps.size() - 1);
}

double RunResult::tokens_per_s() const {
  const ModelWorkload* m = model();
  return m ? static_cast<double>(m->request.batch * m->request.output) / seconds() : 0.0;
}

std::optional<bool> RunResult::fits_in_dram() const {
  const std::optional<uint64_t> capacity = device.dram_capacity_bytes();
  if (!capacity) return std::nullopt;
  return footprint_bytes() <= *capacity;
}

uint64_t RunResult::ops_checked() const {
  uint64_t checked = 0;
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) checked += op.numerics.checked && !op.reused ? 1 : 0;
  }
  return checked;
}

bool RunResult::numerics_passed() const {
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) {
      if (op.numerics.checked && !op.numerics.passed) return false;
    }
  }
  return true;
}

}  // namespace tessel::sim
