// The attention kernels on the datapath against the fp64 reference: unfused and fused, every
// floating format, GQA, causal and not, prefill and decode shapes; the two kernels against
// each other; and planted bugs the checks catch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/attention.h"
#include "sim/numerics/attention_check.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_datapath.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using testing_support::random_values;

struct AttentionInputs {
  std::vector<float> q, k, v;
};

AttentionInputs draw_inputs(const AttentionShape& shape, uint64_t seed, DType dtype) {
  return {random_values(shape.q_len * shape.q_heads * shape.head_dim, 1.0f, seed, dtype),
          random_values(shape.kv_len * shape.kv_heads * shape.head_dim, 1.0f, seed + 1, dtype),
          random_values(shape.kv_len * shape.kv_heads * shape.head_dim, 1.0f, seed + 2, dtype)};
}

constexpr AttentionKernel kUnfused{AttentionKernel::Kind::Unfused, 0};

const AttentionShape kShapes[] = {
    {16, 16, 16, 4, 2, true},  // prefill, GQA groups of 2
    {5, 23, 16, 4, 1, true},   // a chunk of queries at the end of the keys, one KV head
    {1, 37, 32, 2, 2, true},   // a decode step, multi-head
    {7, 12, 8, 3, 3, false},   // no mask
    {16, 16, 16, 4, 2, true, 5},        // a sliding window of 5 keys
    {5, 23, 16, 4, 1, true, 9, 2.0f},   // a window and scores capped at 2 (saturating some)
    {1, 37, 32, 2, 2, true, 0, 1.5f},   // a decode step's capped scores
};

TEST(OpNumericsAttention, BothKernelsPassInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    for (const AttentionShape& shape : kShapes) {
      const AttentionInputs in = draw_inputs(shape, shape.kv_len, dtype);
      SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " q_len " << shape.q_len
                                      << " kv_len " << shape.kv_len);
      const std::vector<float> unfused = attention_unfused(in.q, in.k, in.v, shape, dtype);
      expect_passes(compare_attention(in.q, in.k, in.v, shape, kUnfused, unfused, dtype));
      // One key per tile (a rescale at every key), ragged tiles, one tile for all keys.
      for (uint64_t block_kv : {uint64_t{1}, uint64_t{4}, uint64_t{64}}) {
        SCOPED_TRACE(testing::Message() << "block_kv " << block_kv);
        const std::vector<float> fused = attention_fused(in.q, in.k, in.v, shape, block_kv, dtype);
        expect_passes(compare_attention(in.q, in.k, in.v, shape,
                                        {AttentionKernel::Kind::Fused, block_kv}, fused, dtype));
        expect_passes(
            compare_attention_kernels(in.q, in.k, in.v, shape, block_kv, unfused, fused, dtype));
      }
    }
  }
}

