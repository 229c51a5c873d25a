// The training operators that scale or sum whole tensors (the gradients' sum of squares for
// clipping, loss scaling undone, fp8 training's per-tensor cast) against their fp64
// references: within their stated bounds, planted faults each check catches, the overflow
// flag, E4M3's saturation and the scale of an all-zero tensor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/backward_ops.h"
#include "sim/numerics/backward_ops_check.h"
#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using testing_support::random_values;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- Gradient norm -------------------------------------------------------------------

TEST(BackwardNumericsGradientNorm, PassesWithinTheBlockedSumsBoundAtEverySize) {
  // One element, a block less one, one, one more, and many blocks with a partial last one.
  for (uint64_t n : {uint64_t{1}, uint64_t{1023}, uint64_t{1024}, uint64_t{1025}, uint64_t{100000}}) {
    SCOPED_TRACE(n);
    const std::vector<float> gradient = random_values(n, 1e-3f, 40, DType::Fp32);
    expect_passes(compare_gradient_square_sum(gradient, gradient_square_sum(gradient)));
  }
}

TEST(BackwardNumericsGradientNorm, TheBoundCountsTheRoundingsOfTheBlockedOrder) {
  const std::vector<float> gradient = random_values(100000, 1e-3f, 41, DType::Fp32);
  const float sum = gradient_square_sum(gradient);
  const NumericsReport report = compare_gradient_square_sum(gradient, sum);
  // A term passes through its square, 1023 adds in its block and 97 across the 98 blocks.
  EXPECT_TRUE(contains(report.reference, "gamma_1121(u)")) << report.reference;
  // About 1121 u = 6.7e-5 of the sum, where a sequential sum's n u would be 6e-3.
  EXPECT_LT(report.error_bound, 1e-4 * sum);
  // Moved by twice its bound, the sum fails; so does one that drops the last, partial block
  // (its 672 squares, 0.7% of the sum).
  EXPECT_FALSE(compare_gradient_square_sum(gradient, sum + 2 * static_cast<float>(report.error_bound)).passed);
  const std::vector<float> whole_blocks(gradient.begin(), gradient.begin() + 97 * 1024);
  EXPECT_FALSE(compare_gradient_square_sum(gradient, gradient_square_sum(whole_blocks)).passed);
}

TEST(BackwardNumericsGradientNorm, SumsSquaresExactlyWhereNothingRounds) {
  // Small integers' squares and sums are exact in fp32 and fp64 alike.
  std::vector<float> gradient(3000, 2.0f);
  gradient[2999] = -3.0f;
  EXPECT_EQ(gradient_square_sum(gradient), 12005.0f);
  EXPECT_EQ(gradient_square_sum_reference(to_double(gradient)), 12005.0);
  EXPECT_EQ(gradient_square_sum({}), 0.0f);
}

// ---- Gradient unscaling --------------------------------------------------------------

std::vector<float> scaled_gradients(float loss_scale, uint64_t seed) {
  std::vector<float> scaled = random_values(2000, 1e-3f, seed, DType::Fp32);
  for (float& g : scaled) g *= loss_scale;
  return scaled;
}

TEST(BackwardNumericsUnscale, PassesAtAPowerOfTwoAndAtAScaleWhoseReciprocalRounds) {
  const std::vector<float> exact_case = scaled_gradients(65536.0f, 42);
  const NumericsReport exact_report =
      compare_unscale_gradients(exact_case, 65536.0f, unscale_gradients(exact_case, 65536.0f));
  expect_passes(exact_report);
  // Multiplying by 2^-16 is exact: any difference would be a bug.
  EXPECT_EQ(exact_report.max_abs_error, 0.0);
  // 1/3000 is not a float: the reciprocal and each product round, within (2u + u²) relative.
  const std::vector<float> rounded_case = scaled_gradients(3000.0f, 43);
  const NumericsReport rounded_report =
      compare_unscale_gradients(rounded_case, 3000.0f, unscale_gradients(rounded_case, 3000.0f));
  expect_passes(rounded_report);
  EXPECT_GT(rounded_report.max_abs_error, 0.0);
}

