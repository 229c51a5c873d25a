#include "sim/numerics/backward_ops_check.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/running_error.h"

namespace tessel::sim {
namespace {

const Bounded kOne = exact(1);

std::string reference_line(const std::string& what, arch::DType dtype) {
  return "fp64 " + what + " of the same " + std::string(arch::to_string(dtype)) +
         " inputs; every element within the running error bound of the datapath's fp32 steps";
}

// One output's report, named for combine_outputs.
std::pair<std::string, NumericsReport> output_report(const std::string& name, const std::vector<float>& output,
                                                     const std::vector<double>& reference,
                                                     const std::vector<Bounded>& replay, arch::DType dtype) {
  return {name, compare_with_replay(output, reference, replay, dtype, name)};
}

// The replay of norm_backward_row for one row from its replayed x̂ and scale.
void replay_norm_row(const std::vector<Bounded>& normalised, const float* dy, const std::vector<float>& gamma,
                     Bounded scale, bool centre, arch::DType dtype, Bounded* dx, std::vector<Bounded>& d_gamma) {
  const Bounded count = exact(static_cast<double>(normalised.size()));
  Bounded sum_g, sum_gx;
  for (std::size_t j = 0; j < normalised.size(); ++j) {
    const Bounded g = exact(dy[j]) * exact(gamma[j]);
    sum_g = sum_g + g;
    sum_gx = sum_gx + g * normalised[j];
  }
  const Bounded mean_g = sum_g / count;
  const Bounded mean_gx = sum_gx / count;
  for (std::size_t j = 0; j < normalised.size(); ++j) {
    const Bounded g = exact(dy[j]) * exact(gamma[j]);
    const Bounded centred = centre ? g - mean_g : g;
    dx[j] = rounded(scale * (centred - normalised[j] * mean_gx), dtype);
    d_gamma[j] = d_gamma[j] + exact(dy[j]) * normalised[j];
  }
}

// |code / scale - x| for code = fp8_e4m3(fl32(x·scale)), as compare_quantize_fp8_e4m3 states it.
double fp8_cast_bound(double x, double scale) {
  const double magnitude = std::fabs(x);
  if (magnitude * scale >= kFp8E4M3MinNormal) return unit_roundoff(arch::DType::Fp8) * magnitude;
  return underflow_error(arch::DType::Fp8) / scale + 0x1p-24 * magnitude;
}

NumericsReport exact_flag_report(bool flag, bool reference) {
  BoundedComparison comparison;
  comparison.add(flag ? 1 : 0, reference ? 1 : 0, 0);
  return comparison.report(arch::DType::Fp32, "found_inf");
}

void require_gradient_sizes(const NormGradients<float>& output, RowShape shape, bool shift, const char* op) {
  require_size(output.dx.size(), shape.rows * shape.cols, op);
  require_size(output.d_gamma.size(), shape.cols, op);
  require_size(output.d_beta.size(), shift ? shape.cols : 0, op);
}

}  // namespace

NumericsReport compare_softmax_backward_rows(const std::vector<float>& y, const std::vector<float>& dy, RowShape shape,
                                             const std::vector<float>& dx, arch::DType dtype) {
  require_floating_format(dtype, "compare_softmax_backward_rows");
  const std::vector<double> reference = softmax_backward_rows_reference(to_double(y), to_double(dy), shape);
  std::vector<Bounded> replay(y.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const uint64_t first = row * shape.cols;
    Bounded dot;
    for (uint64_t j = 0; j < shape.cols; ++j) dot = dot + exact(dy[first + j]) * exact(y[first + j]);
    for (uint64_t j = 0; j < shape.cols; ++j) {
      replay[first + j] = rounded(exact(y[first + j]) * (exact(dy[first + j]) - dot), dtype);
    }
  }
  return compare_with_replay(dx, reference, replay, dtype, reference_line("softmax backward", dtype));
}

NumericsReport compare_layer_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy,
                                                RowShape shape, const std::vector<float>& gamma, float eps,
                                                const NormGradients<float>& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_layer_norm_backward_rows");
  const NormGradients<double> reference =
      layer_norm_backward_rows_reference(to_double(x), to_double(dy), shape, to_double(gamma), eps);
  require_gradient_sizes(output, shape, true, "compare_layer_norm_backward_rows");
  const Bounded count = exact(static_cast<double>(shape.cols));
  std::vector<Bounded> dx(x.size()), d_gamma(shape.cols), d_beta(shape.cols);
  std::vector<Bounded> normalised(shape.cols);
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* in = x.data() + row * shape.cols;
    const float* gradient = dy.data() + row * shape.cols;
    Bounded sum;
    for (uint64_t j = 0; j < shape.cols; ++j) sum = sum + exact(in[j]);
    const Bounded mean = sum / count;
    Bounded squares;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      normalised[j] = exact(in[j]) - mean;
      squares = squares + normalised[j] * normalised[j];
    }
    const Bounded inverse_std = kOne / sqrt(squares / count + exact(eps));
    for (Bounded& value : normalised) value = value * inverse_std;
    replay_norm_row(normalised, gradient, gamma, inverse_std, true, dtype, dx.data() + row * shape.cols, d_gamma);
    for (uint64_t j = 0; j < shape.cols; ++j) d_beta[j] = d_beta[j] + exact(gradient[j]);
  }
  return combine_outputs({output_report("dx", output.dx, reference.dx, dx, dtype),
                          output_report("d_gamma", output.d_gamma, reference.d_gamma, d_gamma, dtype),
                          output_report("d_beta", output.d_beta, reference.d_beta, d_beta, dtype)},
                         reference_line("LayerNorm backward (dx; fp32 d_gamma, d_beta)", dtype));
}

