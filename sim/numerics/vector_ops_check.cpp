#include "sim/numerics/vector_ops_check.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/numerics/op_error.h"
#include "sim/numerics/running_error.h"
#include "sim/numerics/vector_ops_reference.h"

namespace tessel::sim {
namespace {

constexpr double u = kComputeRoundoff;
constexpr double kLibm = kLibmError;

std::string reference_line(const std::string& what, arch::DType dtype) {
  return "Eigen fp64 " + what + " of the same " + std::string(arch::to_string(dtype)) +
         " inputs; every element within its fp32 compute bound plus one rounding to the format";
}

// Compares `output` with `reference` element by element, the bound of element i being
// rounded_output_bound(reference[i], compute_error(i), dtype).
template <typename ComputeError>
NumericsReport compare_elements(const std::vector<float>& output,
                                const std::vector<double>& reference, arch::DType dtype,
                                const std::string& what, ComputeError compute_error) {
  require_floating_format(dtype, what.c_str());
  require_size(output.size(), reference.size(), what.c_str());
  BoundedComparison comparison;
  for (std::size_t i = 0; i < output.size(); ++i) {
    comparison.add(output[i], reference[i],
                   rounded_output_bound(reference[i], compute_error(i), dtype));
  }
  return comparison.report(dtype, reference_line(what, dtype));
}

}  // namespace

double softmax_fp32_relative_error(double distance, double largest_distance, uint64_t visible) {
  // exp(x_j - max): the subtraction errs by u |x_j - max|, which exp turns into that relative
  // error, and expf adds its own. The sum of the visible exponentials (all positive) errs by
  // the worst of those plus gamma_{n-1}; the division adds u.
  const auto additions = static_cast<double>(visible > 0 ? visible - 1 : 0);
  return compound(u * (distance + largest_distance) + 2 * kLibm + (additions + 1) * u);
}

NumericsReport compare_softmax_rows(const std::vector<float>& x, RowShape shape, SoftmaxMask mask,
                                    const std::vector<float>& output, arch::DType dtype) {
  const std::vector<double> reference = softmax_rows_reference(to_double(x), shape, mask);
  require_floating_format(dtype, "compare_softmax_rows");
  require_size(output.size(), reference.size(), "compare_softmax_rows");
  BoundedComparison comparison;
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const uint64_t visible = visible_columns(shape, mask, row);
    const float* scores = x.data() + row * shape.cols;
    const double max = visible > 0 ? *std::max_element(scores, scores + visible) : 0.0;
    const double min = visible > 0 ? *std::min_element(scores, scores + visible) : 0.0;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      const uint64_t index = row * shape.cols + j;
      // A masked entry must be exactly 0.
      double bound = 0;
      if (j < visible) {
        const double relative = softmax_fp32_relative_error(max - scores[j], max - min, visible);
        bound = rounded_output_bound(reference[index], relative * reference[index], dtype);
      }
      comparison.add(output[index], reference[index], bound);
    }
  }
  return comparison.report(dtype, reference_line("softmax", dtype));
}

NumericsReport compare_layer_norm_rows(const std::vector<float>& x, RowShape shape,
                                       const std::vector<float>& gamma,
                                       const std::vector<float>& beta, float eps,
                                       const std::vector<float>& output, arch::DType dtype) {
  const std::vector<double> reference =
      layer_norm_rows_reference(to_double(x), shape, to_double(gamma), to_double(beta), eps);
  const auto n = static_cast<double>(shape.cols);
  std::vector<double> compute_error(reference.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* in = x.data() + row * shape.cols;
    double mean = 0, mean_abs = 0;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      mean += in[j] / n;
      mean_abs += std::fabs(in[j]) / n;
    }
    double variance = 0;
    for (uint64_t j = 0; j < shape.cols; ++j) variance += (in[j] - mean) * (in[j] - mean) / n;
    const double sigma_squared = variance + eps;
    // The mean: n - 1 additions and a division, off by at most gamma_n sum|x| / n.
    const double mean_error = tessel::sim::gamma(shape.cols, u) * mean_abs;
    // Since the centred values sum to 0, a mean off by d adds exactly d^2 to the variance;
    // the subtraction's rounding (squared), the square's, the n - 1 additions and the
    // division give gamma_{n+3}; adding eps, u. The square root halves that relative error; it and
    // the reciprocal add u.
    const double variance_error =
        tessel::sim::gamma(shape.cols + 3, u) * (variance + mean_error * mean_error) +
        mean_error * mean_error + u * sigma_squared;
    const double inverse_std_error = variance_error / sigma_squared / 2 + 2 * u;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      const double centred = in[j] - mean;
      const double normalised = centred / std::sqrt(sigma_squared);
      // (x - mean) errs by the mean's error plus its own rounding; times the reciprocal adds
      // the reciprocal's error and u; the gamma multiply and the beta add add u each.
      const double normalised_error =
          (mean_error + u * (std::fabs(centred) + mean_error)) / std::sqrt(sigma_squared) +
          std::fabs(normalised) * (inverse_std_error + u);
      const double scaled = std::fabs(normalised * gamma[j]);
      compute_error[row * shape.cols + j] =
          std::fabs(gamma[j]) * normalised_error + u * (2 * scaled + std::fabs(beta[j]));
    }
  }
  return compare_elements(output, reference, dtype, "LayerNorm",
                          [&](std::size_t i) { return compute_error[i]; });
}

