#include "cli/validation/prediction.h"

#include <sstream>
#include <stdexcept>
#include <utility>

#include "mapper/collective_plan.h"
#include "sim/system/placement.h"

namespace tessel::validation {

namespace {

// The device's result for `op` in `dtype`, timing only; nothing when the device cannot run it.
Prediction run(sim::Device& device, const workloads::Op& op, arch::DType dtype, const std::string& model) {
  if (!device.facts().supports(dtype)) return skip(std::string(arch::to_string(dtype)) + " not on this device");
  sim::RunSettings settings;
  settings.dtype = dtype;
  settings.check = sim::CheckMode::Never;
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

Hardware::Hardware(arch::SystemSpec links) : system(std::move(links)), device(sim::make_device(system.device)) {}

Prediction skip(std::string reason) { return {0, "", std::move(reason)}; }

Prediction predict_gemm(Hardware& hardware, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype) {
  std::ostringstream model;
  model << "gemm " << m << "x" << n << "x" << k << " " << arch::to_string(dtype);
  return run(*hardware.device, workloads::Op("gemm", workloads::OpKind::Linear, workloads::LinearShape{m, n, k}),
             dtype, model.str());
}

Prediction predict_kernel(Hardware& hardware, const workloads::Op& op, arch::DType dtype) {
  return run(*hardware.device, op, dtype, describe(op, dtype));
}

Prediction predict_all_reduce(const Hardware& hardware, uint32_t devices, double bytes,
                              std::optional<arch::CollectiveAlgorithm> pinned) {
  sim::ParallelPlan plan;
  plan.tensor = devices;
  arch::CollectiveCost cost;
  try {
    const arch::GroupSpan span = sim::Placement(hardware.system, plan).tensor_span();
    cost = mapper::plan_collective(hardware.system.levels, arch::CollectiveKind::AllReduce, span, bytes, pinned);
  } catch (const sim::SettingError& error) {
    return skip(error.what());
  } catch (const std::invalid_argument& error) {
    return skip(error.what());
  }
  std::ostringstream model;
  model << arch::to_string(cost.algorithm) << " all-reduce of " << bytes / 1e6 << " MB on " << devices << " devices";
  return {cost.seconds(), model.str(), ""};
}

}  // namespace tessel::validation
