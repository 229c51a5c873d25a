// What a GPU's energy table charges for an operator's activity: tensor-core MACs, CUDA-core and
// special-function ops, bytes from L2 into the SMs (counted as buffer reads) and HBM bytes.
#pragma once

#include "arch/energy.h"
#include "arch/gpu/gpu_spec.h"

namespace tessel::arch {

EnergyBreakdown energy_of(const GpuSpec& spec, const Activity& activity);

}  // namespace tessel::arch
