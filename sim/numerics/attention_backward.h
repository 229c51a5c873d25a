// Attention's backward pass as FlashAttention-2 computes it on the datapath: the probabilities
// are recomputed tile by tile from the saved log-sum-exp instead of being stored, and the
// gradients accumulate in fp32 on chip. Layouts, GQA and the end-aligned causal mask are those
// of attention.h.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/attention.h"

namespace tessel::sim {

// dQ shaped like Q; dK and dV like K and V.
template <typename Value>
struct AttentionGradients {
  std::vector<Value> dq;
  std::vector<Value> dk;
  std::vector<Value> dv;
};

// From Q, K, V, the forward's output O (in the format) and log-sum-exp L (fp32, as
// attention_fused_saving_lse gives them) and dO:
//   D_i = Σ_t dO_it O_it in fp32, once per query row (FlashAttention-2's preprocessing);
//   then for each tile of block_kv keys and each query head of the KV head's group:
//   S = Q Kᵀ on the GEMM datapath, scaled by 1/sqrt(head_dim) in fp32; P = exp(S - L) in fp32
//   (0 where masked); dV += Pᵀ dO; dP = dO Vᵀ; dS = P (dP - D) in fp32; dK += dSᵀ Q;
//   dQ += dS K. Every product runs on the GEMM datapath with fp32 operands (P and dS never
//   leave fp32, as the fused forward's P does not) and its K summed as one chunk; the
//   accumulators are fp32, a KV head's dK and dV summing its whole group of query heads.
//   At the end dQ and dK are scaled by 1/sqrt(head_dim), and dQ, dK, dV rounded to the format.
// Throws std::invalid_argument where attention_fused would, on a block_kv of 0 or on O, dO or
// L of the wrong size.
AttentionGradients<float> attention_backward_fused(const std::vector<float>& q, const std::vector<float>& k,
                                                   const std::vector<float>& v, const std::vector<float>& out,
                                                   const std::vector<float>& d_out,
                                                   const std::vector<float>& log_sum_exp, const AttentionShape& shape,
                                                   uint64_t block_kv, arch::DType dtype);

}  // namespace tessel::sim
