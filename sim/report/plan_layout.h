// The reports of a search over training plans: plans.csv (one row a plan, fastest first, those
// that do not fit last), the printed table of the best, and summary.json.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/system/plan_search.h"

namespace tessel::sim {

void write_plans_csv(const std::vector<PlanOutcome>& plans, std::ostream& out);
void print_plans_table(const std::vector<PlanOutcome>& plans, size_t rows, std::ostream& out);
// plans, fitting, the best plan's figures (null when none fits), and the model's warnings.
nlohmann::json plans_summary_json(const std::vector<PlanOutcome>& plans, const std::vector<std::string>& warnings);

}  // namespace tessel::sim
