// The training operators' datapath (softmax, norm and activation gradients, embedding gradient,
// cross-entropy and its gradient, AdamW) against their fp64 references: every floating format
// within the running error bound, planted faults each check catches, and the references
// themselves against finite differences of the fp64 forward functions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/backward_ops.h"
#include "sim/numerics/backward_ops_check.h"
#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_reference.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using testing_support::numeric_gradient;
using testing_support::random_values;
using testing_support::relative_distance;
using testing_support::weighted_sum;

// The faults below are O(1) changes of the result; fp8's rounding (6%) hides some of them, so
// they are planted in the formats that training runs in.
constexpr DType kTrainingDtypes[] = {DType::Fp16, DType::Bf16, DType::Fp32};

constexpr RowShape kRows{6, 40};
constexpr float kEps = 1e-5f;

// Central differences of fp64 functions of O(1) inputs with h = 1e-5 agree with the exact
// gradient to about 1e-9 relative (h^2 truncation, 1e-16 / h rounding); 1e-7 leaves room and
// still fails any dropped term or wrong sign.
constexpr double kStep = 1e-5;
constexpr double kFiniteDifferenceTolerance = 1e-7;

// An fp64 reference gradient against central differences of `loss` at x.
template <typename Loss>
void expect_gradient_of(Loss loss, const std::vector<double>& x, const std::vector<double>& analytic) {
  EXPECT_LT(relative_distance(analytic, numeric_gradient(loss, x, kStep)), kFiniteDifferenceTolerance);
}

std::vector<uint64_t> random_indices(uint64_t count, uint64_t range, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<uint64_t> index(0, range - 1);
  std::vector<uint64_t> values(count);
  for (uint64_t& value : values) value = index(engine);
  return values;
}

// ---- Softmax -------------------------------------------------------------------------

TEST(BackwardNumericsSoftmax, PassesInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    for (SoftmaxMask mask : {SoftmaxMask::None, SoftmaxMask::Causal}) {
      // y as the forward saved it: the datapath's softmax of spread logits.
      const std::vector<float> y = softmax_rows(random_values(240, 3.0f, 1, dtype), kRows, mask, dtype);
      const std::vector<float> dy = random_values(240, 1.0f, 2, dtype);
      expect_passes(compare_softmax_backward_rows(y, dy, kRows, softmax_backward_rows(y, dy, kRows, dtype), dtype));
    }
  }
}

TEST(BackwardNumericsSoftmax, CatchesADroppedRowSum) {
  // dx = y dy, the softmax's Jacobian without its rank-one term.
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> y = softmax_rows(random_values(240, 3.0f, 3, dtype), kRows, SoftmaxMask::None, dtype);
    const std::vector<float> dy = random_values(240, 1.0f, 4, dtype);
    std::vector<float> wrong(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) wrong[i] = round_to_format(y[i] * dy[i], dtype);
    EXPECT_FALSE(compare_softmax_backward_rows(y, dy, kRows, wrong, dtype).passed) << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsSoftmax, ReferenceIsTheGradientOfSoftmax) {
  const std::vector<double> x = to_double(random_values(240, 2.0f, 5, DType::Fp32));
  const std::vector<double> dy = to_double(random_values(240, 1.0f, 6, DType::Fp32));
  for (SoftmaxMask mask : {SoftmaxMask::None, SoftmaxMask::Causal}) {
    const auto loss = [&](const std::vector<double>& at) {
      return weighted_sum(dy, softmax_rows_reference(at, kRows, mask));
    };
    expect_gradient_of(loss, x, softmax_backward_rows_reference(softmax_rows_reference(x, kRows, mask), dy, kRows));
  }
}

// ---- Norms ---------------------------------------------------------------------------

struct NormInputs {
  std::vector<float> x, dy, gamma;
};