TEST(BackwardNumericsUnscale, CatchesAWrongScaleOrFlag) {
  const std::vector<float> scaled = scaled_gradients(65536.0f, 44);
  // The scale of the step before a back-off: every gradient twice its value.
  const NumericsReport stale = compare_unscale_gradients(scaled, 65536.0f, unscale_gradients(scaled, 32768.0f));
  EXPECT_FALSE(stale.passed);
  EXPECT_TRUE(contains(stale.reference, "failed: gradients")) << stale.reference;
  UnscaledGradients<float> flagged = unscale_gradients(scaled, 65536.0f);
  flagged.found_inf = true;
  const NumericsReport spurious = compare_unscale_gradients(scaled, 65536.0f, flagged);
  EXPECT_FALSE(spurious.passed);
  EXPECT_TRUE(contains(spurious.reference, "failed: found_inf")) << spurious.reference;
}

TEST(BackwardNumericsUnscale, FlagsAnInfOrNaNAndStillChecksTheFiniteGradients) {
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    SCOPED_TRACE(bad);
    std::vector<float> scaled = scaled_gradients(65536.0f, 45);
    EXPECT_FALSE(unscale_gradients(scaled, 65536.0f).found_inf);
    scaled[1234] = bad;
    const UnscaledGradients<float> out = unscale_gradients(scaled, 65536.0f);
    EXPECT_TRUE(out.found_inf);
    EXPECT_TRUE(unscale_gradients_reference(to_double(scaled), 65536.0).found_inf);
    expect_passes(compare_unscale_gradients(scaled, 65536.0f, out));
    UnscaledGradients<float> missed = out;
    missed.found_inf = false;
    EXPECT_FALSE(compare_unscale_gradients(scaled, 65536.0f, missed).passed);
    UnscaledGradients<float> doubled = out;
    doubled.gradient[0] *= 2;
    EXPECT_FALSE(compare_unscale_gradients(scaled, 65536.0f, doubled).passed);
  }
}

// ---- fp8 cast ------------------------------------------------------------------------

constexpr uint8_t kFp8MaxCode = 0x7e;  // +448
constexpr uint8_t kFp8SignBit = 0x80;

TEST(BackwardNumericsQuantize, PassesFromEveryFormatAndMapsTheAmaxTo448) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    // A spread of 2 puts most elements in E4M3's normal range and a few below it.
    const std::vector<float> x = random_values(4096, 2.0f, 46, dtype);
    const Fp8Tensor out = quantize_fp8_e4m3(x, dtype);
    expect_passes(compare_quantize_fp8_e4m3(x, out, dtype));
    float amax = 0.0f;
    for (float value : x) amax = std::max(amax, std::fabs(value));
    EXPECT_EQ(out.amax, amax);
    EXPECT_EQ(out.scale, kFp8E4M3Max / amax);
    uint8_t largest = 0;
    for (uint8_t code : out.codes) largest = std::max(largest, static_cast<uint8_t>(code & ~kFp8SignBit));
    EXPECT_EQ(largest, kFp8MaxCode);
  }
}

// Rounding toward zero instead of to nearest: one code nearer zero wherever fp8 rounded up.
std::vector<uint8_t> truncated_codes(const std::vector<float>& x, float scale) {
  std::vector<uint8_t> codes = cast_fp8_e4m3(x, scale);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(fp8_e4m3_value(codes[i])) > std::fabs(x[i] * scale)) --codes[i];
  }
  return codes;
}

// The outputs a report names as failed, "" when it passed.
std::string failures(const NumericsReport& report) {
  const std::size_t at = report.reference.find("failed: ");
  return at == std::string::npos ? "" : report.reference.substr(at);
}

