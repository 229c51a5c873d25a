// Softmax and the norms on the datapath against their fp64 references: every floating format
// within the derived bound, known values, a planted bug each check catches, bad arguments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_check.h"

namespace tessel::sim {
namespace {

using arch::DType;

using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using testing_support::random_values;

constexpr RowShape kShapes[] = {{1, 1}, {3, 7}, {8, 64}, {5, 128}};

TEST(OpNumericsSoftmax, PassesInEveryFormatWithAndWithoutTheMask) {
  for (DType dtype : kFloatDtypes) {
    for (RowShape shape : kShapes) {
      const std::vector<float> x = random_values(shape.rows * shape.cols, 3.0f, shape.cols, dtype);
      for (SoftmaxMask mask : {SoftmaxMask::None, SoftmaxMask::Causal}) {
        SCOPED_TRACE(testing::Message()
                     << arch::to_string(dtype) << " " << shape.rows << "x" << shape.cols
                     << (mask == SoftmaxMask::Causal ? " causal" : ""));
        expect_passes(
            compare_softmax_rows(x, shape, mask, softmax_rows(x, shape, mask, dtype), dtype));
      }
    }
  }
}

TEST(OpNumericsSoftmax, EqualInputsGiveTheUniformDistribution) {
  for (DType dtype : kFloatDtypes) {
    for (uint64_t cols : {uint64_t{1}, uint64_t{10}, uint64_t{64}}) {
      const std::vector<float> x(2 * cols, round_to_format(1.7f, dtype));
      // exp(0) = 1 exactly, the sum of ones is exact, so each entry is 1/n rounded.
      const float uniform = round_to_format(1.0f / static_cast<float>(cols), dtype);
      EXPECT_EQ(softmax_rows(x, {2, cols}, SoftmaxMask::None, dtype),
                std::vector<float>(2 * cols, uniform));
    }
  }
}

TEST(OpNumericsSoftmax, CausalRowsSumToOneOverVisibleKeysOnly) {
  const RowShape shape{6, 9};
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(shape.rows * shape.cols, 2.0f, 3, dtype);
    const std::vector<float> p = softmax_rows(x, shape, SoftmaxMask::Causal, dtype);
    for (uint64_t row = 0; row < shape.rows; ++row) {
      const uint64_t visible = shape.cols - shape.rows + row + 1;
      EXPECT_EQ(visible_columns(shape, SoftmaxMask::Causal, row), visible);
      double sum = 0;
      for (uint64_t j = 0; j < shape.cols; ++j) {
        if (j < visible) {
          sum += p[row * shape.cols + j];
        } else {
          EXPECT_EQ(p[row * shape.cols + j], 0.0f) << "masked entry " << row << "," << j;
        }
      }
      // Each probability is off by its rounding, u_F of itself (or half a subnormal), plus
      // the fp32 steps' error, under 2^-16 of itself for rows this short; summed over the row:
      const double tolerance =
          unit_roundoff(dtype) + 0x1p-16 + static_cast<double>(visible) * underflow_error(dtype);
      EXPECT_NEAR(sum, 1.0, tolerance) << arch::to_string(dtype) << " row " << row;
    }
  }
}

TEST(OpNumericsSoftmax, CatchesASoftmaxThatIgnoresTheMask) {
  const RowShape shape{4, 8};
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(shape.rows * shape.cols, 2.0f, 4, dtype);
    const std::vector<float> unmasked = softmax_rows(x, shape, SoftmaxMask::None, dtype);
    EXPECT_FALSE(compare_softmax_rows(x, shape, SoftmaxMask::Causal, unmasked, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsSoftmax, CatchesASoftmaxWithoutTheMaxSubtraction) {
  // Logits near 100: exp overflows fp32 (past e^88.7) unless the row's max is subtracted.
  const RowShape shape{2, 16};
  for (DType dtype : kFloatDtypes) {
    std::vector<float> x = random_values(shape.rows * shape.cols, 1.0f, 5, dtype);
    for (float& value : x) value = round_to_format(value + 100.0f, dtype);
    std::vector<float> naive(x.size());
    for (uint64_t row = 0; row < shape.rows; ++row) {
      float sum = 0.0f;
      for (uint64_t j = 0; j < shape.cols; ++j) sum += std::exp(x[row * shape.cols + j]);
      for (uint64_t j = 0; j < shape.cols; ++j) {
        naive[row * shape.cols + j] =
            round_to_format(std::exp(x[row * shape.cols + j]) / sum, dtype);
      }
    }
    EXPECT_FALSE(compare_softmax_rows(x, shape, SoftmaxMask::None, naive, dtype).passed);
    expect_passes(compare_softmax_rows(x, shape, SoftmaxMask::None,
                                       softmax_rows(x, shape, SoftmaxMask::None, dtype), dtype));
  }
}

TEST(OpNumericsNorms, PassInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    for (RowShape shape : kShapes) {
      SCOPED_TRACE(testing::Message()
                   << arch::to_string(dtype) << " " << shape.rows << "x" << shape.cols);
      const std::vector<float> x = random_values(shape.rows * shape.cols, 2.0f, 6, dtype);
      std::vector<float> gamma = random_values(shape.cols, 0.2f, 7, DType::Fp32);
      for (float& value : gamma) value = round_to_format(1.0f + value, dtype);
      const std::vector<float> beta = random_values(shape.cols, 0.5f, 8, dtype);
      expect_passes(compare_layer_norm_rows(x, shape, gamma, beta, 1e-5f,
                                            layer_norm_rows(x, shape, gamma, beta, 1e-5f, dtype),
                                            dtype));
      expect_passes(compare_rms_norm_rows(x, shape, gamma, 1e-5f,
                                          rms_norm_rows(x, shape, gamma, 1e-5f, dtype), dtype));
    }
  }
}

TEST(OpNumericsNorms, LayerNormGivesMeanZeroAndVarianceOneBeforeGammaAndBeta) {
  const RowShape shape{4, 64};
  const std::vector<float> ones(shape.cols, 1.0f), zeros(shape.cols, 0.0f);
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(shape.rows * shape.cols, 2.0f, 9, dtype);
    const std::vector<float> y = layer_norm_rows(x, shape, ones, zeros, 1e-5f, dtype);
    const auto n = static_cast<double>(shape.cols);
    for (uint64_t row = 0; row < shape.rows; ++row) {
      double mean = 0, x_mean = 0;
      for (uint64_t j = 0; j < shape.cols; ++j) {
        mean += y[row * shape.cols + j] / n;
        x_mean += x[row * shape.cols + j] / n;
      }
      double variance = 0, x_variance = 0;
      for (uint64_t j = 0; j < shape.cols; ++j) {
        variance += std::pow(y[row * shape.cols + j] - mean, 2) / n;
        x_variance += std::pow(x[row * shape.cols + j] - x_mean, 2) / n;
      }
      // The exact z has mean 0 and standard deviation sqrt(v / (v + eps)). Each output is z
      // rounded (u_F |z| or half a subnormal) plus fp32 error under 2^-14 here, which moves
      // the mean and the standard deviation by at most that much (both are 1-Lipschitz in
      // the RMS norm of the change, and rms(z) <= 1).
      const double tolerance = unit_roundoff(dtype) + underflow_error(dtype) + 0x1p-14;
      EXPECT_NEAR(mean, 0.0, tolerance) << arch::to_string(dtype);
      EXPECT_NEAR(std::sqrt(variance), std::sqrt(x_variance / (x_variance + 1e-5)), tolerance)
          << arch::to_string(dtype);
    }
  }
}

TEST(OpNumericsNorms, CatchesALayerNormWithTheUnbiasedVariance) {
  // Dividing the squares by n - 1 shrinks every output by a factor sqrt((n-1)/n), 0.8% for
  // n = 64: more than fp16's, bf16's or fp32's rounding, less than fp8's 6%, so not fp8.
  const RowShape shape{4, 64};
  for (DType dtype : {DType::Fp16, DType::Bf16, DType::Fp32}) {
    const std::vector<float> x = random_values(shape.rows * shape.cols, 2.0f, 10, dtype);
    const std::vector<float> ones(shape.cols, 1.0f), zeros(shape.cols, 0.0f);
    const std::vector<float> y = layer_norm_rows(x, shape, ones, zeros, 1e-5f, DType::Fp32);
    std::vector<float> unbiased(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) {
      unbiased[i] = round_to_format(y[i] * std::sqrt(63.0f / 64.0f), dtype);
    }
    EXPECT_FALSE(compare_layer_norm_rows(x, shape, ones, zeros, 1e-5f, unbiased, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsNorms, CatchesAnRmsNormWithoutEps) {
  // Rows with mean square 0.01 and eps = 0.01: leaving eps out scales the output by sqrt 2.
  const RowShape shape{4, 32};
  const std::vector<float> ones(shape.cols, 1.0f);
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(shape.rows * shape.cols, 0.1f, 11, dtype);
    const std::vector<float> without_eps = rms_norm_rows(x, shape, ones, 0.0f, dtype);
    EXPECT_FALSE(compare_rms_norm_rows(x, shape, ones, 0.01f, without_eps, dtype).passed)
        << arch::to_string(dtype);
    expect_passes(compare_rms_norm_rows(x, shape, ones, 0.01f,
                                        rms_norm_rows(x, shape, ones, 0.01f, dtype), dtype));
  }
}

TEST(OpNumericsArguments, RejectsBadArguments) {
  const std::vector<float> x(12, 1.0f), row(4, 1.0f), short_row(3, 1.0f);
  EXPECT_THROW(softmax_rows(x, {3, 4}, SoftmaxMask::None, DType::Int8), std::invalid_argument);
  EXPECT_THROW(softmax_rows(x, {3, 5}, SoftmaxMask::None, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(softmax_rows(x, {4, 3}, SoftmaxMask::Causal, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(layer_norm_rows(x, {3, 4}, row, short_row, 1e-5f, DType::Fp16),
               std::invalid_argument);
  EXPECT_THROW(rms_norm_rows(x, {3, 4}, short_row, 1e-5f, DType::Bf16), std::invalid_argument);
  EXPECT_THROW(rope_half_split(x, {2, 6}, {4, 0}, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(rope_half_split(x, {4, 3}, {3, 0}, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(residual_add(x, row, DType::Fp32), std::invalid_argument);
  EXPECT_THROW(silu_and_multiply(x, row, DType::Fp32), std::invalid_argument);
  EXPECT_THROW(compare_softmax_rows(x, {3, 4}, SoftmaxMask::None, row, DType::Fp16),
               std::invalid_argument);
  EXPECT_THROW(compare_rms_norm_rows(x, {3, 4}, row, 1e-5f, x, DType::Int8), std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