NumericsReport compare_rms_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                              const std::vector<float>& gamma, float eps,
                                              const NormGradients<float>& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_rms_norm_backward_rows");
  const NormGradients<double> reference =
      rms_norm_backward_rows_reference(to_double(x), to_double(dy), shape, to_double(gamma), eps);
  require_gradient_sizes(output, shape, false, "compare_rms_norm_backward_rows");
  const Bounded count = exact(static_cast<double>(shape.cols));
  std::vector<Bounded> dx(x.size()), d_gamma(shape.cols);
  std::vector<Bounded> normalised(shape.cols);
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* in = x.data() + row * shape.cols;
    Bounded squares;
    for (uint64_t j = 0; j < shape.cols; ++j) squares = squares + exact(in[j]) * exact(in[j]);
    const Bounded inverse_rms = kOne / sqrt(squares / count + exact(eps));
    for (uint64_t j = 0; j < shape.cols; ++j) normalised[j] = exact(in[j]) * inverse_rms;
    replay_norm_row(normalised, dy.data() + row * shape.cols, gamma, inverse_rms, false, dtype,
                    dx.data() + row * shape.cols, d_gamma);
  }
  return combine_outputs({output_report("dx", output.dx, reference.dx, dx, dtype),
                          output_report("d_gamma", output.d_gamma, reference.d_gamma, d_gamma, dtype)},
                         reference_line("RMSNorm backward (dx; fp32 d_gamma)", dtype));
}

NumericsReport compare_gelu_tanh_backward(const std::vector<float>& x, const std::vector<float>& dy,
                                          const std::vector<float>& dx, arch::DType dtype) {
  require_floating_format(dtype, "compare_gelu_tanh_backward");
  const std::vector<double> reference = gelu_tanh_backward_reference(to_double(x), to_double(dy));
  const double sqrt_2_over_pi = std::sqrt(2 / std::acos(-1.0));
  const Bounded cubic = constant(0.044715f, 0.044715);
  const Bounded cubic_slope = constant(3 * 0.044715f, 3 * 0.044715);
  const Bounded root = constant(0.79788456080286536f, sqrt_2_over_pi);
  const Bounded half = exact(0.5);
  std::vector<Bounded> replay(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const Bounded value = exact(x[i]);
    const Bounded t = tanh(root * (value + cubic * value * value * value));
    const Bounded slope =
        half * (kOne + t) + half * value * (kOne - t * t) * root * (kOne + cubic_slope * value * value);
    replay[i] = rounded(exact(dy[i]) * slope, dtype);
  }
  return compare_with_replay(dx, reference, replay, dtype, reference_line("tanh-form GELU backward", dtype));
}

