#include "sim/step_runner.h"

#include <set>
#include <utility>

#include "sim/op_interpolation.h"
#include "sim/simulation_limit.h"

namespace tessel::sim {

using workloads::Op;

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
  if (const auto* s = std::get_if<workloads::CollectiveShape>(&op.shape)) {
    id += " " + workloads::group_name(s->group) + " group";
  }
  if (const auto* s = std::get_if<workloads::DropoutShape>(&op.shape)) id += " p " + std::to_string(s->probability);
  if (op.format) id += " in " + std::string(arch::to_string(*op.format));
  // How a precision recipe stores the op's weight and cache changes its cost.
  if (op.weight_storage) id += " weights " + op.weight_storage->text();
  if (op.weight_sparsity) id += " pruned " + op.weight_sparsity->text();
  if (op.kv_storage) id += " cache " + op.kv_storage->text();
  if (op.input_density) id += " inputs " + std::to_string(*op.input_density);
  if (op.output_density) id += " outputs " + std::to_string(*op.output_density);
  return id;
}

StepRunner::StepRunner(const DeviceFacts& facts, OpRunner run, OpSizer size, const RunSettings& settings,
                       const RunObserver& observer, OpCostCache* device_cache)
    : facts_(facts),
      run_(std::move(run)),
      size_(std::move(size)),
      settings_(settings),
      observer_(observer),
      device_cache_(device_cache) {}

OpCostCache& StepRunner::cache_of(const Op& op) {
  return device_cache_ && !workloads::is_communication(op.kind) ? *device_cache_ : simulated_;
}

uint64_t StepRunner::new_transactions(const workloads::OpGraph& graph) {
  std::set<std::string> sized;
  uint64_t transactions = 0;
  graph.for_each_op([&](const Op& op, uint64_t) {
    const std::string id = op_identity(op);
    if (cache_of(op).count(id) > 0 || !sized.insert(id).second) return;
    const uint64_t op_transactions = size_(op, settings_);
    check_simulation_size(op.name + " (" + op.shape_text() + ")", op_transactions);
    transactions += op_transactions;
  });
  return transactions;
}

StepResult StepRunner::run(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase) {
  check_run_size(transactions_ + new_transactions(graph), phase ? workloads::phase_text(*phase) : graph.name);
  return assemble(graph, phase, [this](const Op& op, size_t) { return cost(op); });
}

StepResult StepRunner::run_between(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase,
                                   const workloads::OpGraph& low, const workloads::OpGraph& high, double t) {
  std::vector<const Op*> lows;
  std::vector<const Op*> highs;
  low.for_each_op([&](const Op& op, uint64_t) { lows.push_back(&op); });
  high.for_each_op([&](const Op& op, uint64_t) { highs.push_back(&op); });
  const auto ran = [this](const Op& op) -> const OpResult& {
    const OpResult* result = ran_before(op);
    if (!result) throw std::logic_error("run_between: " + op.name + " (" + op.shape_text() + ") did not run before");
    return *result;
  };
  return assemble(graph, phase, [&](const Op& op, size_t index) {
    if (OpResult* seen = ran_before(op)) return reuse(*seen, false);
    if (workloads::is_communication(op.kind)) return cost(op, false);
    if (index >= lows.size() || index >= highs.size() || lows[index]->name != op.name ||
        highs[index]->name != op.name) {
      throw std::logic_error("run_between: " + op.name + " has no counterpart in the steps around it");
    }
    const OpResult& low_result = ran(*lows[index]);
    const OpResult& high_result = ran(*highs[index]);
    OpResult result = interpolate(low_result, high_result, t);
    result.mapping = (low_result.mapping == high_result.mapping ? low_result.mapping + "; " : std::string()) +
                     "interpolated between " + lows[index]->shape_text() + " and " + highs[index]->shape_text();
    return result;
  });
}

const OpResult& StepRunner::result(const Op& op) {
  if (const OpResult* seen = ran_before(op)) return *seen;
  cost(op, false);
  return *ran_before(op);
}

