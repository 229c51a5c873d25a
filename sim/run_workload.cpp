#include "sim/run_workload.h"

#include <algorithm>
#include <map>
#include <variant>

#include "sim/decode_steps.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/quant_layer_check.h"
#include "sim/simulation_limit.h"
#include "sim/step_runner.h"
#include "workloads/input_error.h"
#include "workloads/op_graph.h"

namespace tessel::sim {

namespace {

void run_gemms(const GemmWorkload& workload, StepRunner& runner, RunResult& result) {
  workloads::check_quant(workload.quant, result.dtype());
  workloads::OpGraph graph = workloads::linear_graph(workload.graph);
  workloads::apply_quant(graph, workload.quant);
  result.steps.push_back(runner.run(graph, std::nullopt));
}

// The new ops of each later simulated decode step (attention over a longer cache) grow in
// work linearly to the last step's: a generate run whose steps would pass kMaxRunTransactions
// is refused here, after its prefill and first decode step, rather than minutes later.
void check_decode_steps(const workloads::ModelConfig& model, const std::vector<workloads::Phase>& phases,
                        size_t simulated, workloads::AttentionImpl attention, StepRunner& runner) {
  const workloads::ModelSlice whole{1, 0, 0, 0, 1, 1.0};
  const uint64_t next = runner.new_transactions(workloads::build_model(model, phases[2], attention, whole));
  const uint64_t last = runner.new_transactions(workloads::build_model(model, phases.back(), attention, whole));
  const std::string steps = std::to_string(phases.size() - 2) + " decode steps";
  check_run_size(runner.transactions() + simulated * ((next + last) / 2),
                 "the " + steps + " after " + workloads::phase_text(phases[1]));
}

void run_model(const ModelWorkload& workload, const std::shared_ptr<StepRunner>& runner, const RunObserver& observer,
               RunResult& result) {
  const workloads::ModelConfig& model = workload.model;
  const std::vector<workloads::Phase> phases = phases_of(workload.request);
  workloads::check_steps_size(model, phases);
  workloads::check_quant(model.quant, result.dtype());
  const workloads::ModelSlice whole{1, 0, 0, 0, 1, workload.expert_skew};
  const auto graph_of = [&](size_t i) { return workloads::build_model(model, phases[i], workload.attention, whole); };
  result.weight_bytes = graph_of(0).total_parameter_bytes(result.dtype());
  if (model.causal) {
    result.kv_cache_bytes = workloads::kv_cache_bytes(model, workload.request.batch, phases.back().kv_len, 0,
                                                      model.num_hidden_layers, result.dtype());
  }
  const auto announce = [&](size_t i) {
    if (observer.on_step && phases.size() > 1) observer.on_step(i, phases.size(), workloads::phase_text(phases[i]));
  };
  // The prefill, the first decode step and the last keep their ops (the reports list them in
  // full, and the device's own figures of the prefill's and the last step's), a step between
  // them its totals only, so memory stays flat however many steps run.
  const auto keep = [&](StepResult step) {
    const size_t i = result.steps.size();
    if (i >= 2 && i + 1 < phases.size()) {
      step.ops = std::vector<OpResult>();  // (= {} would keep the capacity)
      step.blocks = std::vector<StepBlock>();
    }
    if (i == 2) {
      for (OpResult& op : result.steps[1].ops) op.details = {};
    }
    result.steps.push_back(std::move(step));
  };
  for (size_t i = 0; i < std::min<size_t>(phases.size(), 2); ++i) {
    announce(i);
    keep(runner->run(graph_of(i), phases[i]));
  }
  if (result.settings.check != CheckMode::Never && changes_numerics(model.quant) && result.dtype() != arch::DType::Int8) {
    result.scheme_layer = check_quantized_decoder_layer(recipe_check_layer(model.quant), model.quant, result.dtype(),
                                                        result.settings.seed);
  }
  if (phases.size() <= 2) return;
  // Decode steps after the first differ from it only in the cache length: they run
  // timing-only, so a long generate run is not dominated by checks, and only some of them
  // are simulated, those between interpolated.
  runner->stop_checking();
  const uint64_t stride = result.settings.decode_stride;
  // Each span of the stride simulates its end and its midpoint at least.
  check_decode_steps(model, phases, 2 * stride_decode_steps(phases, stride).size(), workload.attention, *runner);
  std::map<size_t, std::vector<size_t>> fresh;  // the ops each simulated step simulated
  SpanGraphs graphs(graph_of);
  DecodeStepper stepper;
  stepper.simulate = [&](size_t i) {
    StepResult step = runner->run(graphs.at(i), phases[i]);
    for (size_t j = 0; j < step.ops.size() && i + 1 < phases.size(); ++j) {
      if (!step.ops[j].reused) fresh[i].push_back(j);
    }
    return StageSteps{std::move(step)};
  };
  stepper.interpolate = [&](size_t i, size_t lo, size_t hi) {
    return StageSteps{graphs.between(*runner, phases, phases[i], i, lo, hi)};
  };
  stepper.keep = [&](size_t i, StageSteps steps) {
    announce(i);
    keep(std::move(steps.front()));
  };
  const std::vector<size_t> simulated = run_decode_steps(phases, stride, stepper);
  runner->detach();
  result.replay = std::make_shared<DecodeReplay>(
      runner, phases,
      [model = workload.model, attention = workload.attention, whole, phases](size_t i) {
        return workloads::build_model(model, phases[i], attention, whole);
      },
      simulated, std::move(fresh));
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
  const auto runner =
      std::make_shared<StepRunner>(device.facts(), run_on_device, size_on_device, result.settings, observer);
  if (const auto* gemms = std::get_if<GemmWorkload>(&workload)) run_gemms(*gemms, *runner, result);
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
  const double layer_energy = first.layer_energy_pj * static_cast<double>(first.layers) +
                              then.layer_energy_pj * static_cast<double>(then.layers);
  first.ops.insert(first.ops.end(), then.ops.begin(), then.ops.end());
  for (StepBlock block : then.blocks) {
    block.first += offset;
    first.blocks.push_back(block);
  }
  first.cycles += then.cycles;
  first.layers += then.layers;
  first.layer_cycles = first.layers == 0 ? 0 : layer_cycles / first.layers;
  first.layer_energy_pj = first.layers == 0 ? 0 : layer_energy / static_cast<double>(first.layers);
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

void RunResult::for_each_step(const std::function<void(size_t, const StepResult&)>& visit) const {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (replay && i >= 2 && i + 1 < steps.size()) {
      visit(i, replay->step(i));
    } else {
      visit(i, steps[i]);
    }
  }
}

uint64_t RunResult::ops_checked() const {
  uint64_t checked = 0;
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) checked += op.numerics.checked && !op.reused ? 1 : 0;
  }
  return checked;
}

std::optional<NumericsReport> RunResult::scheme_numerics() const {
  std::optional<NumericsReport> worst;
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) {
      if (!op.numerics.checked || op.numerics.format_sqnr_db == 0) continue;
      worst = worst ? worst_of(*worst, op.numerics) : op.numerics;
    }
  }
  return worst;
}

bool RunResult::numerics_passed() const {
  if (scheme_layer && !scheme_layer->passed) return false;
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) {
      if (op.numerics.checked && !op.numerics.passed) return false;
    }
  }
  return true;
}

}  // namespace tessel::sim
