#include "arch/fpga/to_systolic.h"

#include "arch/fpga/resources.h"

namespace tessel::arch::fpga {

namespace {

// The buffer as placed: the capacity and ports of all its blocks, which may exceed what
// was asked for (blocks come whole, and bandwidth can need more than capacity does).
BufferSpec placed_buffer(const BufferRequest& request, const BlockRamSpec& block) {
  const uint64_t blocks = blocks_for(request, block);
  const double count = static_cast<double>(blocks);
  return {request.name,
          request.holds,
          blocks * block.capacity_bytes,
          count * block.read_bytes_per_cycle,
          count * block.write_bytes_per_cycle,
          static_cast<uint32_t>(blocks),
          block.read_energy_pj_per_byte,
          block.write_energy_pj_per_byte,
          0.0};
}

}  // namespace

SystolicSpec to_systolic_spec(const FpgaSpec& fpga) {
  const DesignSpec& design = fpga.design;
  const MemoryChannelsSpec& memory = fpga.fabric.memory;
  SystolicSpec spec;
  spec.name = fpga.name;
  spec.source_file = fpga.source_file;
  spec.clock_hz = fpga.clock_hz;
  spec.cores = design.compute_units;
  spec.arrays_per_core = 1;
  spec.array = design.array;
  spec.dtypes = design.dtypes;
  for (const BufferRequest& request : design.buffers) {
    spec.buffers.push_back(placed_buffer(request, block_ram(fpga.fabric, request.block)));
  }
  const FpgaVectorUnitSpec& vector = design.vector_unit;
  spec.vector_unit = {vector.lanes,
                      vector.ops_per_lane_per_cycle,
                      static_cast<double>(vector.special_units),
                      vector.buffer_bytes_per_cycle,
                      vector.op_energy_pj,
                      vector.special_op_energy_pj,
                      0.0};
  spec.dram = {false,
               static_cast<double>(design.memory_channels) * memory.channel_bytes_per_s / fpga.clock_hz,
               latency_cycles(memory.latency_ns, fpga.clock_hz), memory.energy_pj_per_byte,
               // Each channel owns its share of the memory (HBM pseudo-channels, DDR DIMMs).
               memory.capacity_bytes * design.memory_channels / memory.channels};
  // A fabric's die is fixed: area is not what a design spends, its resources are.
  spec.other_area_mm2 = 0.0;
  spec.resources = resource_use(fpga);
  return spec;
}

}  // namespace tessel::arch::fpga