NormInputs norm_inputs(uint64_t seed, DType dtype) {
  // Rows off centre (mean about 0.5) so LayerNorm's and RMSNorm's gradients differ clearly.
  std::vector<float> x = random_values(kRows.rows * kRows.cols, 1.0f, seed, dtype);
  for (float& value : x) value = round_to_format(value + 0.5f, dtype);
  std::vector<float> gamma = random_values(kRows.cols, 0.1f, seed + 2, dtype);
  for (float& value : gamma) value = round_to_format(value + 1.0f, dtype);
  return {x, random_values(kRows.rows * kRows.cols, 1.0f, seed + 1, dtype), gamma};
}

TEST(BackwardNumericsNorms, PassInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    const NormInputs in = norm_inputs(7, dtype);
    expect_passes(compare_layer_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps,
                                                   layer_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, dtype),
                                                   dtype));
    expect_passes(compare_rms_norm_backward_rows(
        in.x, in.dy, kRows, in.gamma, kEps, rms_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, dtype), dtype));
  }
}

TEST(BackwardNumericsNorms, CatchEachOthersGradient) {
  // RMSNorm's backward lacks LayerNorm's centring terms, and the other way round.
  for (DType dtype : kTrainingDtypes) {
    const NormInputs in = norm_inputs(8, dtype);
    const NormGradients<float> rms = rms_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, dtype);
    NormGradients<float> layer = layer_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, dtype);
    const NumericsReport as_layer = compare_layer_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps,
                                                                     {rms.dx, rms.d_gamma, layer.d_beta}, dtype);
    EXPECT_FALSE(as_layer.passed) << arch::to_string(dtype);
    EXPECT_NE(as_layer.reference.find("failed: dx, d_gamma"), std::string::npos) << as_layer.reference;
    layer.d_beta.clear();
    EXPECT_FALSE(compare_rms_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, layer, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsNorms, CatchesAGainGradientThatIgnoresTheNormalisation) {
  // d_gamma = Σ dy (β's gradient) in place of Σ dy x̂.
  for (DType dtype : kTrainingDtypes) {
    const NormInputs in = norm_inputs(9, dtype);
    NormGradients<float> out = layer_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, dtype);
    out.d_gamma = out.d_beta;
    const NumericsReport report = compare_layer_norm_backward_rows(in.x, in.dy, kRows, in.gamma, kEps, out, dtype);
    EXPECT_FALSE(report.passed) << arch::to_string(dtype);
    EXPECT_NE(report.reference.find("failed: d_gamma"), std::string::npos) << report.reference;
  }
}

TEST(BackwardNumericsNorms, ReferencesAreTheGradientsOfTheNorms) {
  const NormInputs in = norm_inputs(10, DType::Fp32);
  const std::vector<double> x = to_double(in.x), dy = to_double(in.dy), gamma = to_double(in.gamma);
  const std::vector<double> beta = to_double(random_values(kRows.cols, 0.1f, 11, DType::Fp32));
  const NormGradients<double> layer = layer_norm_backward_rows_reference(x, dy, kRows, gamma, kEps);
  const auto layer_loss = [&](const std::vector<double>& at_x, const std::vector<double>& at_gamma,
                              const std::vector<double>& at_beta) {
    return weighted_sum(dy, layer_norm_rows_reference(at_x, kRows, at_gamma, at_beta, kEps));
  };
  expect_gradient_of([&](const std::vector<double>& at) { return layer_loss(at, gamma, beta); }, x, layer.dx);
  expect_gradient_of([&](const std::vector<double>& at) { return layer_loss(x, at, beta); }, gamma, layer.d_gamma);
  expect_gradient_of([&](const std::vector<double>& at) { return layer_loss(x, gamma, at); }, beta, layer.d_beta);
  const NormGradients<double> rms = rms_norm_backward_rows_reference(x, dy, kRows, gamma, kEps);
  EXPECT_TRUE(rms.d_beta.empty());
  const auto rms_loss = [&](const std::vector<double>& at_x, const std::vector<double>& at_gamma) {
    return weighted_sum(dy, rms_norm_rows_reference(at_x, kRows, at_gamma, kEps));
  };
  expect_gradient_of([&](const std::vector<double>& at) { return rms_loss(at, gamma); }, x, rms.dx);
  expect_gradient_of([&](const std::vector<double>& at) { return rms_loss(x, at); }, gamma, rms.d_gamma);
}

