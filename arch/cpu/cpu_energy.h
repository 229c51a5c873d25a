// Energy of a CPU's actions (pJ), from its file's table: engine MACs per format, vector and
// special-function ops, bytes from L3 into the cores' L2, and DDR bytes.
#pragma once

#include "arch/cpu/cpu_spec.h"
#include "arch/energy.h"

namespace tessel::arch {

// `a.macs` run on `engine` (nullptr: the fastest engine for `dtype`); the bytes the cores'
// L2s took from L3 are a.buffer_read_bytes[Input].
EnergyBreakdown energy_of(const CpuSpec& spec, DType dtype, const Activity& a, const CpuMatrixEngine* engine = nullptr);

}  // namespace tessel::arch
