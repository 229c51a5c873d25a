// Attention's FlashAttention-2 backward on the datapath against the exact fp64 gradient: every
// floating format, GQA, causal and not, prefill and decode shapes, several key tiles; planted
// faults the check catches; and the fp64 gradient against finite differences of attention.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/attention.h"
#include "sim/numerics/attention_backward.h"
#include "sim/numerics/attention_backward_check.h"
#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using testing_support::numeric_gradient;
using testing_support::random_values;
using testing_support::relative_distance;
using testing_support::weighted_sum;

constexpr DType kTrainingDtypes[] = {DType::Fp16, DType::Bf16, DType::Fp32};

struct Inputs {
  std::vector<float> q, k, v, d_out;
};

Inputs draw_inputs(const AttentionShape& shape, uint64_t seed, DType dtype) {
  const uint64_t q_size = shape.q_len * shape.q_heads * shape.head_dim;
  const uint64_t kv_size = shape.kv_len * shape.kv_heads * shape.head_dim;
  return {random_values(q_size, 1.0f, seed, dtype), random_values(kv_size, 1.0f, seed + 1, dtype),
          random_values(kv_size, 1.0f, seed + 2, dtype), random_values(q_size, 1.0f, seed + 3, dtype)};
}

const AttentionShape kShapes[] = {
    {16, 16, 16, 4, 2, true},  // prefill, GQA groups of 2
    {5, 23, 16, 4, 1, true},   // a chunk of queries at the end of the keys, one KV head
    {1, 37, 32, 2, 2, true},   // a decode step, multi-head
    {7, 12, 8, 3, 3, false},   // no mask
    {16, 16, 16, 4, 2, true, 5, 2.0f},  // a sliding window of 5 keys, scores capped at 2
};

// The backward of the datapath's own forward, as training runs it.
AttentionGradients<float> backward(const Inputs& in, const AttentionShape& shape, uint64_t block_kv, DType dtype) {
  const FusedAttentionResult forward = attention_fused_saving_lse(in.q, in.k, in.v, shape, block_kv, dtype);
  return attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out, forward.log_sum_exp, shape, block_kv, dtype);
}

TEST(BackwardNumericsAttention, PassesInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    for (const AttentionShape& shape : kShapes) {
      const Inputs in = draw_inputs(shape, shape.kv_len, dtype);
      // One key per tile, ragged tiles, one tile for all keys.
      for (uint64_t block_kv : {uint64_t{1}, uint64_t{4}, uint64_t{64}}) {
        SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " kv_len " << shape.kv_len << " block_kv "
                                        << block_kv);
        expect_passes(compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, block_kv,
                                                 backward(in, shape, block_kv, dtype), dtype));
      }
    }
  }
}

TEST(BackwardNumericsAttention, TheForwardSavesItsLogSumExp) {
  // L is each row's log Σ exp(scaled score), within the fp32 errors of the scores, the sums and
  // the log; the output is attention_fused's, bit for bit.
  const AttentionShape shape = kShapes[1];
  const Inputs in = draw_inputs(shape, 50, DType::Fp32);
  const FusedAttentionResult result = attention_fused_saving_lse(in.q, in.k, in.v, shape, 4, DType::Bf16);
  EXPECT_EQ(result.out, attention_fused(in.q, in.k, in.v, shape, 4, DType::Bf16));
  const uint64_t d = shape.head_dim;
  for (uint64_t head = 0; head < shape.q_heads; ++head) {
    for (uint64_t row = 0; row < shape.q_len; ++row) {
      double sum = 0;
      for (uint64_t key = 0; key < shape.kv_len - shape.q_len + row + 1; ++key) {
        double score = 0;
        for (uint64_t t = 0; t < d; ++t)
          score += double{in.q[(row * shape.q_heads + head) * d + t]} * in.k[key * d + t];
        sum += std::exp(score / std::sqrt(static_cast<double>(d)));
      }
      EXPECT_NEAR(result.log_sum_exp[row * shape.q_heads + head], std::log(sum), 1e-5);
    }
  }
}

TEST(BackwardNumericsAttention, CatchesADroppedRowTerm) {
  // With O = 0 the kernel's D = Σ dO·O vanishes: dS = P dP, the softmax gradient's rank-one
  // term dropped.
  const AttentionShape shape = kShapes[0];
  for (DType dtype : kTrainingDtypes) {
    const Inputs in = draw_inputs(shape, 51, dtype);
    const FusedAttentionResult forward = attention_fused_saving_lse(in.q, in.k, in.v, shape, 4, dtype);
    const std::vector<float> zeros(forward.out.size(), 0.0f);
    const AttentionGradients<float> wrong =
        attention_backward_fused(in.q, in.k, in.v, zeros, in.d_out, forward.log_sum_exp, shape, 4, dtype);
    const NumericsReport report = compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, 4, wrong, dtype);
    EXPECT_FALSE(report.passed) << arch::to_string(dtype);
    // dV = Pᵀ dO does not read D.
    EXPECT_NE(report.reference.find("failed: dQ, dK"), std::string::npos) << report.reference;
  }
}

