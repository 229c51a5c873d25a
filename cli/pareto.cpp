#include "cli/pareto.h"

#include <cmath>
#include <set>
#include <sstream>

#include "cli/cli_common.h"

namespace tessel::cli {

namespace {

// Rates: more is better.
bool higher_is_better(const std::string& column) {
  return column == "tokens_per_s" || column == "utilization" || column == "mfu" || column == "hfu";
}

// Whether `a` is at least as good as `b` in every objective and better in one.
bool dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<Goal>& goals) {
  bool better = false;
  for (size_t i = 0; i < goals.size(); ++i) {
    const double gain = goals[i] == Goal::Minimize ? b[i] - a[i] : a[i] - b[i];
    if (gain < 0) return false;
    better = better || gain > 0;
  }
  return better;
}

}  // namespace

std::vector<Objective> parse_objectives(const std::string& text) {
  std::vector<Objective> objectives;
  std::set<std::string> seen;
  std::istringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    Objective objective;
    const size_t colon = item.find(':');
    objective.column = item.substr(0, colon);
    objective.goal = higher_is_better(objective.column) ? Goal::Maximize : Goal::Minimize;
    if (colon != std::string::npos) {
      const std::string direction = item.substr(colon + 1);
      if (direction != "min" && direction != "max") {
        throw FlagError("--pareto '" + text + "': " + item + ": a direction is :min or :max");
      }
      objective.goal = direction == "max" ? Goal::Maximize : Goal::Minimize;
    }
    if (objective.column.empty()) throw FlagError("--pareto '" + text + "': an objective without a column");
    if (!seen.insert(objective.column).second) {
      throw FlagError("--pareto '" + text + "': " + objective.column + " twice");
    }
    objectives.push_back(objective);
  }
  if (objectives.size() < 2 || objectives.size() > 3) {
    throw FlagError("--pareto '" + text + "': give two or three objectives, e.g. seconds,energy_pj");
  }
  return objectives;
}

std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& rows, const std::vector<Goal>& goals) {
  std::vector<size_t> front;
  for (size_t i = 0; i < rows.size(); ++i) {
    bool complete = rows[i].size() == goals.size();
    for (const double value : rows[i]) complete = complete && !std::isnan(value);
    if (!complete) continue;
    bool dominated = false;
    for (size_t j = 0; j < rows.size() && !dominated; ++j) {
      bool other_complete = rows[j].size() == goals.size();
      for (const double value : rows[j]) other_complete = other_complete && !std::isnan(value);
      dominated = j != i && other_complete && dominates(rows[j], rows[i], goals);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace tessel::cli
