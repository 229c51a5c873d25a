#include "sim/run_workload.h"

#include <map>
#include <variant>

#include "sim/simulation_limit.h"
#include "sim/step_runner.h"
#include "workloads/input_error.h"
#include "workloads/op_graph.h"

namespace tessel::sim {

namespace {

void run_gemms(const GemmWorkload& workload, StepRunner& runner, RunResult& result) {
  result.steps.push_back(runner.run(workloads::linear_graph(workload.graph), std::nullopt));
}

// The new ops of each later decode step (attention over a longer cache) grow in work linearly
// to the last step's: a generate run whose steps would pass kMaxRunTransactions is refused
// here, after its prefill and first decode step, rather than minutes later.
void check_decode_steps(const workloads::ModelConfig& model, const std::vector<workloads::Phase>& phases,
                        workloads::AttentionImpl attention, StepRunner& runner) {
  const workloads::ModelSlice whole{1, 0, 0, 0, 1, 1.0};
  const uint64_t next = runner.new_transactions(workloads::build_model(model, phases[2], attention, whole));
  const uint64_t last = runner.new_transactions(workloads::build_model(model, phases.back(), attention, whole));
  const std::string steps = std::to_string(phases.size() - 2) + " decode steps";
  check_run_size(runner.transactions() + (phases.size() - 2) * ((next + last) / 2),
                 "the " + steps + " after " + workloads::phase_text(phases[1]));
}

void run_model(const ModelWorkload& workload, StepRunner& runner, const RunObserver& observer, RunResult& result) {
  const workloads::ModelConfig& model = workload.model;
  const std::vector<workloads::Phase> phases = phases_of(workload.request);
  workloads::check_steps_size(model, phases);
  const uint32_t element_bytes = arch::bytes_of(result.dtype());
  const workloads::ModelSlice whole{1, 0, 0, 0, 1, workload.expert_skew};
  result.weight_bytes = workloads::build_model(model, phases.front(), workload.attention, whole).total_parameters() *
                        element_bytes;
  if (model.causal) {
    result.kv_cache_bytes = workloads::kv_cache_elements(model, workload.request.batch, phases.back().kv_len, 0,
                                                         model.num_hidden_layers) *
                            element_bytes;
  }
  for (size_t i = 0; i < phases.size(); ++i) {
    if (observer.on_step && phases.size() > 1) observer.on_step(i, phases.size(), workloads::phase_text(phases[i]));
    // Decode steps after the first differ from it only in the cache length: their new
    // operators run timing-only, so a long generate run is not dominated by checks.
    if (i == 2) runner.stop_checking();
    if (i == 2 && phases.size() > 3) check_decode_steps(model, phases, workload.attention, runner);
    result.steps.push_back(runner.run(workloads::build_model(model, phases[i], workload.attention, whole), phases[i]));
    // The reports list the devices' own figures of the first and last steps' ops only: a step
    // between them drops its copies, so memory grows slowly with the steps.
    if (i >= 2) {
      for (OpResult& op : result.steps[i - 1].ops) op.details = {};
    }
  }
}

}  // namespace

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
  const OpRunner run_on_device = [&device](const workloads::Op& op, const RunSettings& op_settings) {
    return device.run(op, op_settings);
  };
  const OpSizer size_on_device = [&device](const workloads::Op& op, const RunSettings& op_settings) {
    return device.transactions(op, op_settings);
  };
  StepRunner runner(device.facts(), run_on_device, size_on_device, result.settings, observer);
  if (const auto* gemms = std::get_if<GemmWorkload>(&workload)) run_gemms(*gemms, runner, result);
  if (const auto* model = std::get_if<ModelWorkload>(&workload)) run_model(*model, runner, observer, result);
  return result;
}

uint64_t StepResult::simulated_layers() const {
  uint64_t simulated = 0;
  for (const StepBlock& block : blocks) simulated += block.layers;
  return simulated;
}

StepResult join_steps(StepResult first, const StepResult& then) {
  const size_t offset = first.ops.size();
  const uint64_t layer_cycles = first.layer_cycles * first.layers + then.layer_cycles * then.layers;
  first.ops.insert(first.ops.end(), then.ops.begin(), then.ops.end());
  for (StepBlock block : then.blocks) {
    block.first += offset;
    first.blocks.push_back(block);
  }
  first.cycles += then.cycles;
  first.layers += then.layers;
  first.layer_cycles = first.layers == 0 ? 0 : layer_cycles / first.layers;
  first.roofline_cycles += then.roofline_cycles;
  first.flops += then.flops;
  first.macs += then.macs;
  first.activity += then.activity;
  first.energy += then.energy;
  return first;
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
