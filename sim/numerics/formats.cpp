#include "sim/numerics/formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace tessel::sim {
namespace {

// A binary floating format narrower than fp32, described by its field widths.
struct MiniFloat {
  int exponent_bits;
  int mantissa_bits;

  int bias() const { return (1 << (exponent_bits - 1)) - 1; }
  int min_normal_exponent() const { return 1 - bias(); }
  uint32_t sign_bit() const { return 1u << (exponent_bits + mantissa_bits); }
  uint32_t all_ones_exponent() const { return ((1u << exponent_bits) - 1) << mantissa_bits; }
};

constexpr MiniFloat kFp16{5, 10};
constexpr MiniFloat kBf16{8, 7};
constexpr MiniFloat kFp8E4M3{4, 3};

constexpr uint32_t kFloatMagnitudeMask = 0x7fffffff;
constexpr uint32_t kFloatInfinityBits = 0x7f800000;
constexpr uint32_t kFloatFractionMask = 0x7fffff;
constexpr int kFloatFractionBits = 23;
constexpr int kFloatBias = 127;
constexpr int kFloatMinNormalExponent = -126;
constexpr uint8_t kFp8MaxFiniteMagnitude = 0x7e;  // 0.1111.110 = 1.75 * 2^8 = 448
constexpr uint8_t kFp8NanMagnitude = 0x7f;

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

// significand / 2^shift, rounded to nearest with ties to even.
uint32_t shift_right_round_even(uint32_t significand, int shift) {
  if (shift == 0) return significand;
  // Shifts of 32 or more are undefined; a significand below 2^24 shifted that far is under
  // one half, which rounds to zero.
  if (shift >= 32) return 0;
  const uint32_t quotient = significand >> shift;
  const uint32_t remainder = significand & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  // Bitwise rather than short-circuit logic: the direction depends on the data, and a
  // mispredicted branch costs more than computing both halves.
  const uint32_t above_half = static_cast<uint32_t>(remainder > half);
  const uint32_t tie_to_odd = static_cast<uint32_t>(remainder == half) & quotient;
  return quotient + ((above_half | tie_to_odd) & 1u);
}

// Rounds the magnitude of a non-NaN float to `format` and returns its bit pattern without
// the sign. The exponent field is not capped: a result at or past the all-ones exponent
// means the value overflowed, and each format handles that its own way.
uint32_t round_magnitude(uint32_t magnitude_bits, const MiniFloat& format) {
  const int biased_exponent = static_cast<int>(magnitude_bits >> kFloatFractionBits);
  const uint32_t fraction = magnitude_bits & kFloatFractionMask;
  // An fp32 subnormal is fraction * 2^-149: exponent -126 without the implicit bit.
  const bool float_subnormal = biased_exponent == 0;
  const int exponent = float_subnormal ? kFloatMinNormalExponent : biased_exponent - kFloatBias;
  const uint32_t significand = float_subnormal ? fraction : fraction | (1u << kFloatFractionBits);
  const int dropped_bits = kFloatFractionBits - format.mantissa_bits;
  const int min_exponent = format.min_normal_exponent();
  if (exponent >= min_exponent) {
    // Rounding up to 2^(mantissa_bits+1) carries into the exponent field, which is the
    // correctly rounded result (or the overflow pattern the caller checks for).
    const uint32_t rounded = shift_right_round_even(significand, dropped_bits);
    const uint32_t exponent_field = static_cast<uint32_t>(exponent + format.bias());
    return (exponent_field << format.mantissa_bits) + rounded - (1u << format.mantissa_bits);
  }
  // Below the format's normal range the value is a whole number of its smallest subnormal,
  // 2^(min_exponent - mantissa_bits); rounding up to 2^mantissa_bits of them gives the
  // smallest normal's pattern.
  return shift_right_round_even(significand, dropped_bits + (min_exponent - exponent));
}

// Formats with infinities (fp16, bf16): overflow goes to ±inf, NaN to a quiet NaN.
uint32_t encode_with_infinity(float value, const MiniFloat& format) {
  const uint32_t bits = bits_of(value);
  const uint32_t sign = (bits >> 31) != 0 ? format.sign_bit() : 0;
  const uint32_t magnitude = bits & kFloatMagnitudeMask;
  const uint32_t infinity = format.all_ones_exponent();
  if (magnitude > kFloatInfinityBits) return sign | infinity | (1u << (format.mantissa_bits - 1));
  return sign | std::min(round_magnitude(magnitude, format), infinity);
}

// 2^exponent for an exponent in fp32's normal range.
float power_of_two(int exponent) {
  return float_of(static_cast<uint32_t>(exponent + kFloatBias) << kFloatFractionBits);
}

// The value of a finite magnitude pattern (no sign, not inf/NaN) of a format whose
// exponents, subnormals included, lie inside fp32's normal range (fp16, fp8).
float decode_magnitude(uint32_t magnitude, const MiniFloat& format) {
  const uint32_t exponent_field = magnitude >> format.mantissa_bits;
  const uint32_t mantissa = magnitude & ((1u << format.mantissa_bits) - 1);
  if (exponent_field == 0) {
    return static_cast<float>(mantissa) *
           power_of_two(format.min_normal_exponent() - format.mantissa_bits);
  }
  const int exponent = static_cast<int>(exponent_field) - format.bias();
  return float_of((static_cast<uint32_t>(exponent + kFloatBias) << kFloatFractionBits) |
                  (mantissa << (kFloatFractionBits - format.mantissa_bits)));
}

}  // namespace

