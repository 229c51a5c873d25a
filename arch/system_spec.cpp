#include "arch/system_spec.h"

#include <stdexcept>

namespace tessel::arch {

uint64_t SystemSpec::device_count() const {
  uint64_t devices = 1;
  for (const LevelSpec& level : levels) devices *= level.size();
  return devices;
}

std::vector<std::vector<uint32_t>> SystemSpec::coordinates(uint64_t index) const {
  std::vector<std::vector<uint32_t>> position;
  for (const LevelSpec& level : levels) {
    std::vector<uint32_t>& at = position.emplace_back();
    for (uint32_t dim : level.dims) {
      at.push_back(static_cast<uint32_t>(index % dim));
      index /= dim;
    }
  }
  return position;
}

SystemSpec single_device_system(ArchSpec device) {
  SystemSpec system;
  system.name = name_of(device);
  system.source_file = source_file_of(device);
  system.device_file = system.source_file;
  system.device = std::move(device);
  return system;
}

SystemSpec gpu_node_system(const GpuSpec& gpu) {
  if (!gpu.nvlink) throw std::invalid_argument(gpu.source_file + " has no nvlink section: its GPUs have no links");
  const NvlinkSpec& nvlink = *gpu.nvlink;
  SystemSpec system = single_device_system(gpu);
  system.name = gpu.name + " node";
  LevelSpec level;
  level.name = "nvlink";
  level.topology = Topology::Switch;
  level.dims = {nvlink.gpus_per_node};
  level.link = {nvlink.bytes_per_second, nvlink.step_latency_s, nvlink.achievable_fraction, nvlink.energy_pj_per_byte};
  level.collective_latency_s = nvlink.collective_latency_s;
  level.in_switch_reduction = nvlink.in_switch_reduction;
  system.levels.push_back(level);
  return system;
}

SystemSpec node_of(ArchSpec device) {
  if (const auto* gpu = std::get_if<GpuSpec>(&device); gpu && gpu->nvlink) return gpu_node_system(*gpu);
  return single_device_system(std::move(device));
}

}  // namespace tessel::arch
