// What an FPGA design takes of its fabric: block placement of the buffers and the count of
// every resource, against what the device has.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arch/fpga/fpga_spec.h"

namespace tessel::arch::fpga {

const BlockRamSpec& block_ram(const FabricSpec& fabric, BlockRam kind);
std::string_view block_ram_name(BlockRam kind);  // "BRAM36", "URAM"

// Blocks a buffer takes: enough to hold its capacity, enough read ports for its read
// bandwidth and enough write ports for its write bandwidth; the most of the three.
uint64_t blocks_for(const BufferRequest& buffer, const BlockRamSpec& block);

// DSPs, LUTs, FFs, BRAM36, URAM and memory channels the design takes, in that order: the
// compute units (PE array, buffers, vector unit) times their count, plus the overhead.
std::vector<ResourceUse> resource_use(const FpgaSpec& spec);

// One clause per resource over budget, "DSP: needs 10,240, fabric has 9,024 (1,216 over)",
// joined by "; "; empty when the design fits.
std::string over_budget(const std::vector<ResourceUse>& resources);

// 1234567 as "1,234,567".
std::string with_thousands(uint64_t value);

}  // namespace tessel::arch::fpga