OpResult* StepRunner::ran_before(const Op& op) {
  OpCostCache& cache = cache_of(op);
  const auto seen = cache.find(op_identity(op));
  return seen == cache.end() ? nullptr : &seen->second;
}

OpResult StepRunner::reuse(OpResult& kept, bool details) {
  OpResult result;
  if (details) {
    result = kept;
  } else {
    // Copied without the device's figures, the bulk of a result: set aside for the copy.
    std::vector<StatGroup> set_aside = std::move(kept.details);
    result = kept;
    kept.details = std::move(set_aside);
  }
  result.reused = true;
  return result;
}

void StepRunner::detach() {
  run_ = [](const Op& op, const RunSettings&) -> OpResult {
    throw std::logic_error(op.name + " (" + op.shape_text() + ") did not run before and the device is gone");
  };
  size_ = [](const Op&, const RunSettings&) { return uint64_t{0}; };
  observer_ = {};
}

OpResult StepRunner::cost(const Op& op, bool details) {
  const std::string id = op_identity(op);
  OpCostCache& cache = cache_of(op);
  auto seen = cache.find(id);
  if (seen != cache.end()) return reuse(seen->second, details);
  OpResult result = run_(op, settings_);
  transactions_ += result.transactions;
  result.dram_utilization = dram_utilization(facts_, result.activity, result.cycles);
  cache.emplace(id, result);
  return result;
}

StepResult StepRunner::assemble(const workloads::OpGraph& graph, std::optional<workloads::Phase> phase,
                                const OpCost& cost_of) {
  StepResult step;
  step.phase = phase;
  size_t index = 0;
  size_t count = graph.prologue.size() + graph.epilogue.size();
  for (const workloads::LayerBlock& block : graph.layers) count += block.ops.size();
  const auto add_all = [&](const std::vector<Op>& ops, uint64_t repeats, bool in_layer) {
    for (const Op& op : ops) {
      if (observer_.on_op && count > 1) observer_.on_op(index, count, op.name);
      add(step, op, cost_of(op, index), repeats, in_layer);
      ++index;
    }
  };
  add_all(graph.prologue, 1, false);
  uint64_t layer_cycles = 0;  // every layer's
  double layer_energy = 0;
  for (const workloads::LayerBlock& block : graph.layers) {
    step.blocks.push_back({step.ops.size(), block.ops.size(), block.repeats, block.layers_per_repeat()});
    add_all(block.ops, block.repeats, true);
    for (size_t i = step.ops.size() - block.ops.size(); i < step.ops.size(); ++i) {
      layer_cycles += step.ops[i].cycles * block.repeats;
      layer_energy += step.ops[i].energy.total_pj() * static_cast<double>(block.repeats);
    }
  }
  add_all(graph.epilogue, 1, false);
  step.layers = graph.layer_count();
  step.layer_cycles = step.layers == 0 ? 0 : layer_cycles / step.layers;
  step.layer_energy_pj = step.layers == 0 ? 0 : layer_energy / static_cast<double>(step.layers);
  return step;
}

void StepRunner::add(StepResult& step, const Op& op, OpResult result, uint64_t repeats, bool in_layer) {
  result.name = op.name;
  result.kind = op.kind;
  result.shape = op.shape_text();
  result.repeats = repeats;
  result.in_layer = in_layer;
  result.flops = op.flops();
  result.macs = op.macs();
  if (const auto* s = std::get_if<workloads::CollectiveShape>(&op.shape); s && s->overlapped) {
    result.stream = std::make_pair(s->group, s->stream);
  }
  if (const auto* s = std::get_if<workloads::WaitShape>(&op.shape)) {
    result.stream = std::make_pair(s->group, s->stream);
    result.wait_keep = s->keep;
  }

  step.cycles += result.cycles * repeats;
  step.roofline_cycles += result.roofline.cycles() * repeats;
  step.flops += result.flops * repeats;
  step.macs += result.macs * repeats;
  step.activity += result.activity.times(repeats);
  step.energy += result.energy.scaled(static_cast<double>(repeats));
  step.ops.push_back(std::move(result));
}

}  // namespace tessel::sim
