// Rounding to the datapath's number formats: exhaustive round trips, known values, and
// random floats against a slow reference built from frexp/ldexp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "sim/numerics/formats.h"

namespace tessel::sim {
namespace {

using arch::DType;

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_of(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// The grid of a binary floating format, as the slow reference sees it.
struct Grid {
  int mantissa_bits;
  int min_normal_exponent;
  double max_finite;
};

constexpr Grid kFp16Grid{10, -14, 65504.0};
constexpr Grid kBf16Grid{7, -126, 0x1.fep127};
constexpr Grid kFp8Grid{3, -6, 448.0};

// x rounded to nearest-even on the grid, ignoring overflow: the spacing of the grid near x
// is 2^(max(exponent of x, min normal exponent) - mantissa bits), and nearbyint rounds ties
// to even in the default rounding mode. Every step is exact in double.
double reference_round(double x, const Grid& grid) {
  if (x == 0) return x;
  int exponent;
  std::frexp(x, &exponent);  // x = f * 2^exponent with 0.5 <= |f| < 1
  const int spacing_exponent =
      std::max(exponent - 1, grid.min_normal_exponent) - grid.mantissa_bits;
  return std::ldexp(std::nearbyint(std::ldexp(x, -spacing_exponent)), spacing_exponent);
}

// Floats near the format's range: random sign, fraction and biased fp32 exponent in
// [lowest, highest]. Every other draw is an exact tie of the format (the dropped fraction
// bits are 100...0), which random fractions would almost never hit.
std::vector<float> random_floats(int lowest, int highest, int mantissa_bits, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<uint32_t> fraction(0, (1u << 23) - 1);
  std::uniform_int_distribution<uint32_t> exponent(static_cast<uint32_t>(lowest),
                                                   static_cast<uint32_t>(highest));
  std::uniform_int_distribution<uint32_t> sign(0, 1);
  const int dropped = 23 - mantissa_bits;
  const uint32_t dropped_mask = (1u << dropped) - 1;
  std::vector<float> values;
  for (int draw = 0; draw < 400000; ++draw) {
    uint32_t bits = (sign(engine) << 31) | (exponent(engine) << 23) | fraction(engine);
    if (draw % 2 == 1) bits = (bits & ~dropped_mask) | (1u << (dropped - 1));
    values.push_back(float_of(bits));
  }
  return values;
}

TEST(FormatsFp16, EveryBitPatternDecodesAndRoundTrips) {
  for (uint32_t pattern = 0; pattern <= 0xffff; ++pattern) {
    const auto bits = static_cast<uint16_t>(pattern);
    const float value = fp16_value(bits);
    const uint32_t exponent_field = (pattern >> 10) & 0x1f;
    const uint32_t mantissa = pattern & 0x3ff;
    if (exponent_field == 0x1f && mantissa != 0) {
      EXPECT_TRUE(std::isnan(value)) << pattern;
      EXPECT_TRUE(std::isnan(fp16_value(fp16_bits(value)))) << pattern;
      continue;
    }
    const double magnitude =
        exponent_field == 0x1f ? std::numeric_limits<double>::infinity()
        : exponent_field == 0  ? std::ldexp(mantissa, -24)
                               : std::ldexp(1024 + mantissa, static_cast<int>(exponent_field) - 25);
    EXPECT_EQ(static_cast<double>(value), (pattern & 0x8000) != 0 ? -magnitude : magnitude)
        << pattern;
    EXPECT_EQ(fp16_bits(value), bits) << pattern;
  }
}

TEST(FormatsFp16, KnownValues) {
  EXPECT_EQ(fp16_bits(1.0f), 0x3c00);
  EXPECT_EQ(fp16_bits(-2.0f), 0xc000);
  EXPECT_EQ(fp16_bits(-0.0f), 0x8000);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa, 1.
  EXPECT_EQ(fp16_bits(1.0f + 0x1p-11f), 0x3c00);
  // 1 + 3*2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even): up.
  EXPECT_EQ(fp16_bits(1.0f + 0x3p-11f), 0x3c02);
  EXPECT_EQ(fp16_bits(1.0f + 0x1.01p-11f), 0x3c01);  // just past the tie: up
  EXPECT_EQ(fp16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(fp16_bits(65519.0f), 0x7bff);  // below the midpoint to 2^16
  EXPECT_EQ(fp16_bits(65520.0f), 0x7c00);  // the midpoint ties to "2^16": inf
  EXPECT_EQ(fp16_bits(-1e10f), 0xfc00);
  EXPECT_EQ(fp16_bits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(fp16_bits(0x1p-14f), 0x0400);  // smallest normal
  EXPECT_EQ(fp16_bits(0x1p-24f), 0x0001);  // smallest subnormal
  EXPECT_EQ(fp16_bits(0x1p-25f), 0x0000);  // half of it ties to even zero
  EXPECT_EQ(fp16_bits(0x1.8p-25f), 0x0001);
  EXPECT_EQ(fp16_bits(0x3p-25f), 0x0002);      // 1.5 subnormal units tie up to 2
  EXPECT_EQ(fp16_bits(0x1.ffcp-15f), 0x0400);  // tie of the largest subnormal (odd) and 2^-14
  EXPECT_EQ(fp16_bits(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_TRUE(std::isnan(fp16_value(fp16_bits(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(FormatsFp16, RandomFloatsMatchSlowReference) {
  // fp32 biased exponents 100..145 span fp16's subnormals (2^-24 is 103) past its overflow.
  for (float value : random_floats(100, 145, 10, 1)) {
    const double rounded = reference_round(value, kFp16Grid);
    const double expected = std::fabs(rounded) > kFp16Grid.max_finite
                                ? std::copysign(std::numeric_limits<double>::infinity(), rounded)
                                : rounded;
    ASSERT_EQ(bits_of(fp16_value(fp16_bits(value))), bits_of(static_cast<float>(expected)))
        << value;
  }
}

TEST(FormatsBf16, EveryBitPatternRoundTrips) {
  for (uint32_t pattern = 0; pattern <= 0xffff; ++pattern) {
    const auto bits = static_cast<uint16_t>(pattern);
    const float value = bf16_value(bits);
    EXPECT_EQ(bits_of(value), pattern << 16) << pattern;
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(bf16_value(bf16_bits(value)))) << pattern;
    } else {
      EXPECT_EQ(bf16_bits(value), bits) << pattern;
    }
  }
}

TEST(FormatsBf16, KnownValues) {
  EXPECT_EQ(bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(bf16_bits(1.0f + 0x1p-8f), 0x3f80);                     // tie to even: down
  EXPECT_EQ(bf16_bits(1.0f + 0x3p-8f), 0x3f82);                     // tie to even: up
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::max()), 0x7f80);  // rounds past the top: inf
  EXPECT_EQ(bf16_bits(0x1.fep127f), 0x7f7f);                        // largest finite bf16
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(bf16_bits(0x1p-133f), 0x0001);  // smallest bf16 subnormal
  // A NaN whose payload lies only in the dropped bits must not truncate to infinity.
  EXPECT_TRUE(std::isnan(bf16_value(bf16_bits(float_of(0x7f800001)))));
}

TEST(FormatsBf16, RandomFloatsMatchSlowReference) {
  for (float value : random_floats(0, 254, 7, 2)) {  // every finite fp32 exponent
    const double rounded = reference_round(value, kBf16Grid);
    const double expected = std::fabs(rounded) > kBf16Grid.max_finite
                                ? std::copysign(std::numeric_limits<double>::infinity(), rounded)
                                : rounded;
    ASSERT_EQ(bits_of(bf16_value(bf16_bits(value))), bits_of(static_cast<float>(expected)))
        << value;
  }
}

TEST(FormatsFp8, EveryBitPatternRoundTrips) {
  for (uint32_t pattern = 0; pattern <= 0xff; ++pattern) {
    const auto bits = static_cast<uint8_t>(pattern);
    const float value = fp8_e4m3_value(bits);
    if ((pattern & 0x7f) == 0x7f) {
      EXPECT_TRUE(std::isnan(value)) << pattern;
      continue;
    }
    const Fp8Encoding encoding = fp8_e4m3_bits(value);
    EXPECT_EQ(encoding.bits, bits) << pattern;
    EXPECT_FALSE(encoding.saturated) << pattern;
  }
  std::vector<float> positives;
  for (uint8_t bits = 0; bits < 0x7f; ++bits) positives.push_back(fp8_e4m3_value(bits));
  EXPECT_TRUE(std::is_sorted(positives.begin(), positives.end()));
  EXPECT_EQ(std::adjacent_find(positives.begin(), positives.end()), positives.end());
}

TEST(FormatsFp8, KnownValues) {
  EXPECT_EQ(fp8_e4m3_value(0x38), 1.0f);     // 0.0111.000: exponent 7 - bias 7
  EXPECT_EQ(fp8_e4m3_value(0x08), 0x1p-6f);  // smallest normal
  EXPECT_EQ(fp8_e4m3_value(0x01), 0x1p-9f);  // smallest subnormal
  EXPECT_EQ(fp8_e4m3_value(0x7e), 448.0f);   // largest finite: 0.1111.110
  EXPECT_EQ(fp8_e4m3_value(0xfe), -448.0f);

  const Fp8Encoding max_finite = fp8_e4m3_bits(448.0f);
  EXPECT_EQ(max_finite.bits, 0x7e);
  EXPECT_FALSE(max_finite.saturated);
  // 464 is halfway between 448 (mantissa 110, even) and 480 (111): a tie, not an overflow.
  const Fp8Encoding tie = fp8_e4m3_bits(464.0f);
  EXPECT_EQ(tie.bits, 0x7e);
  EXPECT_FALSE(tie.saturated);
  const Fp8Encoding past_tie = fp8_e4m3_bits(465.0f);
  EXPECT_EQ(past_tie.bits, 0x7e);
  EXPECT_TRUE(past_tie.saturated);
  const Fp8Encoding negative = fp8_e4m3_bits(-1000.0f);
  EXPECT_EQ(negative.bits, 0xfe);
  EXPECT_TRUE(negative.saturated);
  const Fp8Encoding infinity = fp8_e4m3_bits(std::numeric_limits<float>::infinity());
  EXPECT_EQ(infinity.bits, 0x7e);
  EXPECT_TRUE(infinity.saturated);
  EXPECT_TRUE(
      std::isnan(fp8_e4m3_value(fp8_e4m3_bits(std::numeric_limits<float>::quiet_NaN()).bits)));

  EXPECT_EQ(fp8_e4m3_bits(1.0625f).bits, 0x38);   // 1 + 2^-4: tie to even, down
  EXPECT_EQ(fp8_e4m3_bits(1.1875f).bits, 0x3a);   // 1 + 3*2^-4: tie to even, up
  EXPECT_EQ(fp8_e4m3_bits(0x1p-10f).bits, 0x00);  // half the smallest subnormal: to zero
  EXPECT_EQ(fp8_e4m3_bits(0x3p-10f).bits, 0x02);  // 1.5 subnormal units: up to 2
}

TEST(FormatsFp8, RandomFloatsMatchSlowReference) {
  // fp32 biased exponents 115..137 span E4M3's subnormals (2^-9 is 118) past 448 (2^8 is 135).
  for (float value : random_floats(115, 137, 3, 3)) {
    const double rounded = reference_round(value, kFp8Grid);
    const bool overflows = std::fabs(rounded) > kFp8Grid.max_finite;
    const double expected = overflows ? std::copysign(kFp8Grid.max_finite, rounded) : rounded;
    const Fp8Encoding encoding = fp8_e4m3_bits(value);
    ASSERT_EQ(bits_of(fp8_e4m3_value(encoding.bits)), bits_of(static_cast<float>(expected)))
        << value;
    ASSERT_EQ(encoding.saturated, overflows) << value;
  }
}

TEST(FormatsRoundToFormat, DispatchesByDtype) {
  const float value = 1.0f + 0x1p-9f + 0x1p-20f;
  EXPECT_EQ(round_to_format(value, DType::Fp32), value);
  EXPECT_EQ(round_to_format(value, DType::Fp16), 1.0f + 0x1p-9f);
  EXPECT_EQ(round_to_format(value, DType::Bf16), 1.0f);
  EXPECT_EQ(round_to_format(value, DType::Fp8), 1.0f);
  EXPECT_EQ(round_to_format(1000.0f, DType::Fp8), 448.0f);
  EXPECT_THROW(round_to_format(value, DType::Int8), std::invalid_argument);
}

TEST(FormatsInt8, SymmetricPerTensorQuantization) {
  // Quotients kept clear of the .5 ties, where the fp32 rounding of the scale would decide.
  const std::vector<float> values{0.5f, -2.54f, 1.26f, 0.0f, -0.021f, 2.54f, 0.061f};
  const Int8Tensor tensor = quantize_int8_symmetric(values);
  EXPECT_EQ(tensor.scale, 2.54f / 127.0f);
  EXPECT_EQ(tensor.values, (std::vector<int8_t>{25, -127, 63, 0, -1, 127, 3}));

  std::vector<float> negated_values;
  for (float value : values) negated_values.push_back(-value);
  const Int8Tensor negated = quantize_int8_symmetric(negated_values);
  for (std::size_t index = 0; index < values.size(); ++index) {
    EXPECT_EQ(negated.values[index], -tensor.values[index]) << index;
  }
}

TEST(FormatsInt8, RandomTensorStaysWithinHalfAStep) {
  std::mt19937_64 engine(4);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> values(10000);
  for (float& value : values) value = normal(engine);
  const Int8Tensor tensor = quantize_int8_symmetric(values);
  const auto largest = std::max_element(
      values.begin(), values.end(), [](float x, float y) { return std::fabs(x) < std::fabs(y); });
  EXPECT_EQ(tensor.scale, std::fabs(*largest) / 127.0f);
  EXPECT_EQ(std::abs(tensor.values[static_cast<std::size_t>(largest - values.begin())]), 127);
  EXPECT_GT(*std::min_element(tensor.values.begin(), tensor.values.end()), -128);
  for (std::size_t index = 0; index < values.size(); ++index) {
    // Half a step, plus the fp32 roundings of value/scale and of the scale itself: a relative
    // 2^-20 of the step covers them with room to spare.
    const double dequantized = static_cast<double>(tensor.values[index]) * tensor.scale;
    EXPECT_LE(std::fabs(values[index] - dequantized), 0.5 * tensor.scale * (1 + 0x1p-20)) << index;
  }
}

TEST(FormatsInt8, AllZeroAndNonFiniteInputs) {
  const Int8Tensor zeros = quantize_int8_symmetric({0.0f, -0.0f, 0.0f});
  EXPECT_EQ(zeros.scale, 1.0f);
  EXPECT_EQ(zeros.values, (std::vector<int8_t>{0, 0, 0}));
  EXPECT_THROW(quantize_int8_symmetric({1.0f, std::numeric_limits<float>::infinity()}),
               std::invalid_argument);
  EXPECT_THROW(quantize_int8_symmetric({std::numeric_limits<float>::quiet_NaN()}),
               std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
