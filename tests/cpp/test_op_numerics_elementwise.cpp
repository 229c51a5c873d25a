// The element-wise operators (GELU, SiLU, SwiGLU, RoPE, residual add) on the datapath against
// their fp64 references: every floating format within the derived bound, known values, and a
// planted bug each check catches.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
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
using testing_support::in_format;
using testing_support::kFloatDtypes;
using testing_support::narrower;
using testing_support::random_values;

TEST(OpNumericsActivations, PassInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> x = random_values(4096, 3.0f, 12, dtype);
    const std::vector<float> up = random_values(4096, 1.0f, 13, dtype);
    expect_passes(compare_gelu(x, GeluForm::Erf, gelu(x, GeluForm::Erf, dtype), dtype));
    expect_passes(compare_gelu(x, GeluForm::Tanh, gelu(x, GeluForm::Tanh, dtype), dtype));
    expect_passes(compare_silu(x, silu(x, dtype), dtype));
    expect_passes(compare_silu_and_multiply(x, up, silu_and_multiply(x, up, dtype), dtype));
  }
}

TEST(OpNumericsActivations, KnownValues) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> zero{0.0f};
    EXPECT_EQ(gelu(zero, GeluForm::Erf, dtype), zero);
    EXPECT_EQ(gelu(zero, GeluForm::Tanh, dtype), zero);
    EXPECT_EQ(silu(zero, dtype), zero);
    // For x = 20, e^-20 = 2e-9 is below half an fp32 ulp of 1, so 1 + e^-20 rounds to 1 and
    // SiLU(x) = GELU(x) = x exactly (erf and tanh of 14 or more are 1 in fp32).
    const std::vector<float> large{20.0f, 64.0f};
    EXPECT_EQ(silu(large, dtype), large);
    EXPECT_EQ(gelu(large, GeluForm::Erf, dtype), large);
    EXPECT_EQ(gelu(large, GeluForm::Tanh, dtype), large);
  }
}

TEST(OpNumericsActivations, TheTanhFormNeedsItsModelErrorInTheBound) {
  // In fp32 the tanh form's model error (up to 4.7e-4) dwarfs every rounding, so judging it
  // by the erf form's bound alone fails; that is what the model-error term is for.
  const std::vector<float> x = random_values(1024, 2.0f, 14, DType::Fp32);
  const std::vector<float> tanh_form = gelu(x, GeluForm::Tanh, DType::Fp32);
  EXPECT_FALSE(compare_gelu(x, GeluForm::Erf, tanh_form, DType::Fp32).passed);
  expect_passes(compare_gelu(x, GeluForm::Tanh, tanh_form, DType::Fp32));
}

TEST(OpNumericsActivations, CatchesTheSigmoidApproximationPassedOffAsGelu) {
  // x sigmoid(1.702 x) is off the exact GELU by up to 0.02, beyond every format's bound but fp8's.
  const std::vector<float> x = random_values(1024, 2.0f, 15, DType::Fp32);
  for (DType dtype : {DType::Fp16, DType::Bf16, DType::Fp32}) {
    const std::vector<float> input = in_format(x, dtype);
    std::vector<float> sigmoid_form(input.size());
    for (std::size_t i = 0; i < input.size(); ++i) {
      sigmoid_form[i] = round_to_format(input[i] / (1.0f + std::exp(-1.702f * input[i])), dtype);
    }
    EXPECT_FALSE(compare_gelu(input, GeluForm::Erf, sigmoid_form, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsActivations, CatchesSwappedSwiGluOperands) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> gate = random_values(512, 2.0f, 16, dtype);
    const std::vector<float> up = random_values(512, 2.0f, 17, dtype);
    EXPECT_FALSE(
        compare_silu_and_multiply(gate, up, silu_and_multiply(up, gate, dtype), dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsActivations, CatchesAnExtraRoundingBetweenSiluAndTheMultiply) {
  // The fused SwiGLU rounds once; rounding SiLU's output to a narrower format first adds that
  // format's rounding, which the bound does not allow.
  for (DType dtype : {DType::Fp16, DType::Bf16, DType::Fp32}) {
    const std::vector<float> gate = random_values(512, 2.0f, 18, dtype);
    const std::vector<float> up = random_values(512, 2.0f, 19, dtype);
    const std::vector<float> activated = silu(gate, narrower(dtype));
    std::vector<float> twice_rounded(gate.size());
    for (std::size_t i = 0; i < gate.size(); ++i) {
      twice_rounded[i] = round_to_format(activated[i] * up[i], dtype);
    }
    EXPECT_FALSE(compare_silu_and_multiply(gate, up, twice_rounded, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsActivations, CatchesASiluWithTheWrongSignInTheExponent) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(512, 2.0f, 20, dtype);
    std::vector<float> wrong_sign(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      wrong_sign[i] = round_to_format(x[i] / (1.0f + std::exp(x[i])), dtype);
    }
    EXPECT_FALSE(compare_silu(x, wrong_sign, dtype).passed) << arch::to_string(dtype);
  }
}

// Positions 0..rows-1 after the offset; rows of 4 heads of 32.
constexpr RowShape kRopeShape{6, 128};

TEST(OpNumericsRope, PassesInEveryFormatAtPrefillAndDecodePositions) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(kRopeShape.rows * kRopeShape.cols, 1.0f, 21, dtype);
    // Offset 4090 puts angles near 4095 rad, where fp32 holds an angle only to 2^-12 rad
    // and the rotation errs by more than fp16's rounding: the bound must carry that.
    for (uint64_t offset : {uint64_t{0}, uint64_t{17}, uint64_t{4090}}) {
      const RopeLayout layout{32, offset};
      SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " offset " << offset);
      expect_passes(compare_rope_half_split(x, kRopeShape, layout,
                                            rope_half_split(x, kRopeShape, layout, dtype), dtype));
    }
  }
}

TEST(OpNumericsRope, PositionZeroIsTheIdentity) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(kRopeShape.cols, 1.0f, 22, dtype);
    // cos 0 = 1 and sin 0 = 0 exactly, so every value comes back unchanged.
    EXPECT_EQ(rope_half_split(x, {1, kRopeShape.cols}, {32, 0}, dtype), x)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsRope, PreservesTheNormOfEveryPair) {
  const uint64_t head_dim = 32;
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(kRopeShape.rows * kRopeShape.cols, 1.0f, 23, dtype);
    const std::vector<float> y = rope_half_split(x, kRopeShape, {head_dim, 1000}, dtype);
    for (uint64_t row = 0; row < kRopeShape.rows; ++row) {
      for (uint64_t head = 0; head < kRopeShape.cols; head += head_dim) {
        for (uint64_t i = 0; i < head_dim / 2; ++i) {
          const uint64_t first = row * kRopeShape.cols + head + i;
          const uint64_t second = first + head_dim / 2;
          const double before = std::hypot(x[first], x[second]);
          const double after = std::hypot(y[first], y[second]);
          // The computed cos and sin give cos^2 + sin^2 = 1 within two libm errors; the
          // products and sums add 2 u32 each; then each output rounds by u_F (or half a
          // subnormal), at most u_F of the norm: 2^-18 covers the fp32 part.
          const double tolerance =
              (unit_roundoff(dtype) + 0x1p-18) * before + 2 * underflow_error(dtype);
          EXPECT_NEAR(after, before, tolerance) << arch::to_string(dtype) << " pair " << first;
        }
      }
    }
  }
}

