// Pieces every report shares: CSV quoting, and the activity, energy and numerics figures as
// stats-tree entries and JSON.
#pragma once

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "arch/energy.h"
#include "sim/numerics/gemm_check.h"
#include "sim/stats.h"

namespace tessel::sim {

// The text as one CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& text);

void add_activity_stats(StatGroup& group, const arch::Activity& activity);
void add_energy_stats(StatGroup& group, const arch::EnergyBreakdown& energy);
void add_numerics_stats(StatGroup& group, const NumericsReport& numerics);

// `name` in `directory` (created when missing), open for writing; throws std::runtime_error
// naming the path when it cannot be.
std::ofstream open_report(const std::string& directory, const char* name);

// {"mac", "sram", "dram", "vector"} in pJ.
nlohmann::json energy_breakdown_json(const arch::EnergyBreakdown& energy);

}  // namespace tessel::sim
