#include "sim/system/run_support.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "sim/device.h"

namespace tessel::sim {

std::vector<uint64_t> split_layers(const std::vector<uint64_t>& given, uint64_t parts, const std::string& parts_flag,
                                   const workloads::ModelConfig& model) {
  const uint64_t layers = model.num_hidden_layers;
  if (!given.empty()) {
    uint64_t total = 0;
    for (uint64_t count : given) total += count;
    if (given.size() != parts || std::find(given.begin(), given.end(), 0) != given.end() || total != layers) {
      throw SettingError("--stage-layers: give " + std::to_string(parts) + " counts of at least 1 adding up to " +
                         model.name + "'s " + std::to_string(layers) + " layers");
    }
    return given;
  }
  if (parts > layers) {
    throw SettingError(parts_flag + ": " + model.name + " has " + std::to_string(layers) +
                       " layers, fewer than the stages");
  }
  std::vector<uint64_t> split(parts, layers / parts);
  for (uint64_t s = 0; s < layers % parts; ++s) ++split[s];
  return split;
}

std::vector<LinkLevelUsage> link_usage(const arch::SystemSpec& system, const TimelineResult& timeline,
                                       uint64_t devices_per_stage, double clock_hz) {
  std::vector<LinkLevelUsage> levels;
  for (size_t l = 0; l < system.levels.size(); ++l) {
    LinkLevelUsage usage{system.levels[l].name, 0, 0, 0};
    uint64_t busiest = 0;
    for (const auto& [key, link] : timeline.links) {
      if (key.level != l) continue;
      usage.bytes += link.bytes * static_cast<double>(devices_per_stage);
      busiest = std::max(busiest, link.busy_ticks);
    }
    usage.busiest_seconds = timeline.seconds(busiest, clock_hz);
    usage.utilization =
        timeline.end_ticks == 0 ? 0 : static_cast<double>(busiest) / static_cast<double>(timeline.end_ticks);
    levels.push_back(usage);
  }
  return levels;
}

std::string gigabytes(uint64_t bytes) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1e9;
  return text.str();
}

}  // namespace tessel::sim
