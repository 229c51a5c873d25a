// A TPU-like systolic accelerator (and any FPGA design, which converts to one) as a device:
// Linear ops are GEMMs mapped by mapper/systolic_mapper and simulated tile by tile on the
// SystemC engine (sim/engine); every other op streams through the cores' buffers, arrays and
// vector units (mapper/stream_plan, sim/stream_engine).
#pragma once

#include <memory>

#include "arch/spec.h"
#include "mapper/systolic_mapper.h"
#include "sim/device.h"
#include "workloads/gemm.h"

namespace tessel::sim {

// The roofline of a GEMM: its MACs at every array's peak, or its compulsory DRAM bytes at
// full bandwidth.
// weight_bytes, input_bytes: an element's as stored or mapped (0: in dtype; ArrayOperands).
Roofline systolic_gemm_roofline(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype,
                                double weight_bytes = 0, double input_bytes = 0);
// How a linear's GEMM meets the arrays: its weight's bytes an element as stored (scales included; 0
// when in dtype) and the share of it the PEs see as zeros. Where the PEs take the weight's N:M
// pattern natively (array.sparse), K is the kept values' (the weight's bytes are per kept value, its
// metadata included) and each input element stands for M/N activations.
struct ArrayOperands {
  workloads::Gemm gemm;
  double weight_bytes = 0;
  double weight_density = 1;
  double input_bytes = 0;

  // Whether the PEs take the weight's pattern natively: the mapped K is the kept values'.
  bool compressed(const workloads::Op& op) const { return gemm.k < op.shape_as<workloads::LinearShape>().k; }
};
ArrayOperands array_operands(const arch::SystolicSpec& spec, const workloads::Op& op, arch::DType dtype);

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
  mapper::MapResult linear_mapping(const ArrayOperands& operands, const RunSettings& settings);
  OpResult run_linear(const workloads::Op& op, const RunSettings& settings);
  OpResult run_streamed(const workloads::Op& op, const RunSettings& settings) const;
  void refresh_facts();

  arch::SystolicSpec spec_;
  DeviceFacts facts_;
  // Identical GEMMs are mapped once; reset when a setting changes the spec.
  std::unique_ptr<mapper::MappingCache> mappings_;
};

}  // namespace tessel::sim
