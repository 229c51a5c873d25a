// A system: devices of one architecture and the links between them, in levels (a node's GPUs
// on NVLink, nodes on InfiniBand; a TPU slice's ICI torus; cards on Ethernet). Device i's
// position at each level comes from its index, innermost level fastest, so consecutive
// indices share the innermost links.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "arch/link/link_spec.h"

namespace tessel::arch {

struct SystemSpec {
  std::string name;
  std::string source_file;
  std::string device_file;  // the architecture file of every device
  ArchSpec device;
  std::vector<LevelSpec> levels;  // innermost first; none for a single device

  uint64_t device_count() const;
  // Device `index`'s coordinate along every dimension of every level, innermost first.
  std::vector<std::vector<uint32_t>> coordinates(uint64_t index) const;
};

// A system of one device and no links: what `--arch FILE` runs on.
SystemSpec single_device_system(ArchSpec device);

// The node a GPU file's `nvlink` section describes: gpus_per_node GPUs on one NVSwitch, with
// the section's bandwidth, latencies and achievable fraction. The GPU must have the section.
SystemSpec gpu_node_system(const GpuSpec& gpu);

// The devices an architecture file's own links connect: a GPU file's NVLink node, or else the
// device alone.
SystemSpec node_of(ArchSpec device);

}  // namespace tessel::arch
