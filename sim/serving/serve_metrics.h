// What a serving run's figures add up to: latency distributions, throughput, goodput under
// latency objectives, KV-cache occupancy, energy per token, and what limited admission.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/serving/serve.h"

namespace tessel::sim {

struct Distribution {
  double mean = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double max = 0;
};

// Percentiles interpolated linearly between the sorted values (numpy's default); all zero for
// no values.
Distribution distribution_of(std::vector<double> values);

// Latency objectives a request must meet to count towards goodput (DistServe's definition).
struct ServiceObjectives {
  std::optional<double> ttft_s;
  std::optional<double> tpot_s;
  bool any() const { return ttft_s || tpot_s; }
};

// Requests waited while the devices ran for at least this share of their busy time before a
// limit is named as what held them back.
constexpr double kWaitingShare = 0.1;

struct ServeSummary {
  size_t requests = 0;
  double duration_s = 0;
  uint64_t prompt_tokens = 0;
  uint64_t output_tokens = 0;
  double requests_per_s = 0;
  double output_tokens_per_s = 0;
  double total_tokens_per_s = 0;
  Distribution queueing_s, ttft_s, tpot_s, e2e_s;
  // Requests meeting every objective given: their share, and their rate (requests a second).
  std::optional<double> slo_attainment;
  std::optional<double> goodput_requests_per_s;
  double energy_j = 0;       // the iterations' and the idle time's, every device's
  double idle_energy_j = 0;  // of that, the devices' idle power while they had nothing to run
  double energy_per_output_token_j = 0;
  uint64_t iterations = 0;
  double mean_batch = 0;         // sequences an iteration, weighted by its time
  double busy_share = 0;         // of the duration, the devices running iterations (each group's mean)
  double kv_peak_share = 0;      // of an engine's cache blocks, the most in use
  double kv_mean_share = 0;      // weighted by time
  uint64_t preemptions = 0;
  // Of the time requests waited while the device ran, the share each limit held them back;
  // `limit` the largest, or "none" when requests waited less than a tenth of the busy time
  // (the load, not the server, set the pace).
  std::map<std::string, double> waiting_shares;
  std::string limit;
};

ServeSummary summarize(const ServeResult& result, const ServiceObjectives& objectives);

}  // namespace tessel::sim
