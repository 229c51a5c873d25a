#include "sim/decode_steps.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "sim/step_runner.h"

namespace tessel::sim {

std::vector<size_t> stride_decode_steps(const std::vector<workloads::Phase>& phases, uint64_t stride) {
  std::vector<size_t> simulated;
  for (size_t i = 1; i < phases.size(); ++i) {
    if (i == 1 || i + 1 == phases.size() || phases[i].kv_len % stride == 0) simulated.push_back(i);
  }
  return simulated;
}

void refine_between(size_t from, size_t to, const std::function<uint64_t(size_t)>& simulate,
                    const std::function<uint64_t(size_t, size_t, size_t)>& interpolate, std::set<size_t>& simulated) {
  if (to - from < 2) return;
  const size_t mid = from + (to - from) / 2;
  // Interpolated first: once simulated, the step's ops would be reused instead.
  const double interpolated = static_cast<double>(interpolate(mid, from, to));
  const double exact = static_cast<double>(simulate(mid));
  simulated.insert(mid);
  if (std::abs(interpolated - exact) <= kInterpolationTolerance * exact) return;
  refine_between(from, mid, simulate, interpolate, simulated);
  refine_between(mid, to, simulate, interpolate, simulated);
}

std::vector<size_t> run_decode_steps(const std::vector<workloads::Phase>& phases, uint64_t stride,
                                     const DecodeStepper& stepper) {
  const auto cycles = [](const StageSteps& steps) {
    uint64_t total = 0;
    for (const StepResult& step : steps) total += step.cycles;
    return total;
  };
  const std::vector<size_t> strided = stride_decode_steps(phases, stride);
  std::set<size_t> simulated{strided.front()};
  for (size_t k = 1; k < strided.size(); ++k) {
    const size_t from = strided[k - 1];
    const size_t to = strided[k];
    std::map<size_t, StageSteps> ran;  // the span's simulated steps, kept until their turn
    const auto simulate = [&](size_t i) { return cycles(ran.emplace(i, stepper.simulate(i)).first->second); };
    simulate(to);
    simulated.insert(to);
    refine_between(
        from, to, simulate,
        [&](size_t i, size_t lo, size_t hi) { return cycles(stepper.interpolate(i, lo, hi)); }, simulated);
    for (size_t i = from + 1; i <= to; ++i) {
      const auto found = ran.find(i);
      if (found != ran.end()) {
        stepper.keep(i, std::move(found->second));
        continue;
      }
      const auto hi = simulated.lower_bound(i);
      stepper.keep(i, stepper.interpolate(i, *std::prev(hi), *hi));
    }
  }
  return {simulated.begin(), simulated.end()};
}

const workloads::OpGraph& SpanGraphs::at(size_t i) {
  auto found = kept_.find(i);
  if (found == kept_.end()) found = kept_.emplace(i, build_(i)).first;
  return found->second;
}

StepResult SpanGraphs::between(StepRunner& runner, const std::vector<workloads::Phase>& phases,
                               const workloads::Phase& phase, size_t i, size_t lo, size_t hi) {
  kept_.erase(kept_.begin(), kept_.lower_bound(lo));
  return runner.run_between(build_(i), phase, at(lo), at(hi), fraction_between(phases, lo, hi, i));
}

DecodeReplay::DecodeReplay(std::shared_ptr<StepRunner> runner, std::vector<workloads::Phase> phases,
                           std::function<workloads::OpGraph(size_t)> build, std::vector<size_t> simulated,
                           std::map<size_t, std::vector<size_t>> fresh)
    : runner_(std::move(runner)),
      phases_(std::move(phases)),
      graphs_(std::move(build)),
      simulated_(std::move(simulated)),
      fresh_(std::move(fresh)) {}

StepResult DecodeReplay::step(size_t i) const {
  const size_t k = simulated_at_or_after(simulated_, i);
  if (simulated_[k] == i) {
    StepResult step = runner_->run(graphs_.build(i), phases_[i]);
    for (OpResult& op : step.ops) op.details = {};
    const auto fresh = fresh_.find(i);
    if (fresh != fresh_.end()) {
      for (size_t position : fresh->second) step.ops.at(position).reused = false;
    }
    return step;
  }
  return graphs_.between(*runner_, phases_, phases_[i], i, simulated_[k - 1], simulated_[k]);
}

size_t simulated_at_or_after(const std::vector<size_t>& simulated, size_t i) {
  const auto at = std::lower_bound(simulated.begin(), simulated.end(), i);
  if (at == simulated.end() || (*at != i && at == simulated.begin())) {
    throw std::out_of_range("step " + std::to_string(i) + " lies outside the simulated decode steps");
  }
  return static_cast<size_t>(at - simulated.begin());
}

double fraction_between(const std::vector<workloads::Phase>& phases, size_t from, size_t to, size_t i) {
  const double span = static_cast<double>(phases.at(to).cached_len() - phases.at(from).cached_len());
  return static_cast<double>(phases.at(i).cached_len() - phases.at(from).cached_len()) / span;
}

}  // namespace tessel::sim
