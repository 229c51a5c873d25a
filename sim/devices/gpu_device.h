// A GPU as a device: Linear ops are GEMMs mapped to thread-block tiles (mapper/gpu_mapper)
// and simulated in waves over the SMs (sim/gpu_gemm_engine); every other op is one kernel
// planned by mapper/gpu_kernel_plan; every kernel pays the launch overhead.
#pragma once

#include <functional>

#include "arch/gpu/gpu_spec.h"
#include "sim/device.h"
#include "sim/devices/power_limited_run.h"
#include "sim/gpu_gemm_engine.h"

namespace tessel::sim {

class GpuDevice : public Device {
 public:
  explicit GpuDevice(arch::GpuSpec spec);

  const DeviceFacts& facts() const override { return facts_; }
  RunSettings configure(RunSettings settings) override;
  OpResult run(const workloads::Op& op, const RunSettings& settings) override;
  uint64_t transactions(const workloads::Op& op, const RunSettings& settings) override;
  arch::EnergyBreakdown energy(const arch::Activity& activity, arch::DType dtype) const override;
  void describe(std::ostream& out) const override;
  MappingReport explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings, size_t top,
                                uint64_t seed) override;

  const arch::GpuSpec& spec() const { return spec_; }

 private:
  // A Linear `op` as `choice` planned and simulated it on `spec`.
  OpResult linear_result(const arch::GpuSpec& spec, const GpuGemmChoice& choice, const workloads::Op& op,
                         const RunSettings& settings) const;
  OpResult run_kernel(const arch::GpuSpec& spec, const workloads::Op& op, const RunSettings& settings) const;

  arch::GpuSpec spec_;
  DeviceFacts facts_;
  PowerLimitedRun<arch::GpuSpec> clock_{spec_};
};

}  // namespace tessel::sim