TEST(BackwardNumericsQuantize, CatchesAWrongScaleAmaxOrRounding) {
  const DType dtype = DType::Bf16;
  const std::vector<float> x = random_values(4096, 1.0f, 47, dtype);
  const Fp8Tensor out = quantize_fp8_e4m3(x, dtype);
  Fp8Tensor nudged = out;
  nudged.amax = std::nextafter(out.amax, 0.0f);
  EXPECT_EQ(failures(compare_quantize_fp8_e4m3(x, nudged, dtype)), "failed: amax");
  // Codes cast with twice the scale but dequantized with the scale: every value doubled.
  Fp8Tensor doubled = out;
  doubled.codes = cast_fp8_e4m3(x, 2 * out.scale);
  EXPECT_EQ(failures(compare_quantize_fp8_e4m3(x, doubled, dtype)), "failed: dequantized");
  // Twice the scale throughout, as an amax of half the tensor's would give: the elements past
  // half the amax saturate.
  const Fp8Tensor stale{doubled.codes, out.amax, 2 * out.scale};
  EXPECT_EQ(failures(compare_quantize_fp8_e4m3(x, stale, dtype)), "failed: scale, dequantized");
  Fp8Tensor truncated = out;
  truncated.codes = truncated_codes(x, out.scale);
  EXPECT_EQ(failures(compare_quantize_fp8_e4m3(x, truncated, dtype)), "failed: dequantized");
}

TEST(BackwardNumericsQuantize, SaturatesAt448UnderAStaleScale) {
  // Delayed scaling's scale from an earlier amax of 2: 4 and -8 land past 448 and saturate.
  const std::vector<float> x{1.0f, 2.0f, 4.0f, -8.0f};
  const std::vector<uint8_t> codes = cast_fp8_e4m3(x, 224.0f);
  EXPECT_EQ(fp8_e4m3_value(codes[0]), 224.0f);
  EXPECT_EQ(codes[1], kFp8MaxCode);
  EXPECT_EQ(codes[2], kFp8MaxCode);
  EXPECT_EQ(codes[3], kFp8MaxCode | kFp8SignBit);
  // Saturated, they dequantize to 2 rather than 4 and 8: far past E4M3's rounding.
  EXPECT_FALSE(compare_quantize_fp8_e4m3(x, {codes, 8.0f, 224.0f}, DType::Fp32).passed);
}

TEST(BackwardNumericsQuantize, AnAllZeroTensorGetsScaleOneAndATinyOneTheLargestFloat) {
  const std::vector<float> zeros(64, 0.0f);
  const Fp8Tensor zero = quantize_fp8_e4m3(zeros, DType::Bf16);
  EXPECT_EQ(zero.amax, 0.0f);
  EXPECT_EQ(zero.scale, 1.0f);
  for (uint8_t code : zero.codes) EXPECT_EQ(code, 0);
  expect_passes(compare_quantize_fp8_e4m3(zeros, zero, DType::Bf16));
  // 448 / 2^-125 overflows fp32: the scale stops at the largest float, and zeros stay zeros
  // rather than 0·inf = NaN.
  const std::vector<float> tiny{0x1p-125f, 0.0f, -0x1p-126f};
  const Fp8Tensor clamped = quantize_fp8_e4m3(tiny, DType::Bf16);
  EXPECT_EQ(clamped.scale, std::numeric_limits<float>::max());
  EXPECT_EQ(clamped.codes[1], 0);
  expect_passes(compare_quantize_fp8_e4m3(tiny, clamped, DType::Bf16));
}

TEST(BackwardNumericsScalingArguments, RejectsBadArguments) {
  const std::vector<float> x(8, 1.0f);
  EXPECT_THROW(quantize_fp8_e4m3(x, DType::Int8), std::invalid_argument);
  EXPECT_THROW(compare_quantize_fp8_e4m3(x, {std::vector<uint8_t>(4), 1.0f, 448.0f}, DType::Bf16),
               std::invalid_argument);
  EXPECT_THROW(compare_unscale_gradients(x, 2.0f, {std::vector<float>(4), false}), std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