// ---- Activations ---------------------------------------------------------------------

TEST(BackwardNumericsActivations, PassInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> x = random_values(2048, 2.0f, 12, dtype);
    const std::vector<float> up = random_values(2048, 1.0f, 13, dtype);
    const std::vector<float> dy = random_values(2048, 1.0f, 14, dtype);
    expect_passes(compare_gelu_tanh_backward(x, dy, gelu_tanh_backward(x, dy, dtype), dtype));
    expect_passes(compare_silu_and_multiply_backward(x, up, dy, silu_and_multiply_backward(x, up, dy, dtype), dtype));
    const NumericsReport relu = compare_relu_backward(x, dy, relu_backward(x, dy, dtype), dtype);
    EXPECT_TRUE(relu.passed);
    EXPECT_EQ(relu.max_abs_error, 0.0);  // selecting dy or 0 rounds nothing
  }
}

TEST(BackwardNumericsActivations, CatchesADroppedGeluTerm) {
  // Only 0.5 (1 + tanh(b)): the derivative of x/2 (1 + tanh(b)) without the x/2 · tanh'(b) b' term.
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> x = random_values(512, 2.0f, 15, dtype);
    const std::vector<float> dy = random_values(512, 1.0f, 16, dtype);
    std::vector<float> wrong(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float b = 0.7978846f * (x[i] + 0.044715f * x[i] * x[i] * x[i]);
      wrong[i] = round_to_format(dy[i] * 0.5f * (1.0f + std::tanh(b)), dtype);
    }
    EXPECT_FALSE(compare_gelu_tanh_backward(x, dy, wrong, dtype).passed) << arch::to_string(dtype);
  }
}

// GeGLU's gradients with the tanh-form GELU; SwiGLU's in their place fail.
TEST(BackwardNumericsActivations, GegluPassesInEveryFormatAndCatchesSwiGluInItsPlace) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> gate = random_values(2048, 2.0f, 40, dtype);
    const std::vector<float> up = random_values(2048, 1.0f, 41, dtype);
    const std::vector<float> dy = random_values(2048, 1.0f, 42, dtype);
    expect_passes(
        compare_gelu_and_multiply_backward(gate, up, dy, gelu_and_multiply_backward(gate, up, dy, dtype), dtype));
    EXPECT_FALSE(
        compare_gelu_and_multiply_backward(gate, up, dy, silu_and_multiply_backward(gate, up, dy, dtype), dtype)
            .passed);
  }
}

// The soft cap's gradient from its saved output; dy passed straight through (the cap taken as
// the identity) fails.
TEST(BackwardNumericsSoftcap, PassesInEveryFormatAndCatchesAnUncappedGradient) {
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> y = softcap(random_values(2048, 30.0f, 43, dtype), 30.0f, dtype);
    const std::vector<float> dy = random_values(2048, 1.0f, 44, dtype);
    expect_passes(compare_softcap_backward(y, dy, 30.0f, softcap_backward(y, dy, 30.0f, dtype), dtype));
    EXPECT_FALSE(compare_softcap_backward(y, dy, 30.0f, dy, dtype).passed);
  }
}

