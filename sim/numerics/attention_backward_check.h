// Checks attention_backward_fused against the exact gradient of attention on the same Q, K, V
// and dO, within a running error bound (running_error.h) of the kernel's fp32 steps.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/attention_backward.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim {

// The datapath's O and L are taken to be attention_fused_saving_lse's with the same block_kv:
// O's error enters through attention_error_bounds (the fused kernel's bound), L's through a
// replay of that kernel's running max and sum. The products on the GEMM datapath take
// Higham's order-free gamma_n over the terms of each sum (head_dim for S and dP; the visible
// keys for dQ; the group's visible (query head, query) pairs for dK and dV).
// A worst-case bound: in fp32 it lies two to three orders of magnitude above the errors seen,
// led by the forward O's own worst-case bound entering through D; in fp16 and bf16 within about
// ten times of them. Throws std::invalid_argument where attention_backward_fused would, or on an
// output of the wrong size.
NumericsReport compare_attention_backward(const std::vector<float>& q, const std::vector<float>& k,
                                          const std::vector<float>& v, const std::vector<float>& d_out,
                                          const AttentionShape& shape, uint64_t block_kv,
                                          const AttentionGradients<float>& output, arch::DType dtype);

}  // namespace tessel::sim
