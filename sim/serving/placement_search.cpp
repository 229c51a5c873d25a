#include "sim/serving/placement_search.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "workloads/input_error.h"
#include "workloads/transformer.h"

namespace tessel::sim {

namespace {

// Where requests waited longest, and on what: the limit of the one group of devices, or under
// disaggregation of the group (prompts or decoding) whose requests waited longer.
std::string bottleneck_of(const ServeResult& result, const ServeSummary& summary) {
  if (!result.prefill) return summary.limit == "none" ? "none (the load sets the pace)" : summary.limit;
  std::map<EngineRole, std::map<std::string, double>> waited;  // engine → limit → seconds
  std::map<EngineRole, double> busy;
  for (const IterationRecord& it : result.iterations) {
    busy[it.engine] += it.seconds;
    if (it.waiting > 0) waited[it.engine][limit_name(it.limit)] += it.seconds;
  }
  std::string worst = "none (the load sets the pace)";
  double longest = 0;
  for (const auto& [engine, limits] : waited) {
    for (const auto& [limit, seconds] : limits) {
      if (seconds > longest && seconds >= kWaitingShare * busy[engine]) {
        longest = seconds;
        worst = (engine == EngineRole::Prefill ? "prompt devices: " : "decoding devices: ") + limit;
      }
    }
  }
  return worst;
}

}  // namespace

std::string ServePlacement::text() const {
  if (prefill_tp == 0 && replicas > 1) return "tp " + std::to_string(tp) + " x " + std::to_string(replicas) + " replicas";
  if (prefill_tp == 0) return "tp " + std::to_string(tp);
  return "prefill tp " + std::to_string(prefill_tp) + " + decode tp " + std::to_string(tp);
}

std::vector<ServePlacement> placement_candidates(const arch::SystemSpec& system, const workloads::ModelConfig& model) {
  const uint64_t group = system.levels.empty() ? 1 : system.levels.front().size();
  std::vector<uint64_t> widths;
  for (uint64_t tp = 1; tp <= group; tp *= 2) {
    try {
      workloads::tensor_parallel_shard(model, tp);
      widths.push_back(tp);
    } catch (const workloads::InputError&) {
      // A width that does not divide the model's heads or layers' sizes is no candidate.
    }
  }
  std::vector<ServePlacement> candidates;
  for (const uint64_t tp : widths) candidates.push_back({tp, 0, 1});
  for (const uint64_t tp : widths) {
    for (uint64_t replicas = 2; tp * replicas <= group; replicas *= 2) candidates.push_back({tp, 0, replicas});
  }
  for (const uint64_t prefill : widths) {
    for (const uint64_t decode : widths) {
      if (prefill + decode <= group) candidates.push_back({decode, prefill, 1});
    }
  }
  return candidates;
}

std::vector<PlacementOutcome> search_placements(
    const arch::SystemSpec& system, const workloads::ModelConfig& model, const ServeLoad& load,
    const ServeSettings& settings, const RunSettings& run_settings, const ServiceObjectives& objectives,
    const std::function<void(size_t, size_t, const std::string&)>& progress) {
  if (settings.prefill) throw std::invalid_argument("search_placements: the search chooses the prefill devices");
  const std::vector<ServePlacement> candidates = placement_candidates(system, model);
  std::vector<PlacementOutcome> outcomes;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const ServePlacement& placement = candidates[i];
    if (progress) progress(i, candidates.size(), placement.text());
    PlacementOutcome outcome;
    outcome.placement = placement;
    ServeSettings chosen = settings;
    chosen.replicas = placement.replicas;
    if (placement.prefill_tp > 0) {
      // Both groups in one first-level group: the cache crosses that level's link.
      const arch::LinkSpec& link = system.levels.front().link;
      chosen.prefill = PrefillPool{system, placement.prefill_tp, link.achievable_bytes_per_second(), link.latency_s};
    }
    try {
      const ServeResult result = serve(system, placement.tp, model, load, chosen, run_settings);
      outcome.summary = summarize(result, objectives);
      const double served = outcome.summary.goodput_requests_per_s.value_or(outcome.summary.requests_per_s);
      outcome.goodput_per_device = served / static_cast<double>(placement.devices());
      outcome.bottleneck = bottleneck_of(result, outcome.summary);
    } catch (const workloads::InputError& error) {
      outcome.error = error.what();
    }
    outcomes.push_back(std::move(outcome));
  }
  std::stable_sort(outcomes.begin(), outcomes.end(), [](const PlacementOutcome& a, const PlacementOutcome& b) {
    if (a.error.empty() != b.error.empty()) return a.error.empty();
    if (a.goodput_per_device != b.goodput_per_device) return a.goodput_per_device > b.goodput_per_device;
    return a.summary.energy_per_output_token_j < b.summary.energy_per_output_token_j;
  });
  return outcomes;
}

}  // namespace tessel::sim