TEST(BackwardNumericsActivations, CatchesAReluGradientThatPassesNegativeInputs) {
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> x = random_values(512, 1.0f, 17, dtype);
    const std::vector<float> dy = random_values(512, 1.0f, 18, dtype);
    EXPECT_FALSE(compare_relu_backward(x, dy, dy, dtype).passed) << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsActivations, CatchesSwappedSwiGluGradients) {
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> gate = random_values(512, 1.0f, 19, dtype);
    const std::vector<float> up = random_values(512, 1.0f, 20, dtype);
    const std::vector<float> dy = random_values(512, 1.0f, 21, dtype);
    const GatedGradients<float> right = silu_and_multiply_backward(gate, up, dy, dtype);
    EXPECT_FALSE(compare_silu_and_multiply_backward(gate, up, dy, {right.d_up, right.d_gate}, dtype).passed)
        << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsActivations, ReferencesAreTheGradientsOfTheActivations) {
  std::vector<double> x = to_double(random_values(64, 2.0f, 22, DType::Fp32));
  const std::vector<double> up = to_double(random_values(64, 1.0f, 23, DType::Fp32));
  const std::vector<double> dy = to_double(random_values(64, 1.0f, 24, DType::Fp32));
  expect_gradient_of(
      [&](const std::vector<double>& at) { return weighted_sum(dy, gelu_reference(at, GeluForm::Tanh)); }, x,
      gelu_tanh_backward_reference(x, dy));
  const GatedGradients<double> geglu = gelu_and_multiply_backward_reference(x, up, dy);
  expect_gradient_of(
      [&](const std::vector<double>& at) { return weighted_sum(dy, gelu_and_multiply_reference(at, up)); }, x,
      geglu.d_gate);
  expect_gradient_of(
      [&](const std::vector<double>& at) { return weighted_sum(dy, gelu_and_multiply_reference(x, at)); }, up,
      geglu.d_up);
  const std::vector<double> scaled = to_double(random_values(64, 30.0f, 45, DType::Fp32));
  const std::vector<double> capped = softcap_reference(scaled, 30);
  expect_gradient_of([&](const std::vector<double>& at) { return weighted_sum(dy, softcap_reference(at, 30)); },
                     scaled, softcap_backward_reference(capped, dy, 30));
  const GatedGradients<double> silu = silu_and_multiply_backward_reference(x, up, dy);
  expect_gradient_of(
      [&](const std::vector<double>& at) { return weighted_sum(dy, silu_and_multiply_reference(at, up)); }, x,
      silu.d_gate);
  expect_gradient_of(
      [&](const std::vector<double>& at) { return weighted_sum(dy, silu_and_multiply_reference(x, at)); }, up,
      silu.d_up);
  // ReLU's kink: keep the inputs clear of 0 by more than the step.
  for (double& value : x) value += value >= 0 ? 0.1 : -0.1;
  const auto relu_loss = [&](const std::vector<double>& at) {
    double sum = 0;
    for (std::size_t i = 0; i < at.size(); ++i) sum += dy[i] * std::max(at[i], 0.0);
    return sum;
  };
  expect_gradient_of(relu_loss, x, relu_backward_reference(x, dy));
}

