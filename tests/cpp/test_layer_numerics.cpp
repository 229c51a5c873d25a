// A tiny Llama-style decoder layer end to end on the datapath against its fp64 reference in
// every floating format, and planted faults the layer's empirical tolerance must catch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/attention.h"
#include "sim/numerics/layer_check.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::kFloatDtypes;
using testing_support::narrower;

constexpr uint64_t kSeeds[] = {1, 2, 3, 4, 5};

TEST(LayerNumerics, PassesInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    for (uint64_t seed : kSeeds) {
      const NumericsReport report = check_decoder_layer({}, dtype, seed);
      SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " seed " << seed);
      EXPECT_TRUE(report.checked);
      EXPECT_TRUE(report.passed) << "relative error " << report.relative_error << " allowed "
                                 << layer_amplification(dtype) * unit_roundoff(dtype);
      EXPECT_LE(report.relative_error, layer_amplification(dtype) * unit_roundoff(dtype));
      // The datapath does round: a zero error would mean the check compared a thing with itself.
      EXPECT_GT(report.relative_error, 0.0);
    }
  }
}

TEST(LayerNumerics, ActivationsStayOrderOne) {
  // The weights are drawn so activations neither blow up nor vanish; otherwise fp8 would
  // saturate or underflow and the tolerance would measure clipping instead of rounding.
  for (uint64_t seed : kSeeds) {
    const DecoderLayer layer = draw_decoder_layer({}, seed, DType::Fp32);
    const std::vector<double> out =
        decoder_layer_reference(layer, draw_layer_input({}, seed + 1, DType::Fp32));
    double energy = 0;
    for (double value : out) energy += value * value;
    const double rms = std::sqrt(energy / static_cast<double>(out.size()));
    EXPECT_GT(rms, 0.5);
    EXPECT_LT(rms, 4.0);
  }
}

TEST(LayerNumerics, IsDeterministicInTheSeed) {
  const NumericsReport first = check_decoder_layer({}, DType::Bf16, 7);
  EXPECT_EQ(first.relative_error, check_decoder_layer({}, DType::Bf16, 7).relative_error);
  EXPECT_NE(first.relative_error, check_decoder_layer({}, DType::Bf16, 8).relative_error);
}

// The planted fault: the attention half of the layer with the RoPE rotation left out.
std::vector<float> attention_sublayer_without_rope(const DecoderLayer& layer,
                                                   const std::vector<float>& x, DType dtype) {
  const DecoderLayerShape& s = layer.shape;
  const uint64_t q_width = s.q_heads * s.head_dim;
  const uint64_t kv_width = s.kv_heads * s.head_dim;
  const std::vector<float> h =
      rms_norm_rows(x, {s.seq, s.hidden}, layer.attention_norm, layer.norm_eps, dtype);
  const std::vector<float> attended = attention_fused(
      datapath_linear(layer, h, layer.wq, s.hidden, q_width, dtype),
      datapath_linear(layer, h, layer.wk, s.hidden, kv_width, dtype),
      datapath_linear(layer, h, layer.wv, s.hidden, kv_width, dtype),
      {s.seq, s.seq, s.head_dim, s.q_heads, s.kv_heads, true}, layer.block_kv, dtype);
  return residual_add(x, datapath_linear(layer, attended, layer.wo, q_width, s.hidden, dtype),
                      dtype);
}

TEST(LayerNumerics, CatchesSkippingTheRopeRotation) {
  for (DType dtype : kFloatDtypes) {
    for (uint64_t seed : kSeeds) {
      const DecoderLayer layer = draw_decoder_layer({}, seed, dtype);
      const std::vector<float> x = draw_layer_input({}, seed + 1, dtype);
      const std::vector<float> out =
          mlp_sublayer(layer, attention_sublayer_without_rope(layer, x, dtype), dtype);
      EXPECT_FALSE(compare_decoder_layer(layer, x, out, dtype).passed)
          << arch::to_string(dtype) << " seed " << seed;
      // The same composition with the rotation passes: the fault is all that differs.
      const std::vector<float> intact =
          mlp_sublayer(layer, attention_sublayer(layer, x, dtype), dtype);
      EXPECT_TRUE(compare_decoder_layer(layer, x, intact, dtype).passed);
    }
  }
}

TEST(LayerNumerics, CatchesRoundingToANarrowerFormatThanSpecified) {
  // bf16 where fp16 is specified, fp16 where fp32 is, fp8 where bf16 is: same weights and
  // input, every intermediate rounded to the narrower format.
  for (DType dtype : {DType::Fp16, DType::Bf16, DType::Fp32}) {
    for (uint64_t seed : kSeeds) {
      const DecoderLayer layer = draw_decoder_layer({}, seed, dtype);
      const std::vector<float> x = draw_layer_input({}, seed + 1, dtype);
      const std::vector<float> out = decoder_layer_datapath(layer, x, narrower(dtype));
      EXPECT_FALSE(compare_decoder_layer(layer, x, out, dtype).passed)
          << arch::to_string(dtype) << " seed " << seed;
    }
  }
}

TEST(LayerNumerics, CatchesAnRmsNormWithoutEpsInFp32) {
  // Leaving eps = 1e-5 out of rows whose mean square is about 1 scales the normalised rows
  // by about 1 + eps/2; at the output that is at least 85 u of fp32 (over 300 seeds), far
  // above fp32's tolerance of 6 u, but about 5e-6, far below the narrow formats' rounding
  // (fp16's tolerance is 7.8e-4), where no check could see it.
  for (uint64_t seed : kSeeds) {
    const DecoderLayer layer = draw_decoder_layer({}, seed, DType::Fp32);
    const std::vector<float> x = draw_layer_input({}, seed + 1, DType::Fp32);
    DecoderLayer without_eps = layer;
    without_eps.norm_eps = 0.0f;
    const std::vector<float> out = decoder_layer_datapath(without_eps, x, DType::Fp32);
    EXPECT_FALSE(compare_decoder_layer(layer, x, out, DType::Fp32).passed) << "seed " << seed;
  }
}

}  // namespace
}  // namespace tessel::sim
