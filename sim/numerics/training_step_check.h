// Checks a whole training step of the tiny model (training_step.h) on the datapath against its
// fp64 reference: the loss, every parameter's gradient, and every weight after one AdamW update
// of both steps' gradients from the same fp32 state, each compared normwise.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/backward_ops.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/training_step.h"

namespace tessel::sim {

// The tolerances, normwise, as multiples of the format's unit roundoff u:
//   |loss - loss_ref| <= loss u |loss_ref|;
//   ||g - g_ref||_2 <= gradient u ||g_ref||_2 for every parameter's gradient;
//   ||w' - w'_ref||_2 <= update u ||w'_ref - w||_2 for every parameter's updated fp32 weight,
//   the error against the size of the step taken.
// Too many steps for a derived bound; training_step_check.cpp says how they were set.
// Throws std::invalid_argument for fp8 and int8: fp8 training keeps gradients in E5M2 with
// per-tensor scales, which this datapath does not model (E4M3 gradients of this model underflow).
struct TrainingStepTolerance {
  double loss;
  double gradient;
  double update;
};
TrainingStepTolerance training_step_tolerance(arch::DType dtype);

// The AdamW update the check applies: the defaults of AdamWHyperparameters at step 10, from
// moments as of earlier steps (see compare_training_step).
AdamWHyperparameters training_step_hyperparameters();

struct TrainingStepReport {
  NumericsReport summary;  // the worst figures; passed iff every quantity passed
  // "loss", then "gradient <name>" and "update <name>" for each parameter in the model's order.
  std::vector<std::pair<std::string, NumericsReport>> quantities;
};

// Compares a datapath step's loss and gradients with training_step_reference of the same model
// and tokens, then applies one AdamW update to both from the same fp32 state: the model's weights,
// and moments drawn (seeded with `seed`) on the scale of each reference gradient, s = its RMS:
// m normal(0, s^2), v = s^2 (0.5 + uniform(0, 1)), as if from earlier steps. Moments of that size
// keep the update a smooth function of the gradient, as it is after the first few steps; at step
// 1 the update is about sign(g), which flips on a rounding error of a near-zero gradient.
// Throws std::invalid_argument when the gradients do not match the model.
TrainingStepReport compare_training_step(const TinyModel& model, const TokenBatch& batch,
                                         const StepGradients<float>& datapath, arch::DType dtype, uint64_t seed);

// Draws a model (seed), tokens (seed + 1) and the AdamW state (seed + 2), runs the datapath step
// and compares.
TrainingStepReport check_training_step(const TrainingStepShape& shape, arch::DType dtype, uint64_t seed);

}  // namespace tessel::sim