TEST(OpNumericsAttention, TheUnfusedKernelStoresSAndPInTheFormat) {
  // The unfused kernel is, bit for bit, the GEMM datapath for S, S scaled and rounded to the
  // format (written to memory), softmax_rows for P (rounded), and the GEMM datapath for P V.
  const AttentionShape shape{5, 9, 8, 1, 1, true};
  const float scale = 1.0f / std::sqrt(8.0f);
  for (DType dtype : kFloatDtypes) {
    const AttentionInputs in = draw_inputs(shape, 47, dtype);
    std::vector<float> k_transposed(in.k.size());
    for (uint64_t key = 0; key < shape.kv_len; ++key) {
      for (uint64_t t = 0; t < shape.head_dim; ++t) {
        k_transposed[t * shape.kv_len + key] = in.k[key * shape.head_dim + t];
      }
    }
    std::vector<float> scores = datapath_gemm_float(in.q, k_transposed, {5, 9, 8}, 8);
    for (float& score : scores) score = round_to_format(score * scale, dtype);
    const std::vector<float> p = softmax_rows(scores, {5, 9}, SoftmaxMask::Causal, dtype);
    std::vector<float> expected = datapath_gemm_float(p, in.v, {5, 8, 9}, 9);
    for (float& value : expected) value = round_to_format(value, dtype);
    EXPECT_EQ(attention_unfused(in.q, in.k, in.v, shape, dtype), expected)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsAttention, QueryHeadsShareKvHeadsInConsecutiveGroups) {
  const AttentionShape shape{6, 6, 8, 4, 2, true};
  EXPECT_EQ(kv_head_of(shape, 0), 0u);
  EXPECT_EQ(kv_head_of(shape, 1), 0u);
  EXPECT_EQ(kv_head_of(shape, 2), 1u);
  EXPECT_EQ(kv_head_of(shape, 3), 1u);
  // Each query head's output is single-head attention over its KV head, bit for bit.
  const AttentionShape single{6, 6, 8, 1, 1, true};
  for (DType dtype : kFloatDtypes) {
    const AttentionInputs in = draw_inputs(shape, 46, dtype);
    const std::vector<float> grouped = attention_fused(in.q, in.k, in.v, shape, 4, dtype);
    for (uint64_t head = 0; head < shape.q_heads; ++head) {
      const std::vector<float> alone =
          attention_fused(head_slice(in.q, 6, 4, 8, head), head_slice(in.k, 6, 2, 8, head / 2),
                          head_slice(in.v, 6, 2, 8, head / 2), single, 4, dtype);
      EXPECT_EQ(head_slice(grouped, 6, 4, 8, head), alone) << arch::to_string(dtype);
    }
  }
}

TEST(OpNumericsAttention, TheFusedKernelIsTheMoreAccurateInNarrowFormats) {
  // The unfused kernel rounds S and P to the format as well as O; the fused one rounds only
  // O. If the fused kernel rounded its scores or weights, its error would be no smaller.
  const AttentionShape shape = kShapes[0];
  for (DType dtype : {DType::Fp8, DType::Fp16, DType::Bf16}) {
    const AttentionInputs in = draw_inputs(shape, 40, dtype);
    const NumericsReport unfused =
        compare_attention(in.q, in.k, in.v, shape, kUnfused,
                          attention_unfused(in.q, in.k, in.v, shape, dtype), dtype);
    const NumericsReport fused =
        compare_attention(in.q, in.k, in.v, shape, {AttentionKernel::Kind::Fused, 4},
                          attention_fused(in.q, in.k, in.v, shape, 4, dtype), dtype);
    EXPECT_LT(fused.relative_error, unfused.relative_error) << arch::to_string(dtype);
  }
}

TEST(OpNumericsAttention, CausalRowsIgnoreTheMaskedKeys) {
  // Changing the keys and values a query may not see leaves its output exactly as it was.
  const AttentionShape shape{4, 10, 16, 2, 1, true};
  for (DType dtype : kFloatDtypes) {
    AttentionInputs in = draw_inputs(shape, 41, dtype);
    const std::vector<float> before = attention_fused(in.q, in.k, in.v, shape, 3, dtype);
    const std::vector<float> unfused_before = attention_unfused(in.q, in.k, in.v, shape, dtype);
    // The last key is visible only to the last query.
    for (uint64_t t = 0; t < shape.head_dim; ++t) {
      in.k[(shape.kv_len - 1) * shape.head_dim + t] = round_to_format(5.0f, dtype);
      in.v[(shape.kv_len - 1) * shape.head_dim + t] = round_to_format(-7.0f, dtype);
    }
    const std::vector<float> after = attention_fused(in.q, in.k, in.v, shape, 3, dtype);
    const std::vector<float> unfused_after = attention_unfused(in.q, in.k, in.v, shape, dtype);
    const uint64_t row_width = shape.q_heads * shape.head_dim;
    const auto first_rows = [&](const std::vector<float>& out) {
      return std::vector<float>(
          out.begin(), out.begin() + static_cast<std::ptrdiff_t>((shape.q_len - 1) * row_width));
    };
    EXPECT_EQ(first_rows(after), first_rows(before)) << arch::to_string(dtype);
    EXPECT_EQ(first_rows(unfused_after), first_rows(unfused_before)) << arch::to_string(dtype);
    EXPECT_NE(after, before);
  }
}

// The planted bug: an online softmax that moves its running max without rescaling the sum
// and accumulator gathered under the old max.
std::vector<float> fused_without_rescaling(const AttentionInputs& in, const AttentionShape& shape,
                                           uint64_t block_kv, DType dtype) {
  const uint64_t d = shape.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  std::vector<float> out(in.q.size());
  for (uint64_t head = 0; head < shape.q_heads; ++head) {
    const uint64_t kv_head = kv_head_of(shape, head);
    for (uint64_t row = 0; row < shape.q_len; ++row) {
      const uint64_t visible = shape.kv_len - shape.q_len + row + 1;
      float max = -std::numeric_limits<float>::infinity(), sum = 0.0f;
      std::vector<float> accumulator(d, 0.0f);
      for (uint64_t first = 0; first < visible; first += block_kv) {
        const uint64_t end = std::min(visible, first + block_kv);
        std::vector<float> scores(end - first, 0.0f);
        for (uint64_t key = first; key < end; ++key) {
          for (uint64_t t = 0; t < d; ++t) {
            scores[key - first] += in.q[(row * shape.q_heads + head) * d + t] *
                                   in.k[(key * shape.kv_heads + kv_head) * d + t];
          }
          scores[key - first] *= scale;
        }
        max = std::max(max, *std::max_element(scores.begin(), scores.end()));
        for (uint64_t key = first; key < end; ++key) {
          const float weight = std::exp(scores[key - first] - max);
          sum += weight;
          for (uint64_t t = 0; t < d; ++t) {
            accumulator[t] += weight * in.v[(key * shape.kv_heads + kv_head) * d + t];
          }
        }
      }
      for (uint64_t t = 0; t < d; ++t) {
        out[(row * shape.q_heads + head) * d + t] = round_to_format(accumulator[t] / sum, dtype);
      }
    }
  }
  return out;
}

TEST(OpNumericsAttention, CatchesAnOnlineSoftmaxThatDoesNotRescale) {
  const AttentionShape shape = kShapes[0];
  for (DType dtype : kFloatDtypes) {
    // Scores spread over several units (q scaled by 3) so the running max moves by much.
    AttentionInputs in = draw_inputs(shape, 42, dtype);
    for (float& value : in.q) value = round_to_format(3.0f * value, dtype);
    const std::vector<float> buggy = fused_without_rescaling(in, shape, 4, dtype);
    EXPECT_FALSE(
        compare_attention(in.q, in.k, in.v, shape, {AttentionKernel::Kind::Fused, 4}, buggy, dtype)
            .passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsAttention, CatchesScoresScaledByOneOverD) {
  // Dividing Q by sqrt(d) = 4 (exact in every format) before the kernel makes it scale the
  // scores by 1/d instead of 1/sqrt(d): the softmax comes out four times too flat.
  const AttentionShape shape = kShapes[0];
  for (DType dtype : kFloatDtypes) {
    const AttentionInputs in = draw_inputs(shape, 43, dtype);
    std::vector<float> q_over_4 = in.q;
    for (float& value : q_over_4) value /= 4.0f;
    EXPECT_FALSE(compare_attention(in.q, in.k, in.v, shape, kUnfused,
                                   attention_unfused(q_over_4, in.k, in.v, shape, dtype), dtype)
                     .passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsAttention, CatchesAMissingCausalMask) {
  AttentionShape shape = kShapes[0];
  for (DType dtype : kFloatDtypes) {
    const AttentionInputs in = draw_inputs(shape, 44, dtype);
    AttentionShape unmasked = shape;
    unmasked.causal = false;
    const std::vector<float> out = attention_fused(in.q, in.k, in.v, unmasked, 4, dtype);
    EXPECT_FALSE(
        compare_attention(in.q, in.k, in.v, shape, {AttentionKernel::Kind::Fused, 4}, out, dtype)
            .passed)
        << arch::to_string(dtype);
  }
}

// A kernel that ignores the window, or the cap, is caught by the check of the shape that has it
// (unfused, in the formats whose bound is narrower than the fault).
TEST(OpNumericsAttention, CatchesAnIgnoredWindowOrCap) {
  const AttentionShape shape = kShapes[5];
  for (DType dtype : kFloatDtypes) {
    const AttentionInputs in = draw_inputs(shape, 46, dtype);
    AttentionShape unwindowed = shape, uncapped = shape;
    unwindowed.window = 0;
    uncapped.softcap = 0;
    for (const AttentionShape& wrong : {unwindowed, uncapped}) {
      EXPECT_FALSE(compare_attention(in.q, in.k, in.v, shape, {AttentionKernel::Kind::Fused, 4},
                                     attention_fused(in.q, in.k, in.v, wrong, 4, dtype), dtype)
                       .passed)
          << arch::to_string(dtype);
      // fp8's unfused bound, S and P stored in E4M3, is wider than what these faults change.
      if (dtype == DType::Fp8) continue;
      EXPECT_FALSE(
          compare_attention(in.q, in.k, in.v, shape, kUnfused, attention_unfused(in.q, in.k, in.v, wrong, dtype), dtype)
              .passed)
          << arch::to_string(dtype);
    }
  }
}

TEST(OpNumericsAttention, RejectsBadArguments) {
  const AttentionShape shape{2, 3, 4, 2, 1, true};
  const AttentionInputs in = draw_inputs(shape, 45, DType::Fp16);
  EXPECT_THROW(attention_fused(in.q, in.k, in.v, shape, 0, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(attention_unfused(in.q, in.k, in.v, shape, DType::Int8), std::invalid_argument);
  EXPECT_THROW(attention_unfused(in.q, in.q, in.v, shape, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(attention_unfused(in.q, in.k, in.v, {2, 3, 4, 2, 3, true}, DType::Fp16),
               std::invalid_argument);  // 2 query heads cannot share 3 KV heads
  EXPECT_THROW(attention_unfused(in.q, in.k, in.v, {4, 3, 2, 2, 1, true}, DType::Fp16),
               std::invalid_argument);  // causal with more queries than keys
  EXPECT_THROW(attention_fused(in.q, {}, {}, {2, 0, 4, 2, 1, false}, 1, DType::Fp16),
               std::invalid_argument);  // no keys to attend to
  EXPECT_THROW(compare_attention(in.q, in.k, in.v, shape, kUnfused, in.k, DType::Fp16),
               std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