// Dropout keeps x·1/(1 - p) where the mask says so: one fp32 scale and one rounding, in every
// format; a scale of 1/p (the probability mixed up with the keep rate) or a mask applied the
// wrong way round fails.
TEST(BackwardNumericsDropout, PassesInEveryFormatAndCatchesAWrongScaleOrMask) {
  const double p = 0.1;
  const std::vector<uint64_t> draws = random_indices(2048, 1000, 21);
  std::vector<uint8_t> keep(draws.size()), flipped(draws.size());
  for (std::size_t i = 0; i < draws.size(); ++i) {
    keep[i] = draws[i] >= 100 ? 1 : 0;
    flipped[i] = 1 - keep[i];
  }
  for (DType dtype : kFloatDtypes) {
    SCOPED_TRACE(arch::to_string(dtype));
    const std::vector<float> x = random_values(2048, 1.0f, 22, dtype);
    expect_passes(compare_dropout(x, keep, p, dropout(x, keep, p, dtype), dtype));
  }
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> x = random_values(2048, 1.0f, 22, dtype);
    EXPECT_FALSE(compare_dropout(x, keep, p, dropout(x, keep, 1 - p, dtype), dtype).passed) << arch::to_string(dtype);
    EXPECT_FALSE(compare_dropout(x, keep, p, dropout(x, flipped, p, dtype), dtype).passed) << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsRope, TheGradientIsTheInverseRotation) {
  const RowShape shape{5, 32};
  const RopeLayout layout{16, 3};
  const std::vector<double> dy = to_double(random_values(160, 1.0f, 25, DType::Fp32));
  const std::vector<double> x = to_double(random_values(160, 1.0f, 26, DType::Fp32));
  expect_gradient_of(
      [&](const std::vector<double>& at) { return weighted_sum(dy, rope_half_split_reference(at, shape, layout)); }, x,
      rope_half_split_backward_reference(dy, shape, layout));
  // The datapath's inverse rotation undoes its rotation: to within the final rounding (u_F
  // normwise) and the two fp32 rotations, each element off by at most (6 u + 2 u) (|a| + |b|)
  // (libm's cos or sin, a product and the sum), under 12 u normwise each.
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> v = random_values(160, 1.0f, 27, dtype);
    const std::vector<float> back =
        rope_half_split_backward(rope_half_split(v, shape, layout, DType::Fp32), shape, layout, dtype);
    EXPECT_LT(relative_distance(to_double(back), to_double(v)), unit_roundoff(dtype) + 24 * 0x1p-24)
        << arch::to_string(dtype);
  }
}

// ---- Embedding, cross-entropy, AdamW ---------------------------------------------------

struct EmbeddingCase {
  std::vector<uint64_t> ids;
  std::vector<float> dy, initial;
};

constexpr uint64_t kHidden = 16, kTableRows = 12;

EmbeddingCase embedding_case(uint64_t seed, DType dtype) {
  // 40 tokens over 12 rows: every row is hit several times, so the adds accumulate.
  return {random_indices(40, kTableRows, seed), random_values(40 * kHidden, 1.0f, seed + 1, dtype),
          random_values(kTableRows * kHidden, 1.0f, seed + 2, DType::Fp32)};
}

TEST(BackwardNumericsEmbedding, PassesInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    const EmbeddingCase in = embedding_case(28, dtype);
    std::vector<float> gradient = in.initial;
    embedding_backward(in.ids, in.dy, kHidden, gradient);
    expect_passes(compare_embedding_backward(in.ids, in.dy, kHidden, in.initial, gradient, dtype));
  }
}

TEST(BackwardNumericsEmbedding, CatchesRowsAddedAtTheWrongIdsOrOverwritten) {
  for (DType dtype : kTrainingDtypes) {
    const EmbeddingCase in = embedding_case(29, dtype);
    std::vector<uint64_t> shifted = in.ids;
    for (uint64_t& id : shifted) id = (id + 1) % kTableRows;
    std::vector<float> wrong_rows = in.initial;
    embedding_backward(shifted, in.dy, kHidden, wrong_rows);
    EXPECT_FALSE(compare_embedding_backward(in.ids, in.dy, kHidden, in.initial, wrong_rows, dtype).passed);
    // Starting from zero drops what the gradient held before.
    std::vector<float> overwritten(in.initial.size(), 0.0f);
    embedding_backward(in.ids, in.dy, kHidden, overwritten);
    EXPECT_FALSE(compare_embedding_backward(in.ids, in.dy, kHidden, in.initial, overwritten, dtype).passed);
  }
}

TEST(BackwardNumericsEmbedding, ReferenceIsTheGradientOfTheLookup) {
  const EmbeddingCase in = embedding_case(30, DType::Fp32);
  const std::vector<double> dy = to_double(in.dy);
  const std::vector<double> table = to_double(random_values(kTableRows * kHidden, 1.0f, 31, DType::Fp32));
  const auto loss = [&](const std::vector<double>& at) {
    double sum = 0;
    for (std::size_t token = 0; token < in.ids.size(); ++token) {
      for (uint64_t j = 0; j < kHidden; ++j) sum += dy[token * kHidden + j] * at[in.ids[token] * kHidden + j];
    }
    return sum;
  };
  expect_gradient_of(loss, table,
                     embedding_backward_reference(in.ids, dy, kHidden, std::vector<double>(table.size(), 0.0)));
}

