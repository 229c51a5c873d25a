#include "arch/gpu/gpu_spec.h"

#include <stdexcept>
#include <string>

namespace tessel::arch {

std::optional<double> GpuSpec::tensor_macs_per_cycle_per_sm(DType dtype) const {
  for (const TensorRate& rate : tensor) {
    if (rate.dtype == dtype) return rate.macs_per_cycle_per_sm;
  }
  return std::nullopt;
}

double GpuSpec::peak_macs_per_cycle(DType dtype) const {
  const std::optional<double> rate = tensor_macs_per_cycle_per_sm(dtype);
  if (!rate) throw std::invalid_argument(name + " has no tensor-core rate for " + std::string(to_string(dtype)));
  return *rate * sms;
}

double GpuSpec::tensor_mac_pj(DType dtype) const {
  for (const TensorRate& rate : tensor) {
    if (rate.dtype == dtype) return rate.mac_pj;
  }
  throw std::invalid_argument(name + " has no tensor-core rate for " + std::string(to_string(dtype)));
}

}  // namespace tessel::arch
