// The datapath's number formats: rounding a float to each one, bit by bit.
// Every floating conversion rounds to nearest, ties to even.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"

namespace tessel::sim {

// IEEE binary16: 5 exponent bits (bias 15), 10 mantissa bits, subnormals down to 2^-24.
// Values that round beyond 65504 become ±inf; NaN stays NaN.
uint16_t fp16_bits(float value);
float fp16_value(uint16_t bits);

// bfloat16: the top half of an fp32 (8 exponent bits, 7 mantissa bits).
// Values that round beyond the largest finite bf16 become ±inf; NaN stays NaN.
uint16_t bf16_bits(float value);
float bf16_value(uint16_t bits);

// OCP FP8 E4M3: 4 exponent bits (bias 7), 3 mantissa bits, subnormals down to 2^-9,
// largest finite ±448, no infinity (S.1111.111 is NaN). Like the hardware's saturating
// converters, values that round beyond 448, and ±inf, saturate to ±448; `saturated` says so.
struct Fp8Encoding {
  uint8_t bits;
  bool saturated;
};
Fp8Encoding fp8_e4m3_bits(float value);
float fp8_e4m3_value(uint8_t bits);

// E4M3's largest finite value, which a per-tensor scale maps a tensor's amax to, and its
// smallest normal, below which its rounding errs by an absolute half subnormal, 2^-10.
inline constexpr float kFp8E4M3Max = 448.0f;
inline constexpr float kFp8E4M3MinNormal = 0x1p-6f;

// The value `value` takes in a floating format (fp32 is the identity).
// Throws std::invalid_argument for int8, which needs a tensor-wide scale.
float round_to_format(float value, arch::DType dtype);

// Symmetric per-tensor int8: value ≈ scale * q with q in [-127, 127] and
// scale = max|x| / 127. -128 is left unused so the grid is symmetric around zero
// (q(-x) = -q(x)) and the largest magnitude maps to ±127 exactly.
struct Int8Tensor {
  std::vector<int8_t> values;
  float scale;
};
// Throws std::invalid_argument on a non-finite input. An all-zero tensor gets scale 1:
// any scale reproduces zeros, and 1 keeps it invertible.
Int8Tensor quantize_int8_symmetric(const std::vector<float>& values);

}  // namespace tessel::sim