uint16_t fp16_bits(float value) {
  return static_cast<uint16_t>(encode_with_infinity(value, kFp16));
}

float fp16_value(uint16_t bits) {
  const uint32_t magnitude = bits & (kFp16.sign_bit() - 1);
  const bool negative = (bits & kFp16.sign_bit()) != 0;
  float value;
  if (magnitude == kFp16.all_ones_exponent()) {
    value = std::numeric_limits<float>::infinity();
  } else if (magnitude > kFp16.all_ones_exponent()) {
    value = std::numeric_limits<float>::quiet_NaN();
  } else {
    value = decode_magnitude(magnitude, kFp16);
  }
  return negative ? -value : value;
}

uint16_t bf16_bits(float value) {
  return static_cast<uint16_t>(encode_with_infinity(value, kBf16));
}

float bf16_value(uint16_t bits) { return float_of(static_cast<uint32_t>(bits) << 16); }

Fp8Encoding fp8_e4m3_bits(float value) {
  const uint32_t bits = bits_of(value);
  const uint8_t sign = (bits >> 31) != 0 ? static_cast<uint8_t>(kFp8E4M3.sign_bit()) : 0;
  const uint32_t magnitude = bits & kFloatMagnitudeMask;
  if (magnitude > kFloatInfinityBits) return {static_cast<uint8_t>(sign | kFp8NanMagnitude), false};
  const uint32_t rounded = round_magnitude(magnitude, kFp8E4M3);
  if (rounded > kFp8MaxFiniteMagnitude) {
    return {static_cast<uint8_t>(sign | kFp8MaxFiniteMagnitude), true};
  }
  return {static_cast<uint8_t>(sign | rounded), false};
}

float fp8_e4m3_value(uint8_t bits) {
  const uint32_t magnitude = bits & (kFp8E4M3.sign_bit() - 1);
  const bool negative = (bits & kFp8E4M3.sign_bit()) != 0;
  const float value = magnitude == kFp8NanMagnitude ? std::numeric_limits<float>::quiet_NaN()
                                                    : decode_magnitude(magnitude, kFp8E4M3);
  return negative ? -value : value;
}

float round_to_format(float value, arch::DType dtype) {
  switch (dtype) {
    case arch::DType::Fp32: return value;
    case arch::DType::Fp16: return fp16_value(fp16_bits(value));
    case arch::DType::Bf16: return bf16_value(bf16_bits(value));
    case arch::DType::Fp8: return fp8_e4m3_value(fp8_e4m3_bits(value).bits);
    case arch::DType::Int8:
    case arch::DType::Int4: break;
  }
  throw std::invalid_argument("round_to_format: an integer format needs a scale");
}

Int8Tensor quantize_int8_symmetric(const std::vector<float>& values) {
  constexpr float kLimit = 127.0f;
  float max_magnitude = 0.0f;
  for (float value : values) {
    if (!std::isfinite(value))
      throw std::invalid_argument("quantize_int8_symmetric: non-finite input");
    max_magnitude = std::max(max_magnitude, std::fabs(value));
  }
  Int8Tensor tensor{{}, max_magnitude == 0.0f ? 1.0f : max_magnitude / kLimit};
  tensor.values.reserve(values.size());
  for (float value : values) {
    // nearbyint rounds ties to even in the default rounding mode; the clamp catches the
    // largest magnitude landing a hair above 127 after the division.
    const float level = std::clamp(std::nearbyint(value / tensor.scale), -kLimit, kLimit);
    tensor.values.push_back(static_cast<int8_t>(level));
  }
  return tensor;
}

}  // namespace tessel::sim