TEST(OpNumericsRope, CatchesTheInterleavedConventionWhereHalfSplitIsSpecified) {
  const uint64_t head_dim = 32;
  const RopeLayout layout{head_dim, 5};
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(kRopeShape.rows * kRopeShape.cols, 1.0f, 24, dtype);
    // Rotating the pairs (2i, 2i+1) is the half-split rotation of the same head with its
    // values permuted: de-interleave, rotate, interleave back.
    std::vector<float> split(x.size());
    for (std::size_t base = 0; base < x.size(); base += head_dim) {
      for (uint64_t i = 0; i < head_dim / 2; ++i) {
        split[base + i] = x[base + 2 * i];
        split[base + head_dim / 2 + i] = x[base + 2 * i + 1];
      }
    }
    const std::vector<float> rotated = rope_half_split(split, kRopeShape, layout, dtype);
    std::vector<float> interleaved(x.size());
    for (std::size_t base = 0; base < x.size(); base += head_dim) {
      for (uint64_t i = 0; i < head_dim / 2; ++i) {
        interleaved[base + 2 * i] = rotated[base + i];
        interleaved[base + 2 * i + 1] = rotated[base + head_dim / 2 + i];
      }
    }
    EXPECT_FALSE(compare_rope_half_split(x, kRopeShape, layout, interleaved, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(OpNumericsRope, CatchesADecodeStepThatForgetsThePositionOffset) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> x = random_values(kRopeShape.cols, 1.0f, 25, dtype);
    const std::vector<float> from_zero = rope_half_split(x, {1, kRopeShape.cols}, {32, 0}, dtype);
    EXPECT_FALSE(
        compare_rope_half_split(x, {1, kRopeShape.cols}, {32, 100}, from_zero, dtype).passed)
        << arch::to_string(dtype);
  }
}

// ---- GeGLU and the soft cap ------------------------------------------------------------

TEST(OpNumericsGeglu, PassesInEveryFormatAndCatchesSwiGluInItsPlace) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> gate = random_values(4096, 3.0f, 30, dtype);
    const std::vector<float> up = random_values(4096, 1.0f, 31, dtype);
    expect_passes(compare_gelu_and_multiply(gate, up, gelu_and_multiply(gate, up, dtype), dtype));
    EXPECT_FALSE(compare_gelu_and_multiply(gate, up, silu_and_multiply(gate, up, dtype), dtype).passed);
  }
}

// c·tanh(x/c): the identity near 0, ±c far out; a cap applied as another value fails.
TEST(OpNumericsSoftcap, PassesInEveryFormatAndCatchesAnotherCap) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> x = random_values(4096, 30.0f, 32, dtype);
    expect_passes(compare_softcap(x, 30.0f, softcap(x, 30.0f, dtype), dtype));
    EXPECT_FALSE(compare_softcap(x, 30.0f, softcap(x, 50.0f, dtype), dtype).passed);
    EXPECT_EQ(softcap({0.0f, 384.0f}, 30.0f, dtype), in_format({0.0f, 30.0f}, dtype));
  }
}

TEST(OpNumericsResidual, PassesInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> a = random_values(2048, 1.0f, 26, dtype);
    const std::vector<float> b = random_values(2048, 0.3f, 27, dtype);
    expect_passes(compare_residual_add(a, b, residual_add(a, b, dtype), dtype));
  }
}

TEST(OpNumericsResidual, CatchesASumRoundedToANarrowerFormat) {
  for (DType dtype : {DType::Fp16, DType::Bf16, DType::Fp32}) {
    const std::vector<float> a = random_values(2048, 1.0f, 28, dtype);
    const std::vector<float> b = random_values(2048, 0.3f, 29, dtype);
    EXPECT_FALSE(compare_residual_add(a, b, residual_add(a, b, narrower(dtype)), dtype).passed)
        << arch::to_string(dtype);
  }
}

}  // namespace
}  // namespace tessel::sim
