#include "arch/fpga/resources.h"

#include <algorithm>
#include <cmath>

namespace tessel::arch::fpga {

namespace {

// Ports of `per_block` bytes a cycle that carry `needed`; the scale keeps rounding noise in
// the quotient from adding a whole block.
uint64_t ports_for(double needed, double per_block) {
  return static_cast<uint64_t>(std::ceil(needed / per_block * (1.0 - 1e-12)));
}

uint64_t blocks_of(const FpgaSpec& spec, BlockRam kind) {
  uint64_t blocks = 0;
  for (const BufferRequest& buffer : spec.design.buffers) {
    if (buffer.block == kind) blocks += blocks_for(buffer, block_ram(spec.fabric, kind));
  }
  return blocks * spec.design.compute_units;
}

}  // namespace

const BlockRamSpec& block_ram(const FabricSpec& fabric, BlockRam kind) {
  return kind == BlockRam::Bram ? fabric.bram : fabric.uram;
}

std::string_view block_ram_name(BlockRam kind) { return kind == BlockRam::Bram ? "BRAM36" : "URAM"; }

uint64_t blocks_for(const BufferRequest& buffer, const BlockRamSpec& block) {
  return std::max({ceil_div(buffer.capacity_bytes, block.capacity_bytes),
                   ports_for(buffer.read_bytes_per_cycle, block.read_bytes_per_cycle),
                   ports_for(buffer.write_bytes_per_cycle, block.write_bytes_per_cycle)});
}

std::vector<ResourceUse> resource_use(const FpgaSpec& spec) {
  const DesignSpec& design = spec.design;
  const FpgaVectorUnitSpec& vector = design.vector_unit;
  const uint64_t pes = uint64_t{design.array.rows} * design.array.cols;
  const auto per_unit = [&](uint64_t LogicCost::*part) {
    return pes * (design.pe.*part) + vector.lanes * (vector.lane.*part) +
           vector.special_units * (vector.special_unit.*part);
  };
  const uint64_t units = design.compute_units;
  const FabricSpec& fabric = spec.fabric;
  return {
      {"DSP", units * per_unit(&LogicCost::dsps) + design.overhead.dsps, fabric.dsps},
      {"LUT", units * per_unit(&LogicCost::luts) + design.overhead.luts, fabric.luts},
      {"FF", units * per_unit(&LogicCost::ffs) + design.overhead.ffs, fabric.ffs},
      {"BRAM36", blocks_of(spec, BlockRam::Bram) + design.overhead.bram, fabric.bram.count},
      {"URAM", blocks_of(spec, BlockRam::Uram) + design.overhead.uram, fabric.uram.count},
      {fabric.memory.type + " channels", design.memory_channels, fabric.memory.channels},
  };
}

std::string over_budget(const std::vector<ResourceUse>& resources) {
  std::string message;
  for (const ResourceUse& resource : resources) {
    if (resource.used <= resource.available) continue;
    if (!message.empty()) message += "; ";
    message += resource.name + ": needs " + with_thousands(resource.used) + ", fabric has " +
               with_thousands(resource.available) + " (" +
               with_thousands(resource.used - resource.available) + " over)";
  }
  return message;
}

std::string with_thousands(uint64_t value) {
  std::string digits = std::to_string(value);
  for (size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
  return digits;
}

}  // namespace tessel::arch::fpga
