// A validation row's prediction: the row's operator run on the device as a model run would run
// it (a GEMM as a Linear, a vector operator or an attention kernel as itself, an all-reduce as
// the tensor-parallel group's collective), timing only.
#pragma once

#include <cstdint>
#include <string>

#include "sim/device.h"
#include "workloads/op.h"

namespace tessel::validation {

// A prediction, or the reason a row cannot be predicted.
struct Prediction {
  double seconds = 0;
  std::string model;        // what was predicted, e.g. "gemm 64x12288x12288 bf16, tile ..."
  std::string skip_reason;  // empty when predicted
};

Prediction skip(std::string reason);

Prediction predict_gemm(sim::Device& device, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype);
// Any other operator: softmax, norms, activations, RoPE, fused attention, batched matmuls.
Prediction predict_kernel(sim::Device& device, const workloads::Op& op, arch::DType dtype);
// An all-reduce of each device's `bytes` over `devices` devices (skipped where they have no
// links).
Prediction predict_all_reduce(sim::Device& device, uint32_t devices, double bytes);

}  // namespace tessel::validation