constexpr RowShape kLogits{8, 50};

TEST(BackwardNumericsCrossEntropy, PassesInEveryFormat) {
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> logits = random_values(400, 3.0f, 32, dtype);
    const std::vector<uint64_t> targets = random_indices(8, 50, 33);
    const CrossEntropyOutputs<float> out = cross_entropy_rows(logits, kLogits, targets, dtype);
    expect_passes(compare_cross_entropy_rows(logits, kLogits, targets, out, dtype));
    // The divisor is the batch's token count, which a slice of 8 of its 64 rows keeps.
    expect_passes(compare_cross_entropy_backward_rows(
        out.softmax, kLogits, targets, 64, cross_entropy_backward_rows(out.softmax, kLogits, targets, 64, dtype),
        dtype));
  }
}

TEST(BackwardNumericsCrossEntropy, CatchesTheWrongTargetOrDivisor) {
  for (DType dtype : kTrainingDtypes) {
    const std::vector<float> logits = random_values(400, 3.0f, 34, dtype);
    const std::vector<uint64_t> targets = random_indices(8, 50, 35);
    std::vector<uint64_t> next = targets;
    for (uint64_t& target : next) target = (target + 1) % 50;
    CrossEntropyOutputs<float> out = cross_entropy_rows(logits, kLogits, targets, dtype);
    out.loss = cross_entropy_rows(logits, kLogits, next, dtype).loss;
    const NumericsReport wrong_loss = compare_cross_entropy_rows(logits, kLogits, targets, out, dtype);
    EXPECT_FALSE(wrong_loss.passed) << arch::to_string(dtype);
    EXPECT_NE(wrong_loss.reference.find("failed: loss"), std::string::npos) << wrong_loss.reference;
    // Averaged over the slice's 8 rows instead of the batch's 64 tokens.
    EXPECT_FALSE(
        compare_cross_entropy_backward_rows(out.softmax, kLogits, targets, 64,
                                            cross_entropy_backward_rows(out.softmax, kLogits, targets, 8, dtype), dtype)
            .passed)
        << arch::to_string(dtype);
  }
}

TEST(BackwardNumericsCrossEntropy, ReferenceIsTheGradientOfTheMeanLoss) {
  const std::vector<double> logits = to_double(random_values(400, 2.0f, 36, DType::Fp32));
  const std::vector<uint64_t> targets = random_indices(8, 50, 37);
  const auto mean_loss = [&](const std::vector<double>& at) {
    double sum = 0;
    for (double loss : cross_entropy_rows_reference(at, kLogits, targets).loss) sum += loss;
    return sum / 8;
  };
  const CrossEntropyOutputs<double> out = cross_entropy_rows_reference(logits, kLogits, targets);
  expect_gradient_of(mean_loss, logits, cross_entropy_backward_rows_reference(out.softmax, kLogits, targets, 8));
}

struct AdamWCase {
  AdamWState<float> state;
  std::vector<float> gradient;
};

AdamWCase adamw_case(uint64_t seed) {
  AdamWCase in{{random_values(1000, 0.02f, seed, DType::Fp32), random_values(1000, 1e-3f, seed + 1, DType::Fp32),
                random_values(1000, 1e-3f, seed + 2, DType::Fp32)},
               random_values(1000, 1e-3f, seed + 3, DType::Fp32)};
  for (float& v : in.state.v) v *= v;
  return in;
}

TEST(BackwardNumericsAdamW, PassesInEveryFormatAndStep) {
  for (DType dtype : kFloatDtypes) {
    for (uint64_t step : {uint64_t{1}, uint64_t{10}, uint64_t{1000}}) {
      const AdamWCase in = adamw_case(38);
      AdamWHyperparameters hyper;
      hyper.step = step;
      expect_passes(
          compare_adamw_update(in.state, in.gradient, hyper, adamw_update(in.state, in.gradient, hyper, dtype), dtype));
    }
  }
}