NumericsReport compare_relu_backward(const std::vector<float>& x, const std::vector<float>& dy,
                                     const std::vector<float>& dx, arch::DType dtype) {
  require_floating_format(dtype, "compare_relu_backward");
  const std::vector<double> reference = relu_backward_reference(to_double(x), to_double(dy));
  const std::vector<Bounded> replay(x.size());
  return compare_with_replay(dx, reference, replay, dtype,
                             "fp64 ReLU backward of the same " + std::string(arch::to_string(dtype)) +
                                 " inputs; passed iff every element is exact");
}

NumericsReport compare_dropout(const std::vector<float>& x, const std::vector<uint8_t>& keep, double probability,
                               const std::vector<float>& y, arch::DType dtype) {
  require_floating_format(dtype, "compare_dropout");
  const std::vector<double> reference = dropout_reference(to_double(x), keep, probability);
  const Bounded scale = kOne / (kOne - constant(static_cast<float>(probability), probability));
  std::vector<Bounded> replay(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) replay[i] = keep[i] != 0 ? rounded(exact(x[i]) * scale, dtype) : exact(0);
  return compare_with_replay(y, reference, replay, dtype,
                             "fp64 dropout of the same " + std::string(arch::to_string(dtype)) +
                                 " inputs and mask; passed iff every element is within its bound");
}

NumericsReport compare_silu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                  const std::vector<float>& dy, const GatedGradients<float>& output,
                                                  arch::DType dtype) {
  require_floating_format(dtype, "compare_silu_and_multiply_backward");
  const GatedGradients<double> reference =
      silu_and_multiply_backward_reference(to_double(gate), to_double(up), to_double(dy));
  std::vector<Bounded> d_gate(gate.size()), d_up(gate.size());
  for (std::size_t i = 0; i < gate.size(); ++i) {
    const Bounded g = exact(gate[i]);
    const Bounded sigmoid = kOne / (kOne + exp(exact(-gate[i])));
    d_up[i] = rounded(exact(dy[i]) * (g * sigmoid), dtype);
    d_gate[i] = rounded(exact(dy[i]) * exact(up[i]) * sigmoid * (kOne + g * (kOne - sigmoid)), dtype);
  }
  return combine_outputs({output_report("d_gate", output.d_gate, reference.d_gate, d_gate, dtype),
                          output_report("d_up", output.d_up, reference.d_up, d_up, dtype)},
                         reference_line("SiLU-and-multiply backward (d_gate, d_up)", dtype));
}

NumericsReport compare_gelu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                  const std::vector<float>& dy, const GatedGradients<float>& output,
                                                  arch::DType dtype) {
  require_floating_format(dtype, "compare_gelu_and_multiply_backward");
  const GatedGradients<double> reference =
      gelu_and_multiply_backward_reference(to_double(gate), to_double(up), to_double(dy));
  const Bounded cubic = constant(0.044715f, 0.044715);
  const Bounded cubic_slope = constant(3 * 0.044715f, 3 * 0.044715);
  const Bounded root = constant(0.79788456080286536f, std::sqrt(2 / std::acos(-1.0)));
  const Bounded half = exact(0.5);
  std::vector<Bounded> d_gate(gate.size()), d_up(gate.size());
  for (std::size_t i = 0; i < gate.size(); ++i) {
    const Bounded g = exact(gate[i]);
    const Bounded t = tanh(root * (g + cubic * g * g * g));
    const Bounded slope = half * (kOne + t) + half * g * (kOne - t * t) * root * (kOne + cubic_slope * g * g);
    d_up[i] = rounded(exact(dy[i]) * (half * g * (kOne + t)), dtype);
    d_gate[i] = rounded(exact(dy[i]) * exact(up[i]) * slope, dtype);
  }
  return combine_outputs({output_report("d_gate", output.d_gate, reference.d_gate, d_gate, dtype),
                          output_report("d_up", output.d_up, reference.d_up, d_up, dtype)},
                         reference_line("GELU-and-multiply backward (d_gate, d_up)", dtype));
}

NumericsReport compare_softcap_backward(const std::vector<float>& y, const std::vector<float>& dy, float cap,
                                        const std::vector<float>& dx, arch::DType dtype) {
  require_floating_format(dtype, "compare_softcap_backward");
  const std::vector<double> reference = softcap_backward_reference(to_double(y), to_double(dy), cap);
  const Bounded inverse = kOne / exact(cap);
  std::vector<Bounded> replay(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    const Bounded t = exact(y[i]) * inverse;
    replay[i] = rounded(exact(dy[i]) * (kOne - t * t), dtype);
  }
  return compare_with_replay(dx, reference, replay, dtype, reference_line("soft cap backward", dtype));
}

