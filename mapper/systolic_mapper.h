// First mapper: for a GEMM on a systolic accelerator, tries every spatial split across
// arrays, SRAM tile (array-aligned sizes doubling up to the whole dimension), loop order
// and buffering that fits the buffers, and keeps the one the analytic model ranks best:
// fewest estimated cycles, then fewest DRAM bytes, then least energy.
#pragma once

#include <cstdint>

#include "arch/spec.h"
#include "mapper/cost_model.h"
#include "mapper/mapping.h"
#include "workloads/gemm.h"

namespace tessel::mapper {

struct MapResult {
  GemmMapping mapping;
  MappingCost cost;
  uint64_t considered;  // mappings costed (those that fit)
};

// Throws std::runtime_error when the format is unsupported or no tile fits the buffers.
MapResult map_gemm(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype);

// Whether every buffer can hold the mapping's tiles (twice when double-buffered).
bool fits_buffers(const arch::SystolicSpec& spec, const GemmMapping& mapping);

}  // namespace tessel::mapper
