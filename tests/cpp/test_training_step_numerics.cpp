// A tiny Llama-style model's training step (forward, backward, AdamW) on the datapath against
// its fp64 reference in fp32, bf16 and fp16; the fp64 gradients against finite differences of
// the fp64 loss; and planted faults the step's tolerances must catch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/training_step.h"
#include "sim/numerics/training_step_check.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::narrower;

constexpr DType kTrainingDtypes[] = {DType::Fp32, DType::Bf16, DType::Fp16};
constexpr uint64_t kSeeds[] = {1, 2, 3};

std::vector<std::vector<double>> parameters_in_fp64(const TinyModel& model) {
  std::vector<std::vector<double>> parameters;
  for (const std::vector<float>& tensor : model.parameters) parameters.push_back(to_double(tensor));
  return parameters;
}

TEST(TrainingStepNumerics, PassesInFp32Bf16AndFp16) {
  for (DType dtype : kTrainingDtypes) {
    for (uint64_t seed : kSeeds) {
      SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " seed " << seed);
      const TrainingStepReport report = check_training_step({}, dtype, seed);
      EXPECT_TRUE(report.summary.checked);
      EXPECT_TRUE(report.summary.passed) << report.summary.reference;
      // The loss, and a gradient and an update for each of the 21 parameters: the embedding, 9 a
      // layer, the final norm and the LM head.
      ASSERT_EQ(report.quantities.size(), 1u + 2 * 21);
      for (const auto& [name, quantity] : report.quantities) {
        EXPECT_TRUE(quantity.passed) << name << ": relative error " << quantity.relative_error;
        // The datapath does round: a zero error would mean a thing compared with itself.
        EXPECT_GT(quantity.relative_error, 0.0) << name;
      }
    }
  }
}

TEST(TrainingStepNumerics, NamesEveryQuantity) {
  const TrainingStepReport report = check_training_step({}, DType::Bf16, 4);
  EXPECT_EQ(report.quantities.front().first, "loss");
  EXPECT_EQ(report.quantities[1].first, "gradient embedding");
  EXPECT_EQ(report.quantities[2].first, "gradient layers.0.attention_norm");
  EXPECT_EQ(report.quantities[21].first, "gradient lm_head");
  EXPECT_EQ(report.quantities[22].first, "update embedding");
  EXPECT_EQ(report.quantities.back().first, "update lm_head");
}

TEST(TrainingStepNumerics, IsDeterministicInTheSeed) {
  const TrainingStepReport first = check_training_step({}, DType::Fp16, 5);
  EXPECT_EQ(first.summary.relative_error, check_training_step({}, DType::Fp16, 5).summary.relative_error);
  EXPECT_NE(first.summary.relative_error, check_training_step({}, DType::Fp16, 6).summary.relative_error);
}

TEST(TrainingStepNumerics, ReferenceGradientsAgreeWithFiniteDifferencesOfTheLoss) {
  // The element of largest gradient of every parameter. Central differences with h = 1e-5 of a
  // loss of about 5 agree with the exact gradient to about 1e-9 of the gradient (h^2
  // truncation, 1e-16 · 5 / h rounding); 1e-6 leaves room and fails any missing path (the
  // residual's, a norm's, a GQA group's), which changes the gradient by O(1).
  const TinyModel model = draw_tiny_model({}, 7, DType::Bf16);
  const TokenBatch batch = draw_token_batch({}, 8);
  std::vector<std::vector<double>> parameters = parameters_in_fp64(model);
  const StepGradients<double> reference = training_step_reference(model, parameters, batch);
  EXPECT_NEAR(reference.loss, training_loss_reference(model, parameters, batch), 0.0);
  constexpr double h = 1e-5;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::vector<double>& gradient = reference.gradients[i];
    std::size_t largest = 0;
    for (std::size_t j = 0; j < gradient.size(); ++j) {
      if (std::fabs(gradient[j]) > std::fabs(gradient[largest])) largest = j;
    }
    const double saved = parameters[i][largest];
    parameters[i][largest] = saved + h;
    const double above = training_loss_reference(model, parameters, batch);
    parameters[i][largest] = saved - h;
    const double below = training_loss_reference(model, parameters, batch);
    parameters[i][largest] = saved;
    EXPECT_NEAR((above - below) / (2 * h), gradient[largest], 1e-6 * std::fabs(gradient[largest])) << model.names[i];
  }
}

TEST(TrainingStepNumerics, CatchesACorruptedGradient) {
  // One tensor's gradient 10% too large: 25 u in bf16, far above its 6 u; its update moves by
  // about 1% of the step, 2.6 u in bf16 against 0.8 u. Everything else still passes.
  for (DType dtype : kTrainingDtypes) {
    const TinyModel model = draw_tiny_model({}, 9, dtype);
    const TokenBatch batch = draw_token_batch({}, 10);
    StepGradients<float> step = training_step_datapath(model, batch, dtype);
    const auto wq = std::find(model.names.begin(), model.names.end(), "layers.1.wq") - model.names.begin();
    for (float& value : step.gradients[static_cast<std::size_t>(wq)]) value *= 1.1f;
    const TrainingStepReport report = compare_training_step(model, batch, step, dtype, 11);
    EXPECT_FALSE(report.summary.passed) << arch::to_string(dtype);
    EXPECT_NE(report.summary.reference.find("failed: gradient layers.1.wq, update layers.1.wq"), std::string::npos)
        << report.summary.reference;
    for (const auto& [name, quantity] : report.quantities) {
      if (name.find("layers.1.wq") == std::string::npos) {
        EXPECT_TRUE(quantity.passed) << name;
      }
    }
  }
}

TEST(TrainingStepNumerics, CatchesAStepRoundedToANarrowerFormatThanSpecified) {
  // fp16 where fp32 is specified, bf16 where fp16 is (8 times its u), fp8 where bf16 is: same
  // weights and tokens, every activation and activation gradient rounded to the narrower one.
  for (DType dtype : kTrainingDtypes) {
    const TinyModel model = draw_tiny_model({}, 12, dtype);
    const TokenBatch batch = draw_token_batch({}, 13);
    const TrainingStepReport report =
        compare_training_step(model, batch, training_step_datapath(model, batch, narrower(dtype)), dtype, 14);
    EXPECT_FALSE(report.summary.passed) << arch::to_string(dtype);
  }
}

TEST(TrainingStepNumerics, RejectsFormatsItHasNoToleranceFor) {
  EXPECT_THROW(check_training_step({}, DType::Fp8, 1), std::invalid_argument);
  EXPECT_THROW(check_training_step({}, DType::Int8, 1), std::invalid_argument);
  const TinyModel model = draw_tiny_model({}, 15, DType::Fp32);
  const TokenBatch batch = draw_token_batch({}, 16);
  StepGradients<float> step = training_step_datapath(model, batch, DType::Fp32);
  step.gradients.pop_back();
  EXPECT_THROW(compare_training_step(model, batch, step, DType::Fp32, 17), std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