TEST(BackwardNumericsAdamW, CatchesMissingBiasCorrectionsAndFlippedDecay) {
  const AdamWCase in = adamw_case(39);
  AdamWHyperparameters hyper;
  hyper.step = 10;
  for (DType dtype : kTrainingDtypes) {
    // At step 10^6 both corrections are 1 (to fp32): the update without them.
    AdamWHyperparameters uncorrected = hyper;
    uncorrected.step = 1000000;
    EXPECT_FALSE(compare_adamw_update(in.state, in.gradient, hyper,
                                      adamw_update(in.state, in.gradient, uncorrected, dtype), dtype)
                     .passed);
    AdamWHyperparameters growth = hyper;
    growth.weight_decay = -hyper.weight_decay;
    const NumericsReport report =
        compare_adamw_update(in.state, in.gradient, hyper, adamw_update(in.state, in.gradient, growth, dtype), dtype);
    EXPECT_FALSE(report.passed);
    // The decay moves w by 2e-5 of itself: beyond the fp32 weights' bound, within the copy's rounding.
    EXPECT_NE(report.reference.find("failed: weight"), std::string::npos) << report.reference;
  }
}

TEST(BackwardNumericsAdamW, ReferenceTakesTheFirstStepByHand) {
  // At step 1 from zero moments, m̂ = g and v̂ = g², so w' = w - lr (g / (|g| + eps) + λ w).
  const AdamWHyperparameters hyper;
  const AdamWState<double> state{{0.5, -0.25}, {0, 0}, {0, 0}};
  const std::vector<double> gradient{0.003, -0.02};
  const AdamWState<double> out = adamw_update_reference(state, gradient, hyper);
  const double lr = hyper.learning_rate, eps = hyper.eps, decay = hyper.weight_decay;
  for (std::size_t i = 0; i < 2; ++i) {
    const double g = gradient[i], w = state.weight[i];
    EXPECT_NEAR(out.weight[i], w - lr * (g / (std::fabs(g) + eps) + decay * w), 1e-15);
    EXPECT_NEAR(out.m[i], (1 - double{hyper.beta1}) * g, 1e-18);
    EXPECT_NEAR(out.v[i], (1 - double{hyper.beta2}) * g * g, 1e-20);
  }
}

TEST(BackwardNumericsArguments, RejectsBadArguments) {
  const std::vector<float> x(12, 1.0f), row(4, 1.0f);
  EXPECT_THROW(softmax_backward_rows(x, x, {3, 4}, DType::Int8), std::invalid_argument);
  EXPECT_THROW(softmax_backward_rows(x, row, {3, 4}, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(layer_norm_backward_rows(x, x, {3, 4}, x, kEps, DType::Fp16), std::invalid_argument);
  EXPECT_THROW(rope_half_split_backward(x, {2, 6}, {4, 0}, DType::Fp16), std::invalid_argument);
  std::vector<float> table(8, 0.0f);
  EXPECT_THROW(embedding_backward({0, 2}, std::vector<float>(8, 1.0f), 4, table), std::invalid_argument);
  EXPECT_THROW(cross_entropy_rows(x, {3, 4}, {0, 1, 4}, DType::Bf16), std::invalid_argument);
  EXPECT_THROW(cross_entropy_backward_rows(x, {3, 4}, {0, 1, 2}, 0, DType::Bf16), std::invalid_argument);
  AdamWHyperparameters step_zero;
  step_zero.step = 0;
  EXPECT_THROW(adamw_update({x, x, x}, x, step_zero, DType::Fp32), std::invalid_argument);
  EXPECT_THROW(compare_softmax_backward_rows(x, x, {3, 4}, row, DType::Fp16), std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
