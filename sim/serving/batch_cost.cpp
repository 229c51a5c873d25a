#include "sim/serving/batch_cost.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/serving/ping_pong.h"

namespace tessel::sim {

namespace {

using workloads::Op;

// The sizes of an op that differ between iterations: its tokens (rows), and an attention's or a
// cache read's sequences and cache length.
template <typename Axis>
std::vector<Axis> axes_of(Op& op) {
  if (auto* s = std::get_if<workloads::LinearShape>(&op.shape)) return {{&s->m, 1}};
  if (auto* s = std::get_if<workloads::RowsShape>(&op.shape)) return {{&s->rows, 1}};
  if (auto* s = std::get_if<workloads::RopeShape>(&op.shape)) return {{&s->tokens, 1}};
  if (auto* s = std::get_if<workloads::EmbeddingShape>(&op.shape)) return {{&s->tokens, 1}};
  if (auto* s = std::get_if<workloads::SoftcapShape>(&op.shape)) return {{&s->rows, 1}};
  if (auto* s = std::get_if<workloads::SoftmaxShape>(&op.shape)) return {{&s->rows, 1}};
  if (auto* s = std::get_if<workloads::KvCacheShape>(&op.shape)) return {{&s->batch, 1}, {&s->tokens, 1}};
  if (auto* s = std::get_if<workloads::AttentionShape>(&op.shape)) {
    return {{&s->batch, 1}, {&s->q_len, 1}, {&s->kv_cached, 0}};
  }
  return {};
}

// Sizes that follow from the axes.
void settle(Op& op) {
  if (auto* s = std::get_if<workloads::AttentionShape>(&op.shape)) s->kv_len = s->kv_cached + s->q_len;
}

CostFigures mix(const CostFigures& low, const CostFigures& high, double t) {
  return {low.cycles + t * (high.cycles - low.cycles), low.energy_pj + t * (high.energy_pj - low.energy_pj),
          low.dram_bytes + t * (high.dram_bytes - low.dram_bytes)};
}

// Whether an interpolated op is close enough to its simulation in every figure.
bool matches(const CostFigures& guess, const CostFigures& actual) {
  const auto near = [](double a, double b) { return std::abs(a - b) <= kShapeTolerance * std::abs(b) + 1e-9; };
  return near(guess.cycles, actual.cycles) && near(guess.energy_pj, actual.energy_pj) &&
         near(guess.dram_bytes, actual.dram_bytes);
}

}  // namespace

BatchCost::BatchCost(const DeviceFacts& facts, const OpRunner& run, const OpSizer& size,
                     const workloads::ModelConfig& model, const RunSettings& settings, uint64_t cells_per_octave,
                     uint64_t tensor_parallel)
    : model_(model),
      cells_per_octave_(cells_per_octave),
      tensor_parallel_(tensor_parallel),
      dtype_(*settings.dtype),
      clock_hz_(facts.clock_hz),
      power_(facts.power),
      runner_(std::make_shared<StepRunner>(facts, run, size, settings, RunObserver{})) {}

void BatchCost::place_apart(std::shared_ptr<BatchCost> paired, OpPlacement placement, double link_bytes_per_s,
                            double link_latency_s) {
  paired_ = std::move(paired);
  placement_ = std::move(placement);
  paired_link_bytes_per_s_ = link_bytes_per_s;
  paired_link_latency_s_ = link_latency_s;
}

CostFigures BatchCost::placed(const Op& op) {
  if (!paired_ || !placement_.apart(op)) return this->op(op);
  CostFigures figures = paired_->op(op);
  figures.cycles *= clock_hz_ / paired_->clock_hz_;
  return figures;
}

double BatchCost::crossing_seconds(const Op& from) const {
  return paired_link_latency_s_ + static_cast<double>(from.bytes(dtype_).written) / paired_link_bytes_per_s_;
}

CostFigures BatchCost::iteration(const workloads::BatchStep& step) {
  CostFigures total = paired_ && microbatches_ > 1 ? ping_ponged(step) : in_order(step);
  // The device draws its static power for the whole iteration, its links' and streams' time too.
  if (power_) total.energy_pj += arch::static_pj(*power_, total.cycles / clock_hz_);
  if (paired_ && paired_->power_) total.energy_pj += arch::static_pj(*paired_->power_, total.cycles / clock_hz_);
  return total;
}

CostFigures BatchCost::ping_ponged(const workloads::BatchStep& step) {
  CostFigures total;
  std::vector<std::vector<PairTask>> chains;
  for (const workloads::BatchStep& part : split_batch_step(step, microbatches_)) {
    const workloads::OpGraph graph = workloads::build_batch_step(model_, part, workloads::AttentionImpl::Fused,
                                                                 workloads::ModelSlice{tensor_parallel_});
    std::vector<PairTask>& chain = chains.emplace_back();
    const auto then = [&](PairResource resource, double seconds) {
      if (!chain.empty() && chain.back().resource == resource) {
        chain.back().seconds += seconds;
      } else {
        chain.push_back({resource, seconds});
      }
    };
    // As in_order: a run of ops crosses the link wherever consecutive ops change device.
    const auto add = [&](const std::vector<Op>& ops) {
      const Op* previous = nullptr;
      for (const Op& op : ops) {
        const bool apart = placement_.apart(op);
        if (previous && apart != placement_.apart(*previous)) then(PairResource::Link, crossing_seconds(*previous));
        previous = &op;
        const CostFigures figures = placed(op);
        then(apart ? PairResource::Paired : PairResource::Device, figures.cycles / clock_hz_);
        total.energy_pj += figures.energy_pj;
        total.dram_bytes += figures.dram_bytes;
      }
    };
    add(graph.prologue);
    for (const workloads::LayerBlock& block : graph.layers) {
      for (uint64_t layer = 0; layer < block.repeats; ++layer) add(block.ops);
    }
    add(graph.epilogue);
  }
  total.cycles = ping_pong_seconds(chains) * clock_hz_;
  return total;
}

CostFigures BatchCost::in_order(const workloads::BatchStep& step) {
  const workloads::OpGraph graph = workloads::build_batch_step(model_, step, workloads::AttentionImpl::Fused,
                                                               workloads::ModelSlice{tensor_parallel_});
  CostFigures total;
  // A run of ops (the embeddings, a repeat of a block of layers, the LM head) `repeats` times.
  const auto add = [&](const std::vector<Op>& ops, uint64_t repeats) {
    CostFigures part;
    double weight_bytes = 0;
    double kv_bytes = 0;
    double crossing = 0;  // seconds of outputs crossing between the paired devices
    const Op* previous = nullptr;
    for (const Op& op : ops) {
      const CostFigures figures = placed(op);
      if (paired_ && previous && placement_.apart(op) != placement_.apart(*previous)) {
        crossing += crossing_seconds(*previous);
      }
      previous = &op;
      part.cycles += figures.cycles;
      part.energy_pj += figures.energy_pj;
      part.dram_bytes += figures.dram_bytes;
      weight_bytes += static_cast<double>(op.parameter_bytes(dtype_));
      kv_bytes += static_cast<double>(op.cache_bytes(dtype_));
      if (op.kind == workloads::OpKind::KvCacheAppend) kv_bytes += static_cast<double>(op.bytes(dtype_).written);
    }
    // What crosses the host link while the previous layer computes.
    double link_seconds = 0;
    if (weight_link_bytes_per_s_) link_seconds += weight_bytes / *weight_link_bytes_per_s_;
    if (kv_link_bytes_per_s_) link_seconds += kv_bytes / *kv_link_bytes_per_s_;
    part.cycles = std::max(part.cycles, link_seconds * clock_hz_) + crossing * clock_hz_;
    const double times = static_cast<double>(repeats);
    total.cycles += part.cycles * times;
    total.energy_pj += part.energy_pj * times;
    total.dram_bytes += part.dram_bytes * times;
  };
  add(graph.prologue, 1);
  for (const workloads::LayerBlock& block : graph.layers) add(block.ops, block.repeats);
  add(graph.epilogue, 1);
  return total;
}

CostFigures BatchCost::iteration_all(const std::vector<workloads::BatchStep>& steps) {
  CostFigures total;
  for (const workloads::BatchStep& step : steps) {
    const CostFigures figures = iteration(step);
    total.cycles += figures.cycles;
    total.energy_pj += figures.energy_pj;
    total.dram_bytes += figures.dram_bytes;
  }
  return total;
}

CostFigures BatchCost::simulate(const Op& op) {
  const std::string id = op_identity(op);
  const auto seen = simulated_figures_.find(id);
  if (seen != simulated_figures_.end()) return seen->second;
  const OpResult& result = runner_->result(op);
  // Static energy is the iteration's (BatchCost::iteration), not each op's.
  const CostFigures figures{static_cast<double>(result.cycles), result.energy.total_pj() - result.energy.static_pj,
                            static_cast<double>(result.activity.dram_read_bytes + result.activity.dram_write_bytes)};
  simulated_figures_.emplace(id, figures);
  return figures;
}

CostFigures BatchCost::op(const Op& op) {
  const std::string id = op_identity(op);
  const auto seen = known_.find(id);
  if (seen != known_.end()) return seen->second;
  Op probe = op;
  std::vector<Axis> axes = axes_of<Axis>(probe);
  std::vector<uint64_t> at;
  Cell cell;
  for (const Axis& axis : axes) {
    const uint64_t x = *axis.value;
    // The grid's spacing is 1/cells_per_octave of the power of two at or below x, so that a
    // cell spans the same share of any size.
    const uint64_t octave = x == 0 ? 1 : uint64_t{1} << (63 - __builtin_clzll(x));
    const uint64_t width = cells_per_octave_ == 0 ? 1 : std::max<uint64_t>(1, octave / cells_per_octave_);
    const uint64_t base = x / width * width;
    const uint64_t low = std::max(base, axis.least);
    const bool on_grid = width == 1 || x == low;
    at.push_back(x);
    cell.low.push_back(on_grid ? x : low);
    cell.high.push_back(on_grid ? x : base + width);
  }
  if (cell.low == cell.high) return simulate(op);
  // The op's family: its identity with the varying sizes left out.
  for (const Axis& axis : axes) *axis.value = 0;
  settle(probe);
  const std::string family = op_identity(probe);
  while (true) {
    std::string key = family;
    std::vector<uint64_t> middle;
    std::vector<uint64_t> probe_at;
    bool split = false;
    for (size_t i = 0; i < axes.size(); ++i) {
      const uint64_t width = cell.high[i] - cell.low[i];
      key += " " + std::to_string(cell.low[i]) + "-" + std::to_string(cell.high[i]);
      middle.push_back(cell.low[i] + width / 2);
      // Off the middle by one where the cell is wide: a staircase whose steps divide the grid's
      // spacing meets the line between the corners exactly at the middle.
      probe_at.push_back(middle.back() + (width >= 4 ? 1 : 0));
      split = split || width >= 2;
    }
    if (!split || checked_.count(key) > 0) break;
    const CostFigures guess = between(probe, axes, cell, probe_at, 0);
    for (size_t i = 0; i < axes.size(); ++i) *axes[i].value = probe_at[i];
    settle(probe);
    if (matches(guess, simulate(probe))) {
      checked_.insert(std::move(key));
      break;
    }
    // Closer in on the jump: the half of each wide side that holds the op's sizes.
    for (size_t i = 0; i < axes.size(); ++i) {
      if (cell.high[i] - cell.low[i] < 2) continue;
      if (at[i] == middle[i]) {
        cell.low[i] = cell.high[i] = middle[i];
      } else if (at[i] < middle[i]) {
        cell.high[i] = middle[i];
      } else {
        cell.low[i] = middle[i];
      }
    }
  }
  const CostFigures figures = between(probe, axes, cell, at, 0);
  known_.emplace(id, figures);
  return figures;
}

CostFigures BatchCost::between(Op& probe, std::vector<Axis>& axes, const Cell& cell, const std::vector<uint64_t>& at,
                               size_t axis) {
  if (axis == axes.size()) {
    settle(probe);
    return simulate(probe);
  }
  const uint64_t low = cell.low[axis];
  const uint64_t high = cell.high[axis];
  const uint64_t x = at[axis];
  if (x == low || low == high) {
    *axes[axis].value = low;
    return between(probe, axes, cell, at, axis + 1);
  }
  if (x == high) {
    *axes[axis].value = high;
    return between(probe, axes, cell, at, axis + 1);
  }
  *axes[axis].value = low;
  const CostFigures below = between(probe, axes, cell, at, axis + 1);
  *axes[axis].value = high;
  const CostFigures above = between(probe, axes, cell, at, axis + 1);
  return mix(below, above, static_cast<double>(x - low) / static_cast<double>(high - low));
}

}  // namespace tessel::sim
