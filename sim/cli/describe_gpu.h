// `tessel describe` for a `kind: gpu` file: what the SMs, caches and HBM amount to.
#pragma once

#include <iosfwd>

#include "arch/gpu/gpu_spec.h"

namespace tessel::cli {

void describe_gpu(const arch::GpuSpec& spec, std::ostream& out);

}  // namespace tessel::cli
