// The hardware description of a systolic accelerator, as plain values.
// Loaders (arch/config_yaml, arch/config_scalesim) fill it; models only read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/power.h"
#include "arch/types.h"

namespace tessel::arch {

// A number format the array supports, its MAC rate and MAC energy.
struct DTypeSpec {
  DType dtype;
  double macs_per_pe_per_cycle;  // 1 for one MAC a PE a cycle
  double mac_energy_pj;          // one multiply-accumulate
};

// One on-chip SRAM buffer of a core. Each GEMM operand lives in exactly one buffer;
// a unified buffer holds several.
struct BufferSpec {
  std::string name;
  std::vector<Operand> holds;
  uint64_t capacity_bytes;
  double read_bytes_per_cycle;
  double write_bytes_per_cycle;
  uint32_t banks;
  double read_energy_pj_per_byte;
  double write_energy_pj_per_byte;
  double area_mm2;

  bool holds_operand(Operand operand) const;
};

// Off-chip memory shared by every core.
struct DramSpec {
  bool unlimited;           // infinite bandwidth, zero latency (SCALE-Sim's CALC mode)
  double bytes_per_cycle;   // at the accelerator clock; ignored when unlimited
  uint64_t latency_cycles;  // from request to first byte
  double energy_pj_per_byte;
  uint64_t capacity_bytes = 0;  // 0: not stated (timing never depends on it)
};

// What the PEs do with a pruned weight's zeros, in Sparseloop's terms: nothing (the MAC runs on
// the zero), gate (the MAC's energy is saved, not its cycle) or skip (the kept values stream
// compacted: the cycle and the energy are saved).
enum class ZeroHandling { None, Gate, Skip };
std::optional<ZeroHandling> parse_zero_handling(std::string_view text);  // "none", "gate", "skip"

struct ArraySpec {
  uint32_t rows;
  uint32_t cols;
  Dataflow dataflow;
  // A second weight register per PE lets the next fold's stationary operand load while
  // this fold streams (TPU v1). SCALE-Sim assumes false: each fold fills, streams, drains.
  bool weights_double_buffered;
  double pe_area_um2;
  ZeroHandling weight_zeros = ZeroHandling::None;
  // An N:M pattern the PEs take natively (sparse: "2:4"): each PE holds a kept weight and its
  // index, and a multiplexer picks the matching activation of the group's M (VEGETA, HPCA 2023;
  // NVIDIA's sparse tensor cores in an array). A weight pruned to exactly that pattern streams
  // compressed along K, so its folds are the kept values'; 0: none.
  uint32_t sparse_keep = 0;
  uint32_t sparse_group = 0;
};

// The vector unit beside a core's arrays: it runs every operator that is not a matrix
// multiply (softmax, norms, activations, element-wise).
struct VectorUnitSpec {
  uint32_t lanes;
  double ops_per_lane_per_cycle;  // adds, muls, compares, max
  double special_ops_per_cycle;   // exp, rsqrt, tanh, reciprocal: whole-unit throughput
  double buffer_bytes_per_cycle;  // its own path to the core's buffers, reads + writes
  double op_energy_pj;          // one ALU op
  double special_op_energy_pj;  // one special-function op
  double area_mm2;
};

// What a design takes of one resource of the device it is built on (FPGA designs: DSP
// slices, block RAMs, LUTs, memory channels).
struct ResourceUse {
  std::string name;
  uint64_t used;
  uint64_t available;
  double utilization() const { return static_cast<double>(used) / static_cast<double>(available); }
};

struct SystolicSpec {
  std::string name;
  std::string source_file;  // where it was loaded from, for messages and reports
  double clock_hz;
  uint32_t cores;
  uint32_t arrays_per_core;  // arrays of a core share the core's buffers
  ArraySpec array;
  std::vector<DTypeSpec> dtypes;
  std::vector<BufferSpec> buffers;  // per core
  VectorUnitSpec vector_unit;       // one per core
  DramSpec dram;
  double other_area_mm2;  // control, interconnect, I/O: whatever the source gives
  // What the design takes of its device, for designs built on a fixed fabric (kind: fpga);
  // empty for every other architecture.
  std::vector<ResourceUse> resources;
  // What the board draws besides its actions' energy (arch/power.h), without a limit: the
  // clock of an array stays at clock_hz. Absent: its actions' energy alone.
  std::optional<PowerSpec> power;

  uint32_t array_count() const { return cores * arrays_per_core; }
  // The buffer that holds an operand; a validated spec always has exactly one.
  const BufferSpec& buffer_for(Operand operand) const;
  // nullptr when the format is not supported.
  const DTypeSpec* find_dtype(DType dtype) const;
  // Multiply-accumulates a cycle of every array together in `dtype`; throws
  // std::invalid_argument when the format is not supported.
  double peak_macs_per_cycle(DType dtype) const;
  double area_mm2() const;
};

// A latency in whole cycles of a clock, rounded up.
uint64_t latency_cycles(double latency_ns, double clock_hz);

}  // namespace tessel::arch
