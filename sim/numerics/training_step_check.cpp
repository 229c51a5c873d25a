#include "sim/numerics/training_step_check.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

constexpr uint64_t kUpdateStep = 10;

// The fp32 master weights round every updated weight once: an error of up to u_fp32 |w'| that
// no format avoids, and which dwarfs the step in fp32 (an update of lr = 1e-3 moves a norm gain
// of 1 by about 5e-4, some 8000 u_fp32).
constexpr double kMasterRoundoff = 0x1p-24;

double norm(const std::vector<double>& values) {
  double energy = 0;
  for (double value : values) energy += value * value;
  return std::sqrt(energy);
}

// Passed iff ||value - reference||_2 <= tolerance · scale + allowance, and so is every element
// (none can be off by more than the whole error's norm may be). relative_error is
// ||value - reference||_2 / scale.
NumericsReport normwise_report(const std::vector<float>& value, const std::vector<double>& reference, double scale,
                               double tolerance, double allowance, arch::DType dtype, std::string line) {
  require_size(value.size(), reference.size(), "compare_training_step");
  const double bound = tolerance * scale + allowance;
  BoundedComparison comparison;
  double error_energy = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    comparison.add(value[i], reference[i], bound);
    error_energy += (value[i] - reference[i]) * (value[i] - reference[i]);
  }
  NumericsReport report = comparison.report(dtype, std::move(line));
  report.relative_error = scale > 0 ? std::sqrt(error_energy) / scale : std::numeric_limits<double>::infinity();
  report.passed = report.passed && std::sqrt(error_energy) <= bound;
  return report;
}

std::string tolerance_text(double amplification) {
  char text[32];
  std::snprintf(text, sizeof text, "%g u", amplification);
  return text;
}

AdamWState<float> draw_state(const std::vector<float>& weight, const std::vector<double>& reference_gradient,
                             std::mt19937_64& engine) {
  const auto scale = static_cast<float>(norm(reference_gradient) / std::sqrt(static_cast<double>(weight.size())));
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_real_distribution<float> uniform(0.5f, 1.5f);
  AdamWState<float> state{weight, std::vector<float>(weight.size()), std::vector<float>(weight.size())};
  for (std::size_t i = 0; i < weight.size(); ++i) {
    state.m[i] = normal(engine);
    state.v[i] = scale * scale * uniform(engine);
  }
  return state;
}

}  // namespace

TrainingStepTolerance training_step_tolerance(arch::DType dtype) {
  // Measured with check_training_step's default shape over seeds 1-300 in each format (the
  // largest ratio to u over every quantity of its kind): the tolerances leave about 1.5 to 2
  // times the worst seen (seeds 301-600 all passed them too), yet a gradient 10% off (25 u in
  // bf16) or its update (2.6 u) fails.
  switch (dtype) {
    case arch::DType::Fp32:
      // Loss at most 3.3 u, gradients 15.2 u (wk, whose dK passes through attention's
      // backward, RoPE and a fused GEMM): fp32 compute errors, growing with the sums' lengths.
      // The update's error never exceeded the master weights' rounding alone; 16 u of the step
      // covers its own fp32 arithmetic, about a dozen roundings of m, v, their corrections, the
      // square root, the division and the decay.
      return {6, 24, 16};
    case arch::DType::Fp16:
    case arch::DType::Bf16:
      // The storage roundings dominate: loss at most 0.25 u (bf16; fp16 0.23), gradients 4.0 u
      // (fp16; bf16 3.9), updates 0.42 u (bf16; fp16 0.33): AdamW damps a gradient's error by
      // about (1 - β1) / (1 - β1^t) = 0.15 at step 10.
      return {0.5, 6, 0.8};
    case arch::DType::Fp8:
    case arch::DType::Int8:
    case arch::DType::Int4:
      break;
  }
  throw std::invalid_argument("training_step_tolerance: the training step is checked in fp32, fp16 and bf16 only");
}

AdamWHyperparameters training_step_hyperparameters() {
  AdamWHyperparameters hyper;
  hyper.step = kUpdateStep;
  return hyper;
}

TrainingStepReport compare_training_step(const TinyModel& model, const TokenBatch& batch,
                                         const StepGradients<float>& datapath, arch::DType dtype, uint64_t seed) {
  const TrainingStepTolerance tolerance = training_step_tolerance(dtype);
  const double u = unit_roundoff(dtype);
  if (datapath.gradients.size() != model.parameters.size()) {
    throw std::invalid_argument("compare_training_step: one gradient a parameter");
  }
  std::vector<std::vector<double>> parameters;
  for (const std::vector<float>& tensor : model.parameters) parameters.push_back(to_double(tensor));
  const StepGradients<double> reference = training_step_reference(model, parameters, batch);
  const std::string from = " from the same " + std::string(arch::to_string(dtype)) + " weights and tokens; passed iff ";
  TrainingStepReport out;
  out.quantities.emplace_back(
      "loss",
      normwise_report({datapath.loss}, {reference.loss}, std::fabs(reference.loss), tolerance.loss * u, 0, dtype,
                      "fp64 mean loss" + from + "|loss - ref| <= " + tolerance_text(tolerance.loss) + " |ref|"));
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const std::vector<double>& gradient = reference.gradients[i];
    out.quantities.emplace_back(
        "gradient " + model.names[i],
        normwise_report(datapath.gradients[i], gradient, norm(gradient), tolerance.gradient * u, 0, dtype,
                        "fp64 gradient of " + model.names[i] + from +
                            "||g - ref||_2 <= " + tolerance_text(tolerance.gradient) + " ||ref||_2"));
  }
  const AdamWHyperparameters hyper = training_step_hyperparameters();
  std::mt19937_64 engine(seed);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const AdamWState<float> state = draw_state(model.parameters[i], reference.gradients[i], engine);
    const AdamWUpdate update = adamw_update(state, datapath.gradients[i], hyper, dtype);
    const AdamWState<double> updated =
        adamw_update_reference({parameters[i], to_double(state.m), to_double(state.v)}, reference.gradients[i], hyper);
    std::vector<double> step(parameters[i].size());
    for (std::size_t j = 0; j < step.size(); ++j) step[j] = updated.weight[j] - parameters[i][j];
    out.quantities.emplace_back("update " + model.names[i],
                                normwise_report(update.state.weight, updated.weight, norm(step), tolerance.update * u,
                                                kMasterRoundoff * norm(updated.weight), dtype,
                                                "fp64 AdamW update of " + model.names[i] + " by the fp64 gradient" +
                                                    from + "||w - ref||_2 <= " + tolerance_text(tolerance.update) +
                                                    " ||ref - w_before||_2 + u_fp32 ||ref||_2"));
  }
  out.summary = combine_outputs(out.quantities, "tiny training step (" + std::to_string(model.shape.layers) +
                                                    " layers, " + std::to_string(model.shape.layer.seq) +
                                                    " tokens) against fp64: loss, gradients and AdamW updates");
  return out;
}

TrainingStepReport check_training_step(const TrainingStepShape& shape, arch::DType dtype, uint64_t seed) {
  training_step_tolerance(dtype);  // throws for a format without one before any work
  const TinyModel model = draw_tiny_model(shape, seed, dtype);
  const TokenBatch batch = draw_token_batch(shape, seed + 1);
  return compare_training_step(model, batch, training_step_datapath(model, batch, dtype), dtype, seed + 2);
}

}  // namespace tessel::sim