NumericsReport compare_rms_norm_rows(const std::vector<float>& x, RowShape shape,
                                     const std::vector<float>& gamma, float eps,
                                     const std::vector<float>& output, arch::DType dtype) {
  const std::vector<double> reference =
      rms_norm_rows_reference(to_double(x), shape, to_double(gamma), eps);
  // mean(x^2) + eps: the squares, n - 1 additions, the division and the eps add are n + 2
  // roundings of positive terms; the square root halves that and adds u; the reciprocal and the
  // two multiplies add three more. Every step is a relative factor, so the whole is relative.
  const double relative = compound((static_cast<double>(shape.cols) + 2) / 2 * u + 4 * u);
  return compare_elements(output, reference, dtype, "RMSNorm",
                          [&](std::size_t i) { return relative * std::fabs(reference[i]); });
}

NumericsReport compare_gelu(const std::vector<float>& x, GeluForm form,
                            const std::vector<float>& output, arch::DType dtype) {
  const std::vector<double> exact = gelu_reference(to_double(x), GeluForm::Erf);
  const std::vector<double> formula = gelu_reference(to_double(x), form);
  const double pi = std::acos(-1.0);
  const double sqrt_2 = std::sqrt(2.0);
  const double sqrt_2_over_pi = std::sqrt(2 / pi);
  BoundedComparison comparison;
  require_floating_format(dtype, "compare_gelu");
  require_size(output.size(), x.size(), "compare_gelu");
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double value = x[i];
    // Both forms are x/2 (1 + f(b)) with f = erf or tanh. The argument b errs by db; f then
    // errs by f'(b) db plus the libm error; 1 + f(b) adds u, the multiply by x/2 adds u.
    double f, slope, argument_error;
    if (form == GeluForm::Erf) {
      const double b = value / sqrt_2;
      f = std::erf(b);
      slope = 2 / std::sqrt(pi) * std::exp(-b * b);
      argument_error = compound(2 * u) * std::fabs(b);  // the rounded 1/sqrt 2 and the multiply
    } else {
      const double cubic = 0.044715 * value * value * value;
      const double b = sqrt_2_over_pi * (value + cubic);
      f = std::tanh(b);
      slope = 1 - f * f;
      // The cubic term: rounded coefficient and three multiplies; the add; the rounded
      // sqrt(2/pi) and its multiply.
      argument_error = sqrt_2_over_pi * (4 * u * std::fabs(cubic) + u * std::fabs(value + cubic)) +
                       2 * u * std::fabs(b);
    }
    const double compute_error =
        std::fabs(value) / 2 * (slope * argument_error + kLibm * std::fabs(f) + u * (1 + f)) +
        u * std::fabs(formula[i]);
    const double model_error = std::fabs(formula[i] - exact[i]);
    comparison.add(output[i], exact[i],
                   rounded_output_bound(formula[i], compute_error, dtype) + model_error);
  }
  const std::string what = form == GeluForm::Erf ? "GELU (erf form)" : "GELU (tanh form)";
  return comparison.report(dtype, "Eigen fp64 exact erf GELU of the same " +
                                      std::string(arch::to_string(dtype)) + " inputs vs " + what +
                                      "; within the fp32 compute bound, one rounding to the "
                                      "format and the form's model error");
}

NumericsReport compare_silu(const std::vector<float>& x, const std::vector<float>& output,
                            arch::DType dtype) {
  const std::vector<double> reference = silu_reference(to_double(x));
  // expf(-x), 1 + e (relative u, since both terms are positive), x / (1 + e).
  const double relative = compound(kLibm + 2 * u);
  return compare_elements(output, reference, dtype, "SiLU",
                          [&](std::size_t i) { return relative * std::fabs(reference[i]); });
}

