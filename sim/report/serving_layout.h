// What `tessel serve` reports: summary.json (settings, distributions, throughput, goodput,
// energy, KV-cache occupancy, the limit requests waited on), requests.csv (a row per request,
// itself a request trace), iterations.csv (a row per iteration: the batch, the cache in use,
// who waited), the table it prints, and the trace of iterations and requests.
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "sim/serving/placement_search.h"
#include "sim/serving/serve.h"
#include "sim/serving/serve_metrics.h"

namespace tessel::sim {

nlohmann::json serve_summary_json(const ServeResult& result, const ServeSummary& summary,
                                  const ServiceObjectives& objectives);
void write_requests_csv(const ServeResult& result, std::ostream& out);
void write_iterations_csv(const ServeResult& result, std::ostream& out);
void print_serve_table(const ServeResult& result, const ServeSummary& summary, std::ostream& out);
// Trace Event Format: the device's iterations on one track, each request's wait, prefill and
// decode on a track of its own.
void write_serve_trace(const ServeResult& result, std::ostream& out);

// `tessel serve --search`: placements.csv (a row per placement, best first), the table it
// prints, and summary.json (the best and the objectives).
void write_placements_csv(const std::vector<PlacementOutcome>& outcomes, std::ostream& out);
void print_placements_table(const std::vector<PlacementOutcome>& outcomes, std::ostream& out);
nlohmann::json placements_summary_json(const std::vector<PlacementOutcome>& outcomes,
                                       const ServiceObjectives& objectives);

}  // namespace tessel::sim
