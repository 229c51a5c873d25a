#include "sim/serving/serve_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tessel::sim {

namespace {

double percentile(const std::vector<double>& sorted, double q) {
  const double rank = q * static_cast<double>(sorted.size() - 1);
  const size_t below = static_cast<size_t>(std::floor(rank));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (rank - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

Distribution distribution_of(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  Distribution d;
  d.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  d.p50 = percentile(values, 0.5);
  d.p90 = percentile(values, 0.9);
  d.p99 = percentile(values, 0.99);
  d.max = values.back();
  return d;
}

ServeSummary summarize(const ServeResult& result, const ServiceObjectives& objectives) {
  ServeSummary s;
  s.requests = result.requests.size();
  s.duration_s = result.duration_s();
  std::vector<double> queueing, ttft, tpot, e2e;
  size_t met = 0;
  for (const RequestOutcome& outcome : result.requests) {
    s.prompt_tokens += outcome.request.prompt_tokens;
    s.output_tokens += outcome.request.output_tokens;
    queueing.push_back(outcome.queueing_s());
    ttft.push_back(outcome.ttft_s());
    if (outcome.request.output_tokens > 1) tpot.push_back(outcome.tpot_s());
    e2e.push_back(outcome.e2e_s());
    const bool meets_ttft = !objectives.ttft_s || outcome.ttft_s() <= *objectives.ttft_s;
    const bool meets_tpot = !objectives.tpot_s || outcome.tpot_s() <= *objectives.tpot_s;
    if (meets_ttft && meets_tpot) ++met;
  }
  s.queueing_s = distribution_of(std::move(queueing));
  s.ttft_s = distribution_of(std::move(ttft));
  s.tpot_s = distribution_of(std::move(tpot));
  s.e2e_s = distribution_of(std::move(e2e));
  const double duration = s.duration_s > 0 ? s.duration_s : 1;
  s.requests_per_s = static_cast<double>(s.requests) / duration;
  s.output_tokens_per_s = static_cast<double>(s.output_tokens) / duration;
  s.total_tokens_per_s = static_cast<double>(s.prompt_tokens + s.output_tokens) / duration;
  if (objectives.any()) {
    s.slo_attainment = static_cast<double>(met) / static_cast<double>(s.requests);
    s.goodput_requests_per_s = static_cast<double>(met) / duration;
  }

  double busy = 0, batch = 0, kv = 0, waited = 0, energy_pj = 0, prompt_busy = 0;
  std::map<std::string, double> held_back;
  for (const IterationRecord& it : result.iterations) {
    busy += it.seconds;
    if (it.engine == EngineRole::Prefill) prompt_busy += it.seconds;
    batch += static_cast<double>(it.sequences) * it.seconds;
    kv += it.kv_share * it.seconds;
    s.kv_peak_share = std::max(s.kv_peak_share, it.kv_share);
    energy_pj += it.energy_pj;
    s.preemptions += it.preempted;
    if (it.waiting > 0) {
      waited += it.seconds;
      held_back[limit_name(it.limit)] += it.seconds;
    }
  }
  s.iterations = result.iterations.size();
  const double engines = static_cast<double>(result.replicas) + (result.prefill ? 1.0 : 0.0);
  s.busy_share = busy / duration / engines;
  s.mean_batch = busy > 0 ? batch / busy : 0;
  s.kv_mean_share = busy > 0 ? kv / busy : 0;
  // Between iterations an engine's devices draw their idle power, until the last request ends.
  const auto idle_j = [&](const DeviceFacts& device, uint64_t devices, double engine_busy) {
    if (!device.power) return 0.0;
    return device.power->idle_w * static_cast<double>(devices) * std::max(0.0, s.duration_s - engine_busy);
  };
  // The copies of the decoding devices idle, together, for their time less their busy time.
  s.idle_energy_j = idle_j(result.device, result.tensor_parallel * result.replicas,
                           (busy - prompt_busy) / static_cast<double>(result.replicas));
  if (result.prefill) s.idle_energy_j += idle_j(result.prefill->device, result.prefill->tensor_parallel, prompt_busy);
  s.energy_j = energy_pj * 1e-12 + s.idle_energy_j;
  s.energy_per_output_token_j = s.output_tokens > 0 ? s.energy_j / static_cast<double>(s.output_tokens) : 0;
  s.limit = "none";
  double largest = 0;
  for (const auto& [name, seconds] : held_back) {
    s.waiting_shares[name] = seconds / waited;
    if (seconds > largest) {
      largest = seconds;
      if (waited >= kWaitingShare * busy) s.limit = name;
    }
  }
  return s;
}

}  // namespace tessel::sim
