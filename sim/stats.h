// The stats tree: every figure a run reports, with its unit and a one-line description.
// One tree serialises to JSON (stats.json) and, in later layers, to Python dicts.
#pragma once

#include <cstdint>
#include <string>
#include <list>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace tessel::sim {

struct Stat {
  std::string name;
  std::variant<uint64_t, double, std::string> value;
  std::string unit;  // cycles, bytes, pJ, s, ratio, dB, count, text
  std::string description;
};

class StatGroup {
 public:
  StatGroup(std::string name, std::string description);

  StatGroup& add(std::string name, uint64_t value, std::string unit, std::string description);
  StatGroup& add(std::string name, double value, std::string unit, std::string description);
  StatGroup& add(std::string name, std::string value, std::string description);
  StatGroup& child(std::string name, std::string description);
  // Adds a copy of a group made elsewhere (a device's figures of an op) as a child.
  StatGroup& adopt(const StatGroup& group);

  const std::string& name() const { return name_; }
  const std::vector<Stat>& stats() const { return stats_; }
  const std::list<StatGroup>& children() const { return children_; }

  // {"description": ..., "stats": {name: {"value", "unit", "description"}}, "groups": {...}}
  nlohmann::json to_json() const;

 private:
  std::string name_;
  std::string description_;
  std::vector<Stat> stats_;
  std::list<StatGroup> children_;  // a list: child() hands out references that must stay valid
};

// A double for JSON: non-finite values (an exact result's SQNR) become null.
nlohmann::json json_number(double value);

}  // namespace tessel::sim
