// A TPU-like systolic accelerator (and any FPGA design, which converts to one) as a device:
// Linear ops are GEMMs mapped by mapper/systolic_mapper and simulated tile by tile on the
// SystemC engine (sim/engine); every other op streams through the cores' buffers, arrays and
// vector units (mapper/stream_plan, sim/stream_engine).
#pragma once

#include <memory>

#include "arch/spec.h"
#include "mapper/systolic_mapper.h"
#include "sim/device.h"

namespace tessel::sim {

// The roofline of a GEMM: its MACs at every array's peak, or its compulsory DRAM bytes at
// full bandwidth.
// weight_bytes: a packed weight's bytes an element (0: in dtype).
Roofline systolic_gemm_roofline(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype,
                                double weight_bytes = 0);
// A linear's weight bytes an element as its recipe stores them (scales included); 0 when in its format.
double packed_weight_bytes(const workloads::Op& op, arch::DType dtype);
// A linear's pruned weight's kept share; 1 when dense.
double weight_density(const workloads::Op& op);

class SystolicDevice : public Device {
 public:
  explicit SystolicDevice(arch::SystolicSpec spec);

  const DeviceFacts& facts() const override { return facts_; }
  RunSettings configure(RunSettings settings) override;
  OpResult run(const workloads::Op& op, const RunSettings& settings) override;
  uint64_t transactions(const workloads::Op& op, const RunSettings& settings) override;
  arch::EnergyBreakdown energy(const arch::Activity& activity, arch::DType dtype) const override;
  void describe(std::ostream& out) const override;
  MappingReport explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings, size_t top,
                                uint64_t seed) override;

  const arch::SystolicSpec& spec() const { return spec_; }

 private:
  // The mapping a linear's GEMM runs with: the pinned one, or the mapper's (memoised).
  mapper::MapResult linear_mapping(const workloads::Gemm& gemm, const RunSettings& settings, double weight_bytes = 0,
                                   double weight_density = 1);
  OpResult run_linear(const workloads::Op& op, const RunSettings& settings);
  OpResult run_streamed(const workloads::Op& op, const RunSettings& settings) const;
  void refresh_facts();

  arch::SystolicSpec spec_;
  DeviceFacts facts_;
  // Identical GEMMs are mapped once; reset when a setting changes the spec.
  std::unique_ptr<mapper::MappingCache> mappings_;
};

}  // namespace tessel::sim
