#include "sim/system/placement.h"

#include <set>
#include <string>

#include "sim/device.h"

namespace tessel::sim {

Placement::Placement(const arch::SystemSpec& system, const ParallelPlan& plan) : system_(system), plan_(plan) {
  const auto at_least_one = [](uint64_t value, const char* flag) {
    if (value == 0) throw SettingError(std::string(flag) + " must be at least 1");
  };
  at_least_one(plan.tensor, "--tp");
  at_least_one(plan.pipeline, "--pp");
  at_least_one(plan.data, "--dp");
  at_least_one(plan.expert, "--ep");
  const uint64_t devices = system.device_count();
  if (plan.devices() > devices) {
    throw SettingError("--tp " + std::to_string(plan.tensor) + " --pp " + std::to_string(plan.pipeline) + " --dp " +
                       std::to_string(plan.data) + " needs " + std::to_string(plan.devices()) + " devices; " +
                       system.name + " (" + system.source_file + ") has " + std::to_string(devices));
  }
  if (plan.data % plan.expert != 0) {
    throw SettingError("--ep " + std::to_string(plan.expert) + ": expert-parallel groups are made of data-parallel "
                       "replicas, so it must divide --dp " + std::to_string(plan.data));
  }
  tensor_span_ = span_of(0, 1, plan.tensor, "--tp");
  expert_span_ = span_of(0, plan.pipeline * plan.tensor, plan.expert, "--ep");
}

arch::GroupSpan Placement::span(workloads::CollectiveGroup group) const {
  switch (group) {
    case workloads::CollectiveGroup::Tensor: return tensor_span_;
    case workloads::CollectiveGroup::Expert: return expert_span_;
    case workloads::CollectiveGroup::Data: return span_of(0, plan_.pipeline * plan_.tensor, plan_.data, "--dp");
  }
  return tensor_span_;
}

uint64_t Placement::device(uint64_t replica, uint64_t stage, uint64_t shard) const {
  return (replica * plan_.pipeline + stage) * plan_.tensor + shard;
}

arch::GroupSpan Placement::span_of(uint64_t first, uint64_t stride, uint64_t members, const char* flag) const {
  std::vector<std::vector<std::set<uint32_t>>> seen;
  for (const arch::LevelSpec& level : system_.levels) seen.emplace_back(level.dims.size());
  for (uint64_t i = 0; i < members; ++i) {
    const std::vector<std::vector<uint32_t>> at = system_.coordinates(first + i * stride);
    for (size_t l = 0; l < at.size(); ++l) {
      for (size_t d = 0; d < at[l].size(); ++d) seen[l][d].insert(at[l][d]);
    }
  }
  arch::GroupSpan span;
  for (const auto& level : seen) {
    std::vector<uint32_t>& counts = span.members.emplace_back();
    for (const auto& values : level) counts.push_back(static_cast<uint32_t>(values.size()));
  }
  if (span.size() != members) {
    std::string sizes;
    for (const arch::LevelSpec& level : system_.levels) {
      sizes += (sizes.empty() ? "" : ", ") + level.name + " " + std::to_string(level.size());
    }
    throw SettingError(std::string(flag) + " " + std::to_string(members) + ": a group of " + std::to_string(members) +
                       " devices would straddle the groups of " + system_.name + "'s links (" + sizes +
                       "); give a size that divides them or is a multiple of them");
  }
  return span;
}

}  // namespace tessel::sim
