// Checks the attention kernels of attention.h against the fp64 reference on the same Q, K,
// V, each within a bound derived for that kernel, and against each other within the sum of
// their bounds (the triangle inequality through the reference).
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/attention.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim {

struct AttentionKernel {
  enum class Kind { Unfused, Fused };
  Kind kind;
  uint64_t block_kv;  // keys per tile of the fused kernel; the unfused kernel ignores it
};

// Per output element, the largest |O - O_ref| the kernel may show in `dtype`.
// Unfused: the scores err by Higham's dot-product bound gamma_{d+3} (|q|·|k|)/sqrt(d) (d
// products summed, the scale's sqrt, division and multiply) and then by their rounding to the
// format; a soft cap passes that error on (tanh is 1-Lipschitz), adds its own fp32 steps' and
// a second rounding to the format; softmax turns score errors d_j into relative probability
// errors of at most exp(d_j + max d) - 1, to which its fp32 steps and the rounding of P add
// theirs; P V adds sum_j |P_j - p_j| |v_j| and the GEMM's gamma_{kv_len} sum_j |P_j| |v_j|;
// O rounds once. Only a row's visible keys (its window's, under a sliding window) count.
// Fused: the same score error (capped alike) without any rounding to the format; each weight
// exp(s - max) also errs through the subtractions (u times the row's score span, twice: its
// own exponent and the chain of rescalings) and one libm error per tile holding some of the
// row's keys; the sums and the accumulator take gamma_{block_kv + 2 tiles} (in-tile sums, then
// a multiply and an add per tile) and the final division u; O rounds once.
// Throws std::invalid_argument as the kernels do.
std::vector<double> attention_error_bounds(const std::vector<float>& q, const std::vector<float>& k,
                                           const std::vector<float>& v, const AttentionShape& shape,
                                           const AttentionKernel& kernel, arch::DType dtype);

NumericsReport compare_attention(const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, const AttentionShape& shape,
                                 const AttentionKernel& kernel, const std::vector<float>& output,
                                 arch::DType dtype);

// The fused output against the unfused one, element by element within the sum of the
// unfused bound and the fused bound for block_kv.
NumericsReport compare_attention_kernels(const std::vector<float>& q, const std::vector<float>& k,
                                         const std::vector<float>& v, const AttentionShape& shape,
                                         uint64_t block_kv, const std::vector<float>& unfused,
                                         const std::vector<float>& fused, arch::DType dtype);

}  // namespace tessel::sim
