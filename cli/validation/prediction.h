// A validation row's prediction: the row's operator run on the device as a model run would run
// it (a GEMM as a Linear, a vector operator or an attention kernel as itself, timing only), an
// all-reduce as a tensor-parallel group's collective on the system's links.
#pragma once

#include <cstdint>
#include <string>

#include <memory>
#include <optional>

#include "arch/system_spec.h"
#include "sim/device.h"
#include "workloads/op.h"

namespace tessel::validation {

// What predicts the rows: a device, and the system whose links price the collectives (the
// device alone when it has none).
struct Hardware {
  explicit Hardware(arch::SystemSpec links);

  arch::SystemSpec system;
  std::unique_ptr<sim::Device> device;
};

// A prediction, or the reason a row cannot be predicted.
struct Prediction {
  double seconds = 0;
  std::string model;        // what was predicted, e.g. "gemm 64x12288x12288 bf16, tile ..."
  std::string skip_reason;  // empty when predicted
};

Prediction skip(std::string reason);

Prediction predict_gemm(Hardware& hardware, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype);
// Any other operator: softmax, norms, activations, RoPE, fused attention, batched matmuls.
Prediction predict_kernel(Hardware& hardware, const workloads::Op& op, arch::DType dtype);
// An all-reduce of each device's `bytes` over `devices` devices of the system, by the fastest
// algorithm or the pinned one (skipped where the system has too few devices, or where the
// pinned algorithm does not apply).
Prediction predict_all_reduce(const Hardware& hardware, uint32_t devices, double bytes,
                              std::optional<arch::CollectiveAlgorithm> pinned = std::nullopt);

}  // namespace tessel::validation
