// Scaled dot-product attention as the datapath computes it, in the two kernels accelerators
// use: an unfused one that writes the scores and probabilities to memory in the storage
// format, and a fused flash-style one that keeps them on chip in fp32. Their memory traffic
// differs and so, slightly, do their values; attention_check.h bounds both.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "arch/types.h"

namespace tessel::sim {

// Q is [q_len × q_heads·head_dim], K and V are [kv_len × kv_heads·head_dim] and the output
// is shaped like Q, all row-major with head h in columns h·head_dim .. (h+1)·head_dim - 1.
// Grouped-query attention: query head h reads KV head h / (q_heads / kv_heads). The scores
// are scaled by 1/sqrt(head_dim). The causal mask is aligned to the end: query i sees keys
// 0 .. kv_len - q_len + i (a decode step's queries are the last positions); a sliding window
// leaves it the `window` latest of them. A soft cap makes each scaled score s
// softcap·tanh(s/softcap) before the softmax (Gemma 2).
struct AttentionShape {
  uint64_t q_len;
  uint64_t kv_len;
  uint64_t head_dim;
  uint64_t q_heads;
  uint64_t kv_heads;
  bool causal;
  uint64_t window = 0;  // 0: none
  float softcap = 0;    // 0: none
};

// Throws std::invalid_argument unless the shape is usable (positive kv_len, head_dim and
// head counts, q_heads a multiple of kv_heads, q_len <= kv_len when causal, a window only
// with the causal mask, a soft cap of at least 0) and the operands match it.
void require_attention_operands(std::size_t q_size, std::size_t k_size, std::size_t v_size,
                                const AttentionShape& shape);

// The keys query `query` sees: first .. end - 1.
struct KeyRange {
  uint64_t first;
  uint64_t end;
};
KeyRange visible_keys(const AttentionShape& shape, uint64_t query);

// A scaled score as the kernels cap it, in fp32: the score times the fp32 reciprocal of the
// cap, tanhf, times the cap; the score itself without a cap.
float capped_score(float score, float softcap);

// Scores [q_len × kv_len] with each row's keys outside visible_keys set to -inf, which a softmax
// weighs exactly 0.
template <typename Value>
void mask_invisible(std::vector<Value>& scores, const AttentionShape& shape) {
  for (uint64_t row = 0; row < shape.q_len; ++row) {
    const KeyRange seen = visible_keys(shape, row);
    Value* in = scores.data() + row * shape.kv_len;
    std::fill(in, in + seen.first, -std::numeric_limits<Value>::infinity());
    std::fill(in + seen.end, in + shape.kv_len, -std::numeric_limits<Value>::infinity());
  }
}

// The KV head that query head `q_head` reads.
uint64_t kv_head_of(const AttentionShape& shape, uint64_t q_head);

// Head `head` of a [rows × heads·head_dim] tensor as a row-major [rows × head_dim] matrix.
template <typename Value>
std::vector<Value> head_slice(const std::vector<Value>& x, uint64_t rows, uint64_t heads,
                              uint64_t head_dim, uint64_t head) {
  std::vector<Value> slice(rows * head_dim);
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t t = 0; t < head_dim; ++t) {
      slice[row * head_dim + t] = x[(row * heads + head) * head_dim + t];
    }
  }
  return slice;
}

// Unfused: S = Q Kᵀ on the GEMM datapath (fp32 accumulation), scaled in fp32 and rounded to
// the format (S goes to memory); with a soft cap, a kernel of its own caps S and rounds it
// again; P = softmax_rows(S) over each row's visible keys, rounded to the format; O = P V on
// the GEMM datapath, rounded to the format.
std::vector<float> attention_unfused(const std::vector<float>& q, const std::vector<float>& k,
                                     const std::vector<float>& v, const AttentionShape& shape,
                                     arch::DType dtype);

// Fused, FlashAttention-2 style: for each tile of block_kv keys, S = Q Kᵀ on the GEMM datapath
// and scaled (and capped) in fp32; each query row keeps a running max and running sum in fp32,
// rescales its accumulator and sum by exp(old max - new max) when the max changes, and adds
// exp(S - max) V (P in fp32, on the GEMM datapath). Scores and probabilities never leave fp32;
// O is divided by the running sum at the end and rounded to the format once. Tiles outside a
// row's visible keys add nothing to it. Throws std::invalid_argument on a block_kv of 0.
std::vector<float> attention_fused(const std::vector<float>& q, const std::vector<float>& k,
                                   const std::vector<float>& v, const AttentionShape& shape,
                                   uint64_t block_kv, arch::DType dtype);

// The fused kernel's output and what FlashAttention-2 saves for its backward pass: each query
// row's log-sum-exp of its scaled scores, max + log(sum) from the kernel's fp32 running max and
// sum, [q_len × q_heads] row-major and kept in fp32.
struct FusedAttentionResult {
  std::vector<float> out;
  std::vector<float> log_sum_exp;
};
FusedAttentionResult attention_fused_saving_lse(const std::vector<float>& q, const std::vector<float>& k,
                                                const std::vector<float>& v, const AttentionShape& shape,
                                                uint64_t block_kv, arch::DType dtype);

// The scaled scores capped in fp64 (unchanged without a cap).
std::vector<double> capped_scores_reference(std::vector<double> scores, const AttentionShape& shape);

// fp64 reference with Eigen: softmax(cap(Q Kᵀ / sqrt(head_dim)) + mask) V, never rounded.
std::vector<double> attention_reference(const std::vector<double>& q, const std::vector<double>& k,
                                        const std::vector<double>& v, const AttentionShape& shape);

}  // namespace tessel::sim
