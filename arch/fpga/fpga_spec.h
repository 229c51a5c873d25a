// An FPGA accelerator as plain values: the fabric (what the device offers) and the design
// built on it (compute units of a PE array, buffers placed in block RAM, a vector unit).
// config_fpga fills it from a `kind: fpga` file; fpga/resources counts what the design takes
// and fpga/to_systolic turns it into the SystolicSpec every engine runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/spec.h"

namespace tessel::arch::fpga {

// One kind of on-chip RAM block (BRAM36, URAM288): its count and what one block offers.
struct BlockRamSpec {
  uint64_t count;
  uint64_t capacity_bytes;      // data bytes one block holds
  double read_bytes_per_cycle;  // one block's read port, data bytes a design-clock cycle
  double write_bytes_per_cycle;
  double read_energy_pj_per_byte;
  double write_energy_pj_per_byte;
};

// Off-chip memory: HBM pseudo-channels or DDR channels, each of the same bandwidth.
struct MemoryChannelsSpec {
  std::string type;  // "HBM2", "DDR4": names the resource in reports
  uint64_t channels;
  double channel_bytes_per_s;
  double latency_ns;
  double energy_pj_per_byte;
  uint64_t capacity_bytes;  // all channels together; 0: not stated
};

struct FabricSpec {
  std::string part;
  uint64_t dsps;
  uint64_t luts;
  uint64_t ffs;
  BlockRamSpec bram;  // BRAM36
  BlockRamSpec uram;  // URAM288
  MemoryChannelsSpec memory;
};

// Logic one instance of something takes.
struct LogicCost {
  uint64_t dsps;
  uint64_t luts;
  uint64_t ffs;
};

enum class BlockRam { Bram, Uram };

// A buffer of a compute unit as the design asks for it; placement picks the blocks.
struct BufferRequest {
  std::string name;
  std::vector<Operand> holds;
  BlockRam block;
  uint64_t capacity_bytes;
  double read_bytes_per_cycle;
  double write_bytes_per_cycle;
};

struct FpgaVectorUnitSpec {
  uint32_t lanes;
  double ops_per_lane_per_cycle;
  uint32_t special_units;  // exp, rsqrt, tanh, reciprocal pipelines, one result a cycle each
  double buffer_bytes_per_cycle;
  LogicCost lane;
  LogicCost special_unit;
  double op_energy_pj;
  double special_op_energy_pj;
};

// Resources the design takes besides its compute units: the platform shell, controllers.
struct Overhead {
  uint64_t dsps;
  uint64_t luts;
  uint64_t ffs;
  uint64_t bram;
  uint64_t uram;
};

struct DesignSpec {
  uint32_t compute_units;  // each: one PE array, its buffers and a vector unit
  uint64_t memory_channels;
  ArraySpec array;
  LogicCost pe;                  // one PE; its formats' packing is in dtypes
  std::vector<DTypeSpec> dtypes;  // MACs a PE does a cycle per format
  std::vector<BufferRequest> buffers;  // per compute unit
  FpgaVectorUnitSpec vector_unit;      // per compute unit
  Overhead overhead;
};

struct FpgaSpec {
  std::string name;
  std::string source_file;
  double clock_hz;  // the design's clock
  FabricSpec fabric;
  DesignSpec design;
};

}  // namespace tessel::arch::fpga
