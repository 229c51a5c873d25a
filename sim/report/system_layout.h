// The reports of a model run on a system: the model layout (one device's ops of each stage,
// with a `stage` column when there are several) and, in summary.json, the system's figures
// from the timeline (time, TTFT, TPOT, tokens/s), every device's busy and idle time and
// memory against its capacity, every level of links' bytes and busiest link, and the plan.
// Activity and energy figures are one device's on average; group_energy_pj is every
// device's and link's.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/report/common.h"
#include "sim/stats.h"
#include "sim/system/run_system.h"

namespace tessel::sim {

nlohmann::json system_summary_json(const SystemRunResult& result);
void write_system_ops_csv(const SystemRunResult& result, std::ostream& out);
StatGroup system_stats_tree(const SystemRunResult& result);
void print_system_table(const SystemRunResult& result, std::ostream& out);

// Each level of links' bytes, busiest link's busy time and utilization: summary.json's
// "links", the stats tree's "links" group, and the table's lines.
nlohmann::json links_json(const std::vector<LinkLevelUsage>& links);
void add_link_stats(StatGroup& root, const std::vector<LinkLevelUsage>& links);
void print_link_lines(const std::vector<LinkLevelUsage>& links, std::ostream& out);

// Where the timeline puts each stage's work and its links' (compute, collectives, sends), in
// the Trace Event Format Perfetto and chrome://tracing open: one track per stage's device and
// per stage and level of links; no events unless the run recorded them. Written as it goes:
// a long run's trace has hundreds of thousands of events.
void write_trace(const SystemRunResult& result, std::ostream& out);

// The same for any timeline, its process named `process`.
void write_timeline_trace(const TimelineResult& timeline, const std::string& process, double clock_hz,
                          std::ostream& out);

}  // namespace tessel::sim