NumericsReport compare_silu_and_multiply(const std::vector<float>& gate,
                                         const std::vector<float>& up,
                                         const std::vector<float>& output, arch::DType dtype) {
  const std::vector<double> reference = silu_and_multiply_reference(to_double(gate), to_double(up));
  const double relative = compound(kLibm + 3 * u);  // SiLU's steps and the multiply by up
  return compare_elements(output, reference, dtype, "SiLU-and-multiply",
                          [&](std::size_t i) { return relative * std::fabs(reference[i]); });
}

NumericsReport compare_gelu_and_multiply(const std::vector<float>& gate, const std::vector<float>& up,
                                         const std::vector<float>& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_gelu_and_multiply");
  require_size(up.size(), gate.size(), "compare_gelu_and_multiply");
  const std::vector<double> reference = gelu_and_multiply_reference(to_double(gate), to_double(up));
  const Bounded cubic = constant(0.044715f, 0.044715);
  const Bounded root = constant(0.79788456080286536f, std::sqrt(2 / std::acos(-1.0)));
  std::vector<Bounded> replay(gate.size());
  for (std::size_t i = 0; i < gate.size(); ++i) {
    const Bounded g = exact(gate[i]);
    const Bounded t = tanh(root * (g + cubic * g * g * g));
    replay[i] = rounded(exact(0.5) * g * (exact(1) + t) * exact(up[i]), dtype);
  }
  return compare_with_replay(output, reference, replay, dtype,
                             "fp64 tanh-form GELU-and-multiply of the same " + std::string(arch::to_string(dtype)) +
                                 " inputs; every element within the running error bound of the datapath's fp32 "
                                 "steps");
}

NumericsReport compare_softcap(const std::vector<float>& x, float cap, const std::vector<float>& output,
                               arch::DType dtype) {
  require_floating_format(dtype, "compare_softcap");
  const std::vector<double> reference = softcap_reference(to_double(x), cap);
  const Bounded inverse = exact(1) / exact(cap);
  std::vector<Bounded> replay(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) replay[i] = rounded(exact(cap) * tanh(exact(x[i]) * inverse), dtype);
  return compare_with_replay(output, reference, replay, dtype,
                             "fp64 soft cap c·tanh(x/c) of the same " + std::string(arch::to_string(dtype)) +
                                 " inputs; every element within the running error bound of the datapath's fp32 "
                                 "steps");
}

NumericsReport compare_rope_half_split(const std::vector<float>& x, RowShape shape,
                                       const RopeLayout& layout, const std::vector<float>& output,
                                       arch::DType dtype) {
  const std::vector<double> reference = rope_half_split_reference(to_double(x), shape, layout);
  const uint64_t half = layout.head_dim / 2;
  const double log_base = std::log(static_cast<double>(layout.base));
  std::vector<double> compute_error(reference.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const auto position = static_cast<double>(layout.position_offset + row);
    for (uint64_t i = 0; i < half; ++i) {
      const double exponent = 2.0 * static_cast<double>(i) / static_cast<double>(layout.head_dim);
      const double angle = position * std::pow(static_cast<double>(layout.base), -exponent);
      // The rounded exponent errs by u * exponent, which powf turns into a relative
      // log(base) * exponent * u; powf, the reciprocal and the multiply by the position add
      // theirs. cos and sin are 1-Lipschitz, so they err by the angle's error plus libm's.
      const double angle_error = angle * compound(log_base * exponent * u + kLibm + 2 * u);
      const double cosine = std::fabs(std::cos(angle));
      const double sine = std::fabs(std::sin(angle));
      for (uint64_t head = 0; head < shape.cols; head += layout.head_dim) {
        const uint64_t first = row * shape.cols + head + i;
        const uint64_t second = first + half;
        const double a = std::fabs(x[first]);
        const double b = std::fabs(x[second]);
        // Two products and their sum: 2u on top of the libm errors of cos and sin.
        compute_error[first] = (a + b) * angle_error + (kLibm + 2 * u) * (a * cosine + b * sine);
        compute_error[second] = (a + b) * angle_error + (kLibm + 2 * u) * (b * cosine + a * sine);
      }
    }
  }
  return compare_elements(output, reference, dtype, "half-split RoPE",
                          [&](std::size_t i) { return compute_error[i]; });
}

NumericsReport compare_residual_add(const std::vector<float>& a, const std::vector<float>& b,
                                    const std::vector<float>& output, arch::DType dtype) {
  const std::vector<double> reference = residual_add_reference(to_double(a), to_double(b));
  return compare_elements(output, reference, dtype, "residual add",
                          [&](std::size_t i) { return u * std::fabs(reference[i]); });
}

}  // namespace tessel::sim
