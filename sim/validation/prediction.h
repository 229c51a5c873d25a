// A validation row's prediction, and the GPU models rows are predicted with: a GEMM as its
// mapped and simulated thread blocks, a vector operator as a streaming kernel, any other
// operator as the model runs' GPU kernel, an all-reduce as a ring over NVLink.
#pragma once

#include <cstdint>
#include <string>

#include "arch/gpu/gpu_spec.h"
#include "workloads/op.h"

namespace tessel::sim::validation {

// A prediction, or the reason a row cannot be predicted.
struct Prediction {
  double seconds = 0;
  std::string model;        // what was predicted, e.g. "gemm 64x12288x12288 bf16, tile ..."
  std::string skip_reason;  // empty when predicted
};

Prediction skip(std::string reason);

Prediction predict_gemm(const arch::GpuSpec& spec, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype);
Prediction predict_streaming(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype);
// Through sim::run_gpu_op: fused attention, batched matmuls.
Prediction predict_kernel(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype);
// A ring all-reduce of each GPU's `bytes` over `gpus` GPUs of the node (skipped without NVLink).
Prediction predict_all_reduce(const arch::GpuSpec& spec, uint32_t gpus, double bytes);

}  // namespace tessel::sim::validation
