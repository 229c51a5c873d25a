// Pareto fronts of a table of results: the rows no other row beats in every objective at once,
// for `tessel sweep --pareto` and tessel.pareto in Python.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tessel::cli {

enum class Goal { Minimize, Maximize };

struct Objective {
  std::string column;
  Goal goal = Goal::Minimize;
};

// "seconds,energy_pj" or "tokens_per_s:max,energy_pj:min": columns, each minimized unless it
// says :max or is a rate where more is better (tokens_per_s, utilization). Throws FlagError
// for an empty list, more than three objectives, a column twice, or a direction other than
// :min or :max.
std::vector<Objective> parse_objectives(const std::string& text);

// The indices of the rows (each a value per goal) that no other row dominates: at least as good
// in every objective and better in one. A row missing a value (NaN) is on no front. In row
// order.
std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& rows, const std::vector<Goal>& goals);

}  // namespace tessel::cli
