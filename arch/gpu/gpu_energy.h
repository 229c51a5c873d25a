// What a GPU's energy table charges for an operator's activity at the nominal clock:
// tensor-core MACs in the operator's format, CUDA-core and special-function ops, bytes from L2
// into the SMs (counted as buffer reads) and HBM bytes.
#pragma once

#include "arch/energy.h"
#include "arch/gpu/gpu_spec.h"

namespace tessel::arch {

EnergyBreakdown energy_of(const GpuSpec& spec, DType dtype, const Activity& activity);

}  // namespace tessel::arch
