#include "sim/stats.h"

#include <cmath>
#include <utility>

namespace tessel::sim {

StatGroup::StatGroup(std::string name, std::string description)
    : name_(std::move(name)), description_(std::move(description)) {}

StatGroup& StatGroup::add(std::string name, uint64_t value, std::string unit, std::string description) {
  stats_.push_back({std::move(name), value, std::move(unit), std::move(description)});
  return *this;
}

StatGroup& StatGroup::add(std::string name, double value, std::string unit, std::string description) {
  stats_.push_back({std::move(name), value, std::move(unit), std::move(description)});
  return *this;
}

StatGroup& StatGroup::add(std::string name, std::string value, std::string description) {
  stats_.push_back({std::move(name), std::move(value), "text", std::move(description)});
  return *this;
}

StatGroup& StatGroup::child(std::string name, std::string description) {
  children_.emplace_back(std::move(name), std::move(description));
  return children_.back();
}

StatGroup& StatGroup::adopt(const StatGroup& group) {
  children_.push_back(group);
  return children_.back();
}

nlohmann::json json_number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json StatGroup::to_json() const {
  nlohmann::json stats = nlohmann::json::object();
  for (const Stat& stat : stats_) {
    nlohmann::json value;
    if (const auto* count = std::get_if<uint64_t>(&stat.value)) value = *count;
    if (const auto* real = std::get_if<double>(&stat.value)) value = json_number(*real);
    if (const auto* text = std::get_if<std::string>(&stat.value)) value = *text;
    stats[stat.name] = {{"value", value}, {"unit", stat.unit}, {"description", stat.description}};
  }
  nlohmann::json groups = nlohmann::json::object();
  for (const StatGroup& group : children_) groups[group.name()] = group.to_json();
  return {{"description", description_}, {"stats", stats}, {"groups", groups}};
}

}  // namespace tessel::sim