NumericsReport compare_embedding_backward(const std::vector<uint64_t>& ids, const std::vector<float>& dy,
                                          uint64_t hidden, const std::vector<float>& initial,
                                          const std::vector<float>& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_embedding_backward");
  const std::vector<double> reference = embedding_backward_reference(ids, to_double(dy), hidden, to_double(initial));
  std::vector<Bounded> replay(initial.size());
  std::transform(initial.begin(), initial.end(), replay.begin(), [](float value) { return exact(value); });
  for (std::size_t token = 0; token < ids.size(); ++token) {
    for (uint64_t j = 0; j < hidden; ++j) {
      Bounded& sum = replay[ids[token] * hidden + j];
      sum = sum + exact(dy[token * hidden + j]);
    }
  }
  return compare_with_replay(output, reference, replay, dtype,
                             reference_line("embedding backward (fp32 table gradient)", dtype));
}

NumericsReport compare_cross_entropy_rows(const std::vector<float>& logits, RowShape shape,
                                          const std::vector<uint64_t>& targets,
                                          const CrossEntropyOutputs<float>& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_cross_entropy_rows");
  const CrossEntropyOutputs<double> reference = cross_entropy_rows_reference(to_double(logits), shape, targets);
  std::vector<Bounded> softmax(logits.size()), loss(shape.rows), weights(shape.cols);
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* in = logits.data() + row * shape.cols;
    const Bounded max = exact(*std::max_element(in, in + shape.cols));
    Bounded sum;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      weights[j] = exp(exact(in[j]) - max);
      sum = sum + weights[j];
    }
    for (uint64_t j = 0; j < shape.cols; ++j) softmax[row * shape.cols + j] = rounded(weights[j] / sum, dtype);
    loss[row] = log(sum) - (exact(in[targets[row]]) - max);
  }
  return combine_outputs({output_report("softmax", output.softmax, reference.softmax, softmax, dtype),
                          output_report("loss", output.loss, reference.loss, loss, dtype)},
                         reference_line("cross-entropy (softmax; fp32 loss)", dtype));
}

NumericsReport compare_cross_entropy_backward_rows(const std::vector<float>& softmax, RowShape shape,
                                                   const std::vector<uint64_t>& targets, uint64_t tokens,
                                                   const std::vector<float>& d_logits, arch::DType dtype) {
  require_floating_format(dtype, "compare_cross_entropy_backward_rows");
  const std::vector<double> reference =
      cross_entropy_backward_rows_reference(to_double(softmax), shape, targets, tokens);
  const Bounded inverse_tokens = kOne / constant(static_cast<float>(tokens), static_cast<double>(tokens));
  std::vector<Bounded> replay(softmax.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    for (uint64_t j = 0; j < shape.cols; ++j) {
      const Bounded p = exact(softmax[row * shape.cols + j]);
      replay[row * shape.cols + j] = rounded((j == targets[row] ? p - kOne : p) * inverse_tokens, dtype);
    }
  }
  return compare_with_replay(d_logits, reference, replay, dtype, reference_line("cross-entropy backward", dtype));
}

NumericsReport compare_adamw_update(const AdamWState<float>& state, const std::vector<float>& gradient,
                                    const AdamWHyperparameters& hyper, const AdamWUpdate& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_adamw_update");
  const AdamWState<double> reference = adamw_update_reference(
      {to_double(state.weight), to_double(state.m), to_double(state.v)}, to_double(gradient), hyper);
  const Bounded beta1 = exact(hyper.beta1), beta2 = exact(hyper.beta2);
  const Bounded one_minus_beta1 = kOne - beta1, one_minus_beta2 = kOne - beta2;
  const Bounded correction1 = kOne - power(hyper.beta1, hyper.step);
  const Bounded correction2 = kOne - power(hyper.beta2, hyper.step);
  const std::size_t count = gradient.size();
  std::vector<Bounded> weight(count), m(count), v(count), copy(count);
  for (std::size_t i = 0; i < count; ++i) {
    const Bounded g = exact(gradient[i]), w = exact(state.weight[i]);
    m[i] = beta1 * exact(state.m[i]) + one_minus_beta1 * g;
    v[i] = beta2 * exact(state.v[i]) + one_minus_beta2 * g * g;
    const Bounded update = m[i] / correction1 / (sqrt(v[i] / correction2) + exact(hyper.eps));
    weight[i] = w - exact(hyper.learning_rate) * (update + exact(hyper.weight_decay) * w);
    copy[i] = rounded(weight[i], dtype);
  }
  return combine_outputs(
      {output_report("weight", output.state.weight, reference.weight, weight, dtype),
       output_report("m", output.state.m, reference.m, m, dtype),
       output_report("v", output.state.v, reference.v, v, dtype),
       output_report("compute copy", output.compute_copy, reference.weight, copy, dtype)},
      "fp64 AdamW update of the same fp32 state and gradient; every element of the fp32 weights and moments "
      "within the running error bound of the datapath's fp32 steps, the " +
          std::string(arch::to_string(dtype)) + " copy within that plus its rounding");
}

