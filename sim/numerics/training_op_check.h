// check_op's part for the backward, loss, optimizer and fp8 cast kinds: draws inputs of the
// op's shape, runs the datapath function of its kind (backward_ops.h, attention_backward.h)
// and compares with its check (backward_ops_check.h, attention_backward_check.h), on a slice
// when the op exceeds the limits.
#pragma once

#include <cstdint>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_check.h"
#include "workloads/op.h"

namespace tessel::sim {

// AdamW's check: a step past the first, so that the bias corrections are neither 1 nor the
// first step's, whose update is sign(g) whatever g's size.
inline constexpr uint64_t kAdamWCheckStep = 10;

// GradientUnscale's check: the loss scale PyTorch's GradScaler starts fp16 training at, 2^16.
inline constexpr float kUnscaleCheckLossScale = 65536.0f;

// As check_op (op_check.h) says for the training kinds. Throws std::invalid_argument for a
// kind that is not one, and where the datapath function would.
NumericsReport check_training_op(const workloads::Op& op, arch::DType dtype, uint64_t seed,
                                 const OpCheckLimits& limits);

}  // namespace tessel::sim
