// Runs the tests make: a model or a GEMM list on the device of a spec, through the one driver.
#pragma once

#include "arch/arch_spec.h"
#include "sim/device.h"
#include "sim/run_workload.h"
#include "workloads/gemm.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::testing {

inline sim::RunSettings timing_only(arch::DType dtype) {
  sim::RunSettings settings;
  settings.dtype = dtype;
  settings.check = sim::CheckMode::Never;
  return settings;
}

inline sim::RunResult run_model(const arch::ArchSpec& spec, const workloads::ModelConfig& model,
                                const sim::ModelRequest& request, const sim::RunSettings& settings,
                                workloads::AttentionImpl attention = workloads::AttentionImpl::Fused) {
  const std::unique_ptr<sim::Device> device = sim::make_device(spec);
  return sim::run_workload(*device, sim::ModelWorkload{model, request, attention}, settings);
}

inline sim::RunResult run_gemms(const arch::ArchSpec& spec, const workloads::Graph& graph,
                                const sim::RunSettings& settings) {
  const std::unique_ptr<sim::Device> device = sim::make_device(spec);
  return sim::run_workload(*device, sim::GemmWorkload{graph}, settings);
}

// One op on the device of `spec`, configured with `settings`.
inline sim::OpResult run_op(const arch::ArchSpec& spec, const workloads::Op& op, const sim::RunSettings& settings) {
  const std::unique_ptr<sim::Device> device = sim::make_device(spec);
  return device->run(op, device->configure(settings));
}

inline sim::ModelRequest decode_request(uint64_t batch, uint64_t cached) {
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Decode;
  request.batch = batch;
  request.cached = cached;
  return request;
}

inline sim::ModelRequest prefill_request(uint64_t batch, uint64_t seq) {
  sim::ModelRequest request;
  request.batch = batch;
  request.seq = seq;
  return request;
}

inline sim::ModelRequest generate_request(uint64_t batch, uint64_t input, uint64_t output) {
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Generate;
  request.batch = batch;
  request.input = input;
  request.output = output;
  return request;
}

}  // namespace tessel::testing