TEST(BackwardNumericsAttention, CatchesProbabilitiesFromTheRowMaxInsteadOfTheLogSumExp) {
  // exp(S - max) unnormalised: what a kernel that saved the running max, not L, would recompute.
  const AttentionShape shape = kShapes[0];
  for (DType dtype : kTrainingDtypes) {
    const Inputs in = draw_inputs(shape, 52, dtype);
    const FusedAttentionResult forward = attention_fused_saving_lse(in.q, in.k, in.v, shape, 4, dtype);
    std::vector<float> max_only(forward.log_sum_exp.size());
    const uint64_t d = shape.head_dim;
    for (uint64_t row = 0; row < shape.q_len; ++row) {
      for (uint64_t head = 0; head < shape.q_heads; ++head) {
        float max = -INFINITY;
        for (uint64_t key = 0; key <= row; ++key) {
          float score = 0;
          for (uint64_t t = 0; t < d; ++t) {
            score += in.q[(row * shape.q_heads + head) * d + t] * in.k[(key * shape.kv_heads + head / 2) * d + t];
          }
          max = std::max(max, score / 4.0f);
        }
        max_only[row * shape.q_heads + head] = max;
      }
    }
    const AttentionGradients<float> wrong =
        attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out, max_only, shape, 4, dtype);
    EXPECT_FALSE(compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, 4, wrong, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsAttention, CatchesAMissingCausalMaskAndSwappedKeyGradients) {
  const AttentionShape shape = kShapes[0];
  AttentionShape unmasked = shape;
  unmasked.causal = false;
  for (DType dtype : kTrainingDtypes) {
    const Inputs in = draw_inputs(shape, 53, dtype);
    const FusedAttentionResult forward = attention_fused_saving_lse(in.q, in.k, in.v, shape, 4, dtype);
    EXPECT_FALSE(compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, 4,
                                            attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out,
                                                                     forward.log_sum_exp, unmasked, 4, dtype),
                                            dtype)
                     .passed)
        << arch::to_string(dtype);
    const AttentionGradients<float> right = backward(in, shape, 4, dtype);
    EXPECT_FALSE(
        compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, 4, {right.dq, right.dv, right.dk}, dtype).passed)
        << arch::to_string(dtype);
  }
}

// A backward pass that forgets the cap's derivative (1 - tanh²) fails.
TEST(BackwardNumericsAttention, CatchesAGradientThatSkipsTheCap) {
  const AttentionShape shape = kShapes[4];
  AttentionShape uncapped = shape;
  uncapped.softcap = 0;
  for (DType dtype : kTrainingDtypes) {
    const Inputs in = draw_inputs(shape, 56, dtype);
    const FusedAttentionResult forward = attention_fused_saving_lse(in.q, in.k, in.v, shape, 4, dtype);
    // The uncapped pass recomputes uncapped probabilities: give it their log-sum-exp.
    const std::vector<float> uncapped_lse =
        attention_fused_saving_lse(in.q, in.k, in.v, uncapped, 4, dtype).log_sum_exp;
    EXPECT_FALSE(compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, 4,
                                            attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out,
                                                                     uncapped_lse, uncapped, 4, dtype),
                                            dtype)
                     .passed)
        << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsAttention, ReferenceIsTheGradientOfAttention) {
  // h = 1e-5 on O(1) inputs: central differences agree to about 1e-9; 1e-7 still fails any
  // dropped term, wrong scale or group summed into the wrong KV head (or the cap's derivative).
  for (const AttentionShape& shape : {AttentionShape{4, 6, 4, 4, 2, true}, AttentionShape{3, 5, 4, 2, 1, false},
                                      AttentionShape{5, 7, 4, 2, 1, true, 3, 1.5f}}) {
    const Inputs in = draw_inputs(shape, 54, DType::Fp32);
    const std::vector<double> q = to_double(in.q), k = to_double(in.k), v = to_double(in.v);
    const std::vector<double> d_out = to_double(in.d_out);
    const AttentionGradients<double> exact = attention_backward_reference(q, k, v, d_out, shape);
    const auto loss_q = [&](const std::vector<double>& at) {
      return weighted_sum(d_out, attention_reference(at, k, v, shape));
    };
    const auto loss_k = [&](const std::vector<double>& at) {
      return weighted_sum(d_out, attention_reference(q, at, v, shape));
    };
    const auto loss_v = [&](const std::vector<double>& at) {
      return weighted_sum(d_out, attention_reference(q, k, at, shape));
    };
    EXPECT_LT(relative_distance(exact.dq, numeric_gradient(loss_q, q, 1e-5)), 1e-7);
    EXPECT_LT(relative_distance(exact.dk, numeric_gradient(loss_k, k, 1e-5)), 1e-7);
    EXPECT_LT(relative_distance(exact.dv, numeric_gradient(loss_v, v, 1e-5)), 1e-7);
  }
}

TEST(BackwardNumericsAttention, RejectsBadArguments) {
  const AttentionShape shape{2, 3, 4, 2, 1, true};
  const Inputs in = draw_inputs(shape, 55, DType::Fp16);
  const FusedAttentionResult forward = attention_fused_saving_lse(in.q, in.k, in.v, shape, 2, DType::Fp16);
  EXPECT_THROW(
      attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out, forward.log_sum_exp, shape, 0, DType::Fp16),
      std::invalid_argument);
  EXPECT_THROW(attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out, {1.0f}, shape, 2, DType::Fp16),
               std::invalid_argument);
  EXPECT_THROW(attention_backward_fused(in.q, in.k, in.v, in.k, in.d_out, forward.log_sum_exp, shape, 2, DType::Fp16),
               std::invalid_argument);
  EXPECT_THROW(
      attention_backward_fused(in.q, in.k, in.v, forward.out, in.d_out, forward.log_sum_exp, shape, 2, DType::Int8),
      std::invalid_argument);
  EXPECT_THROW(compare_attention_backward(in.q, in.k, in.v, in.d_out, shape, 2, {in.k, in.k, in.k}, DType::Fp16),
               std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