NumericsReport compare_unscale_gradients(const std::vector<float>& scaled, float loss_scale,
                                         const UnscaledGradients<float>& output) {
  require_size(output.gradient.size(), scaled.size(), "compare_unscale_gradients");
  const UnscaledGradients<double> reference = unscale_gradients_reference(to_double(scaled), loss_scale);
  const Bounded inverse_scale = kOne / exact(loss_scale);
  BoundedComparison values;
  for (std::size_t i = 0; i < scaled.size(); ++i) {
    if (std::isfinite(scaled[i])) {
      values.add(output.gradient[i], reference.gradient[i], (exact(scaled[i]) * inverse_scale).error);
    }
  }
  return combine_outputs({{"gradients", values.report(arch::DType::Fp32, "gradients")},
                          {"found_inf", exact_flag_report(output.found_inf, reference.found_inf)}},
                         "fp64 scaled / loss scale of the same fp32 gradients; every finite one within the rounding of "
                         "the fp32 reciprocal and of the product, found_inf exact");
}

NumericsReport compare_gradient_square_sum(const std::vector<float>& gradient, float sum) {
  const double reference = gradient_square_sum_reference(to_double(gradient));
  const uint64_t n = gradient.size();
  const uint64_t blocks = (n + kGradientNormBlock - 1) / kGradientNormBlock;
  const uint64_t roundings = n == 0 ? 0 : std::min(n, kGradientNormBlock) + blocks - 1;
  // Σ g² itself is at most the reference / (1 - gamma_m(u64)), the reference's own error.
  const double sum_at_most = reference / (1 - gamma(roundings, 0x1p-53));
  BoundedComparison comparison;
  comparison.add(sum, reference,
                 gamma(roundings, kComputeRoundoff) * sum_at_most + static_cast<double>(n) * kStepUnderflow);
  return comparison.report(arch::DType::Fp32,
                           "fp64 sum of squares of the same fp32 gradients; passed iff within gamma_" +
                               std::to_string(roundings) + "(u) of it (fp32 sums of non-negative terms)");
}

NumericsReport compare_quantize_fp8_e4m3(const std::vector<float>& x, const Fp8Tensor& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_quantize_fp8_e4m3");
  require_size(output.codes.size(), x.size(), "compare_quantize_fp8_e4m3");
  const Fp8Scaling reference = fp8_scaling_reference(to_double(x));
  BoundedComparison amax, scale, dequantized;
  amax.add(output.amax, reference.amax, 0);
  // One fp32 rounding errs by u / (1 + u) relative: the rest of u covers the fp64 quotient's.
  scale.add(output.scale, reference.scale, kComputeRoundoff * reference.scale);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double value = double{fp8_e4m3_value(output.codes[i])} / output.scale;
    dequantized.add(value, x[i], fp8_cast_bound(x[i], output.scale));
  }
  return combine_outputs({{"amax", amax.report(dtype, "amax")},
                          {"scale", scale.report(dtype, "scale")},
                          {"dequantized", dequantized.report(dtype, "dequantized")}},
                         "fp64 amax and 448 / amax of the same " + std::string(arch::to_string(dtype)) +
                             " tensor, and the tensor itself; amax exact, the fp32 scale within its rounding, every "
                             "code / scale within E4M3's rounding of x (2^-4 |x|, or 2^-10 / scale below its normals)");
}

}  // namespace tessel::sim
