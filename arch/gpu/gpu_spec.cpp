#include "arch/gpu/gpu_spec.h"

namespace tessel::arch {

std::optional<double> GpuSpec::tensor_macs_per_cycle_per_sm(DType dtype) const {
  for (const TensorRate& rate : tensor) {
    if (rate.dtype == dtype) return rate.macs_per_cycle_per_sm;
  }
  return std::nullopt;
}

}  // namespace tessel::arch
