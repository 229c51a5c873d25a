// Architectures built in code for tests, so a test states every number it depends on.
#pragma once

#include <cstdint>
#include <limits>

#include "arch/spec.h"

namespace tessel::testing {

// One R×C array, one int8/fp16/bf16/fp32-capable core with separate 1 GiB buffers (nothing
// ever spills) and unlimited DRAM: SCALE-Sim's setting for its reference cycle counts.
// Its vector unit: 16 lanes of 1 op a cycle, 4 special ops a cycle, 1 pJ an op and 4 pJ a
// special op, and a buffer path so wide it never limits.
inline arch::SystolicSpec ideal_array(uint32_t rows, uint32_t cols, arch::Dataflow dataflow,
                                      bool double_buffered = false) {
  arch::SystolicSpec spec;
  spec.name = "test_" + std::to_string(rows) + "x" + std::to_string(cols);
  spec.source_file = "<test>";
  spec.clock_hz = 1e9;
  spec.cores = 1;
  spec.arrays_per_core = 1;
  spec.array = {rows, cols, dataflow, double_buffered, 100.0};
  spec.dtypes = {{arch::DType::Int8, 1.0, 0.2},
                 {arch::DType::Fp16, 1.0, 1.0},
                 {arch::DType::Bf16, 1.0, 0.8},
                 {arch::DType::Fp32, 1.0, 3.7}};
  const double huge = 1e12;  // bytes a cycle: ports never limit
  spec.buffers = {{"ifmap", {arch::Operand::Input}, uint64_t{1} << 30, huge, huge, 1, 1.0, 1.5, 1.0},
                  {"filter", {arch::Operand::Weight}, uint64_t{1} << 30, huge, huge, 1, 1.0, 1.5, 1.0},
                  {"ofmap", {arch::Operand::Output}, uint64_t{1} << 30, huge, huge, 1, 1.0, 1.5, 1.0}};
  spec.vector_unit = {16, 1.0, 4.0, huge, 1.0, 4.0, 0.0};
  spec.dram = {true, 0.0, 0, 20.0};
  spec.other_area_mm2 = 0.0;
  return spec;
}

// The same with a finite DRAM channel.
inline arch::SystolicSpec finite_dram(arch::SystolicSpec spec, double bytes_per_cycle, uint64_t latency) {
  spec.dram = {false, bytes_per_cycle, latency, 20.0};
  return spec;
}

}  // namespace tessel::testing
