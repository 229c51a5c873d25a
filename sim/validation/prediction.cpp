#include "sim/validation/prediction.h"

#include <sstream>
#include <utility>

#include "arch/gpu/collective_timing.h"
#include "mapper/gpu_mapper.h"
#include "mapper/gpu_streaming_op.h"
#include "sim/gpu_gemm_engine.h"
#include "sim/gpu_model_run.h"

namespace tessel::sim::validation {

Prediction skip(std::string reason) { return {0, "", std::move(reason)}; }

Prediction predict_gemm(const arch::GpuSpec& spec, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype) {
  if (!spec.tensor_macs_per_cycle_per_sm(dtype)) {
    return skip(std::string(arch::to_string(dtype)) + " not on this GPU's tensor cores");
  }
  const GpuGemmChoice choice = choose_gpu_gemm(spec, {m, n, k, dtype}, RunOptions().confirm);
  const mapper::GpuGemmPlan& plan = choice.plan;
  const GpuGemmRun& run = choice.run;
  std::ostringstream model;
  model << "gemm " << m << "x" << n << "x" << k << " " << arch::to_string(dtype) << ", " << plan.describe();
  return {run.seconds, model.str(), ""};
}

Prediction predict_streaming(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype) {
  return {mapper::gpu_streaming_op_cycles(spec, op, dtype) / spec.clock_hz,
          workloads::kind_name(op.kind) + " " + op.shape_text() + " " + std::string(arch::to_string(dtype)), ""};
}

Prediction predict_kernel(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype) {
  ModelRunOptions options;
  options.gemm.dtype = dtype;
  options.gemm.check = CheckMode::Never;
  const OpResult result = run_gpu_op(spec, op, options);
  return {static_cast<double>(result.cycles) / spec.clock_hz,
          workloads::kind_name(op.kind) + " " + op.shape_text() + ", " + result.mapping, ""};
}

Prediction predict_all_reduce(const arch::GpuSpec& spec, uint32_t gpus, double bytes) {
  if (!spec.nvlink) return skip(spec.name + " has no nvlink section");
  std::ostringstream model;
  model << "ring all-reduce of " << bytes / 1e6 << " MB on " << gpus << " GPUs";
  return {arch::gpu::all_reduce_seconds(spec, gpus, bytes), model.str(), ""};
}

}  // namespace tessel::sim::validation
