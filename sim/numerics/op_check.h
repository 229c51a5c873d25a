// Checks one operator of a model on the datapath against its fp64 reference: draws random
// inputs of the operator's shape, runs the datapath function of its kind (gemm_datapath.h,
// vector_ops.h, attention.h; for the training kinds backward_ops.h and attention_backward.h)
// and compares with the matching check (gemm_check.h, vector_ops_check.h, attention_check.h;
// backward_ops_check.h and attention_backward_check.h). Large operators are checked on a slice
// that is a true sub-problem of theirs, so that a whole model can be checked op by op in seconds.
#pragma once

#include <cstdint>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "workloads/op.h"

namespace tessel::sim {

// How much of an operator a check may compute; a slice stays within both limits.
// max_elements: elements of the checked slice's operands and outputs (norm gains and shifts
// included); for Attention also the scores and probabilities the unfused kernel writes,
// 2 · heads · q_len · kv_len; for the training kinds also what the check derives the inputs
// from (the logits of a saved softmax) and, for AttentionBackward, the log-sum-exp and one
// head's replayed scores and probabilities, 2 · q_len · kv_len.
// max_macs: multiply-accumulates of the slice's matrix products (BatchedMatmul: m · n · k an
// entry; Attention: 2 · head_dim per unmasked score, as Op::macs counts them), priced at
// check_gemm's cost per MAC; an Attention MAC counts kAttentionMacCost times, since its check
// evaluates three error bounds per unmasked (query, key, dim) in scalar fp64 besides running
// both kernels. Elements alone would let a 2^22-element check take seconds: a 1182^3 GEMM
// entry, or one head of a causal 1024-token attention.
inline constexpr uint64_t kAttentionMacCost = 16;
// An AttentionBackward MAC (5 · head_dim per unmasked score, as Op::macs counts them) counts
// this many times: its check runs the fused forward and that kernel's bound too, and replays
// every product of the backward with its error bound. Measured 4.4-13 ns per such MAC on
// prefill shapes and up to 30 ns on single-query ones, so 2^28 / 16 of them take at most
// about half a second.
inline constexpr uint64_t kAttentionBackwardMacCost = 16;

struct OpCheckLimits {
  uint64_t max_elements;
  // The default's, so that OpCheckLimits{n} limits elements alone; a caller that wants every
  // op checked however large raises both.
  uint64_t max_macs = uint64_t{1} << 28;
};

// 2^22 elements and 2^28 MACs: every check within them takes at most about half a second
// on one core of the development machine; op_check.cpp gives the measurements.
OpCheckLimits default_op_check_limits();

// Checks `op` on the datapath in `dtype` with inputs drawn from normal distributions by a
// std::mt19937_64 seeded with `seed`, against its fp64 reference.
//   Row- and element-wise kinds (Softmax, the RowsShape kinds, Softcap, Rope): a leading slice
//     of whole rows (tokens, for Rope) when the op exceeds the limits. A causal Softmax checks
//     its last rows instead, at most cols of them, whose end-aligned mask is the op's own;
//     Rope checks at most 2^14 tokens, at positions from 0 (the shape gives no offset);
//     Softcap draws inputs spread as widely as its cap, so that tanh saturates in some.
//   BatchedMatmul: check_gemm on the leading batch entries that fit, each with k_tile = k.
//   Attention: one batch entry, all heads or the leading whole KV-head groups that fit (when
//     not even one group fits, its last queries that do: the end-aligned causal mask, and a
//     sliding window, give them the keys they see in the op), its soft cap included, on both
//     the fused and the unfused kernel; passed iff the fused output is within its bound of the
//     fp64 reference and within both kernels' bounds of the unfused output.
//   The backward, loss, optimizer and fp8 cast kinds, each within the bound of its check:
//     SoftmaxBackward as Softmax, y the datapath's softmax of the drawn logits; SoftcapBackward
//     as Softcap, y the datapath's soft cap of the drawn inputs; the RowsShape
//     kinds on leading rows, CrossEntropyBackward dividing by the op's rows (its tokens), not
//     the slice's, and Quantize with the slice's own amax and scale; EmbeddingBackward on
//     leading tokens, their ids drawn from a table of as many rows as tokens (so that they
//     repeat) added into a drawn fp32 gradient; AdamW on leading parameters at step
//     kAdamWCheckStep; GradientNorm and GradientUnscale (at loss scale kUnscaleCheckLossScale)
//     on leading parameters, their reports fp32 whatever `dtype`; AttentionBackward sliced as
//     Attention, the forward's O and log-sum-exp from the fused kernel, and a causal
//     self-attention of which not even one query fits on its leading tokens, queries and keys
//     alike.
// The report's `reference` line starts with what was checked, e.g. "rows 0-15 of 4096: ".
// checked = false (and `reference` says why) for the kinds that compute nothing
// (KvCacheAppend, KvCacheRead, Embedding), for the communication kinds, for the vector kinds,
// Attention and the training kinds in int8 (the vector unit never stores int8), and when a
// single row, token, parameter, batch entry or query of a KV-head group already exceeds a limit.
// Throws std::invalid_argument for Linear, whose check needs its mapping's k tile (use
// check_gemm), and where the datapath function would: a RoPE head_dim that is odd, a
// causal Attention with q_len > kv_len.
NumericsReport check_op(const workloads::Op& op, arch::DType dtype, uint64_t seed,
                        const OpCheckLimits& limits);

}  // namespace tessel::sim
