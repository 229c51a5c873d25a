// A CPU as a device: Linear ops are GEMMs blocked for its caches (mapper/cpu_gemm_plan) on
// the fastest of its engines and simulated over its cores (sim/cpu_gemm_engine); every other
// op is one parallel region planned by mapper/cpu_kernel_plan; each pays the region's fork
// and join.
#pragma once

#include "arch/cpu/cpu_spec.h"
#include "sim/cpu_gemm_engine.h"
#include "sim/device.h"
#include "sim/devices/power_limited_run.h"

namespace tessel::sim {

class CpuDevice : public Device {
 public:
  explicit CpuDevice(arch::CpuSpec spec);

  const DeviceFacts& facts() const override { return facts_; }
  RunSettings configure(RunSettings settings) override;
  OpResult run(const workloads::Op& op, const RunSettings& settings) override;
  uint64_t transactions(const workloads::Op& op, const RunSettings& settings) override;
  arch::EnergyBreakdown energy(const arch::Activity& activity, arch::DType dtype) const override;
  void describe(std::ostream& out) const override;
  MappingReport explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings, size_t top,
                                uint64_t seed) override;

  const arch::CpuSpec& spec() const { return spec_; }

 private:
  // A Linear `op` as `choice` planned and simulated it on `spec`.
  OpResult linear_result(const arch::CpuSpec& spec, const CpuGemmChoice& choice, const workloads::Op& op,
                         const RunSettings& settings) const;
  OpResult run_kernel(const arch::CpuSpec& spec, const workloads::Op& op, const RunSettings& settings) const;

  arch::CpuSpec spec_;
  DeviceFacts facts_;
  PowerLimitedRun<arch::CpuSpec> clock_{spec_};
};

}  // namespace tessel::sim
