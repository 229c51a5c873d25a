#include "cli/validation/prediction.h"

#include <sstream>
#include <utility>

namespace tessel::validation {

namespace {

// The device's result for `op` in `dtype`, timing only; nothing when the device cannot run it.
Prediction run(sim::Device& device, const workloads::Op& op, arch::DType dtype, uint64_t tensor_parallel,
               const std::string& model) {
  if (!device.facts().supports(dtype)) return skip(std::string(arch::to_string(dtype)) + " not on this device");
  sim::RunSettings settings;
  settings.dtype = dtype;
  settings.check = sim::CheckMode::Never;
  settings.tensor_parallel = tensor_parallel;
  try {
    settings = device.configure(settings);
  } catch (const sim::SettingError& error) {
    return skip(error.what());
  }
  const sim::OpResult result = device.run(op, settings);
  return {result.seconds(), model + ", " + result.mapping, ""};
}

std::string describe(const workloads::Op& op, arch::DType dtype) {
  return workloads::kind_name(op.kind) + " " + op.shape_text() + " " + std::string(arch::to_string(dtype));
}

}  // namespace

Prediction skip(std::string reason) { return {0, "", std::move(reason)}; }

Prediction predict_gemm(sim::Device& device, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype) {
  std::ostringstream model;
  model << "gemm " << m << "x" << n << "x" << k << " " << arch::to_string(dtype);
  return run(device, workloads::Op("gemm", workloads::OpKind::Linear, workloads::LinearShape{m, n, k}), dtype, 1,
             model.str());
}

Prediction predict_kernel(sim::Device& device, const workloads::Op& op, arch::DType dtype) {
  return run(device, op, dtype, 1, describe(op, dtype));
}

Prediction predict_all_reduce(sim::Device& device, uint32_t devices, double bytes) {
  std::ostringstream model;
  model << "all-reduce of " << bytes / 1e6 << " MB on " << devices << " devices";
  // One byte an element: the op's elements are the message's bytes.
  const workloads::Op op("all_reduce", workloads::OpKind::AllReduce,
                         workloads::CollectiveShape{static_cast<uint64_t>(bytes), 1, devices});
  return run(device, op, arch::DType::Int8, devices, model.str());
}

}  // namespace tessel::validation
