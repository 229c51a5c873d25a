#include "sim/numerics/backward_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kCubicCoefficient = 0.044715f;
constexpr float kCubicSlope = 3 * 0.044715f;  // d/dx of the cubic term, over x²

void round_all(std::vector<float>& values, arch::DType dtype) {
  for (float& value : values) value = round_to_format(value, dtype);
}

void require_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape, const char* op) {
  require_size(x.size(), shape.rows * shape.cols, op);
  require_size(dy.size(), shape.rows * shape.cols, op);
}

// Element-wise over x and dy, each result rounded to the format.
template <typename ElementOp>
std::vector<float> zip_gradient(const std::vector<float>& x, const std::vector<float>& dy, arch::DType dtype,
                                const char* op, ElementOp element_op) {
  require_floating_format(dtype, op);
  require_size(dy.size(), x.size(), op);
  std::vector<float> dx(x.size());
  std::transform(x.begin(), x.end(), dy.begin(), dx.begin(),
                 [&](float value, float gradient) { return round_to_format(element_op(value, gradient), dtype); });
  return dx;
}

// The part of the backward both norms share once a row's x̂ is known: g = dy·gamma, the row
// sums Σg and Σg·x̂ in order, dx = scale·((g - mean(g)) - x̂·mean(g·x̂)) (RMSNorm, uncentred, has
// no mean(g) term), and the row's share of the gain's gradient.
void norm_backward_row(const float* normalised, const float* dy, const std::vector<float>& gamma, uint64_t cols,
                       float scale, bool centre, float* dx, float* d_gamma) {
  const auto count = static_cast<float>(cols);
  float sum_g = 0.0f, sum_gx = 0.0f;
  for (uint64_t j = 0; j < cols; ++j) {
    const float g = dy[j] * gamma[j];
    sum_g += g;
    sum_gx += g * normalised[j];
  }
  const float mean_g = sum_g / count;
  const float mean_gx = sum_gx / count;
  for (uint64_t j = 0; j < cols; ++j) {
    const float g = dy[j] * gamma[j];
    const float centred = centre ? g - mean_g : g;
    dx[j] = scale * (centred - normalised[j] * mean_gx);
    d_gamma[j] += dy[j] * normalised[j];
  }
}

}  // namespace

std::vector<float> softmax_backward_rows(const std::vector<float>& y, const std::vector<float>& dy, RowShape shape,
                                         arch::DType dtype) {
  require_floating_format(dtype, "softmax_backward_rows");
  require_rows(y, dy, shape, "softmax_backward_rows");
  std::vector<float> dx(y.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* p = y.data() + row * shape.cols;
    const float* g = dy.data() + row * shape.cols;
    float dot = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) dot += g[j] * p[j];
    for (uint64_t j = 0; j < shape.cols; ++j) dx[row * shape.cols + j] = p[j] * (g[j] - dot);
  }
  round_all(dx, dtype);
  return dx;
}

NormGradients<float> layer_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                              const std::vector<float>& gamma, float eps, arch::DType dtype) {
  require_floating_format(dtype, "layer_norm_backward_rows");
  require_rows(x, dy, shape, "layer_norm_backward_rows");
  require_size(gamma.size(), shape.cols, "layer_norm_backward_rows");
  const auto count = static_cast<float>(shape.cols);
  NormGradients<float> out{std::vector<float>(x.size()), std::vector<float>(shape.cols, 0.0f),
                           std::vector<float>(shape.cols, 0.0f)};
  std::vector<float> normalised(shape.cols);
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* in = x.data() + row * shape.cols;
    const float* gradient = dy.data() + row * shape.cols;
    // The forward's statistics, step for step as layer_norm_rows computes them.
    float sum = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) sum += in[j];
    const float mean = sum / count;
    float squares = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      normalised[j] = in[j] - mean;
      squares += normalised[j] * normalised[j];
    }
    const float inverse_std = 1.0f / std::sqrt(squares / count + eps);
    for (uint64_t j = 0; j < shape.cols; ++j) normalised[j] *= inverse_std;
    norm_backward_row(normalised.data(), gradient, gamma, shape.cols, inverse_std, true,
                      out.dx.data() + row * shape.cols, out.d_gamma.data());
    for (uint64_t j = 0; j < shape.cols; ++j) out.d_beta[j] += gradient[j];
  }
  round_all(out.dx, dtype);
  return out;
}

NormGradients<float> rms_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                            const std::vector<float>& gamma, float eps, arch::DType dtype) {
  require_floating_format(dtype, "rms_norm_backward_rows");
  require_rows(x, dy, shape, "rms_norm_backward_rows");
  require_size(gamma.size(), shape.cols, "rms_norm_backward_rows");
  const auto count = static_cast<float>(shape.cols);
  NormGradients<float> out{std::vector<float>(x.size()), std::vector<float>(shape.cols, 0.0f), {}};
  std::vector<float> normalised(shape.cols);
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const float* in = x.data() + row * shape.cols;
    float squares = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) squares += in[j] * in[j];
    const float inverse_rms = 1.0f / std::sqrt(squares / count + eps);
    for (uint64_t j = 0; j < shape.cols; ++j) normalised[j] = in[j] * inverse_rms;
    norm_backward_row(normalised.data(), dy.data() + row * shape.cols, gamma, shape.cols, inverse_rms, false,
                      out.dx.data() + row * shape.cols, out.d_gamma.data());
  }
  round_all(out.dx, dtype);
  return out;
}

// tanh(√(2/π)·(x + 0.044715·x³)), the tanh-form GELU's inner value.
float gelu_tanh_t(float value) {
  const float inner = value + kCubicCoefficient * value * value * value;
  return std::tanh(kSqrt2OverPi * inner);
}

// The tanh-form GELU's derivative at x given t = gelu_tanh_t(x).
float gelu_tanh_slope(float value, float t) {
  return 0.5f * (1.0f + t) + 0.5f * value * (1.0f - t * t) * kSqrt2OverPi * (1.0f + kCubicSlope * value * value);
}

std::vector<float> gelu_tanh_backward(const std::vector<float>& x, const std::vector<float>& dy, arch::DType dtype) {
  return zip_gradient(x, dy, dtype, "gelu_tanh_backward", [](float value, float gradient) {
    return gradient * gelu_tanh_slope(value, gelu_tanh_t(value));
  });
}

GatedGradients<float> gelu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                 const std::vector<float>& dy, arch::DType dtype) {
  require_floating_format(dtype, "gelu_and_multiply_backward");
  require_size(up.size(), gate.size(), "gelu_and_multiply_backward");
  require_size(dy.size(), gate.size(), "gelu_and_multiply_backward");
  GatedGradients<float> out{std::vector<float>(gate.size()), std::vector<float>(gate.size())};
  for (std::size_t i = 0; i < gate.size(); ++i) {
    const float g = gate[i];
    const float t = gelu_tanh_t(g);
    out.d_up[i] = round_to_format(dy[i] * (0.5f * g * (1.0f + t)), dtype);
    out.d_gate[i] = round_to_format(dy[i] * up[i] * gelu_tanh_slope(g, t), dtype);
  }
  return out;
}

std::vector<float> softcap_backward(const std::vector<float>& y, const std::vector<float>& dy, float cap,
                                    arch::DType dtype) {
  if (!(cap > 0.0f)) throw std::invalid_argument("softcap_backward: the cap must be positive");
  const float inverse = 1.0f / cap;
  return zip_gradient(y, dy, dtype, "softcap_backward", [&](float value, float gradient) {
    const float t = value * inverse;
    return gradient * (1.0f - t * t);
  });
}

std::vector<float> relu_backward(const std::vector<float>& x, const std::vector<float>& dy, arch::DType dtype) {
  return zip_gradient(x, dy, dtype, "relu_backward",
                      [](float value, float gradient) { return value > 0.0f ? gradient : 0.0f; });
}

std::vector<float> dropout(const std::vector<float>& x, const std::vector<uint8_t>& keep, double probability,
                           arch::DType dtype) {
  require_floating_format(dtype, "dropout");
  require_size(keep.size(), x.size(), "dropout");
  const float scale = 1.0f / (1.0f - static_cast<float>(probability));
  std::vector<float> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = keep[i] != 0 ? round_to_format(x[i] * scale, dtype) : 0.0f;
  return y;
}

GatedGradients<float> silu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                   const std::vector<float>& dy, arch::DType dtype) {
  require_floating_format(dtype, "silu_and_multiply_backward");
  require_size(up.size(), gate.size(), "silu_and_multiply_backward");
  require_size(dy.size(), gate.size(), "silu_and_multiply_backward");
  GatedGradients<float> out{std::vector<float>(gate.size()), std::vector<float>(gate.size())};
  for (std::size_t i = 0; i < gate.size(); ++i) {
    const float g = gate[i];
    const float sigmoid = 1.0f / (1.0f + std::exp(-g));
    out.d_up[i] = round_to_format(dy[i] * (g * sigmoid), dtype);
    out.d_gate[i] = round_to_format(dy[i] * up[i] * sigmoid * (1.0f + g * (1.0f - sigmoid)), dtype);
  }
  return out;
}

std::vector<float> rope_half_split_backward(const std::vector<float>& dy, RowShape shape, const RopeLayout& layout,
                                            arch::DType dtype) {
  if (layout.head_dim == 0 || layout.head_dim % 2 != 0 || shape.cols % layout.head_dim != 0) {
    throw std::invalid_argument("rope_half_split_backward: head_dim must be even and divide the row");
  }
  const uint64_t half = layout.head_dim / 2;
  const auto negate_second_halves = [&](std::vector<float> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if ((i % shape.cols) % layout.head_dim >= half) values[i] = -values[i];
    }
    return values;
  };
  return negate_second_halves(rope_half_split(negate_second_halves(dy), shape, layout, dtype));
}

void embedding_backward(const std::vector<uint64_t>& ids, const std::vector<float>& dy, uint64_t hidden,
                        std::vector<float>& table_gradient) {
  require_size(dy.size(), ids.size() * hidden, "embedding_backward");
  if (hidden == 0 || table_gradient.size() % hidden != 0) {
    throw std::invalid_argument("embedding_backward: the table gradient is not whole rows of hidden");
  }
  const uint64_t vocab = table_gradient.size() / hidden;
  for (std::size_t token = 0; token < ids.size(); ++token) {
    if (ids[token] >= vocab) throw std::invalid_argument("embedding_backward: a token id is past the table");
    float* row = table_gradient.data() + ids[token] * hidden;
    const float* gradient = dy.data() + token * hidden;
    for (uint64_t j = 0; j < hidden; ++j) row[j] += gradient[j];
  }
}

CrossEntropyOutputs<float> cross_entropy_rows(const std::vector<float>& logits, RowShape shape,
                                              const std::vector<uint64_t>& targets, arch::DType dtype) {
  require_floating_format(dtype, "cross_entropy_rows");
  require_size(logits.size(), shape.rows * shape.cols, "cross_entropy_rows");
  require_size(targets.size(), shape.rows, "cross_entropy_rows");
  CrossEntropyOutputs<float> out{std::vector<float>(logits.size()), std::vector<float>(shape.rows)};
  for (uint64_t row = 0; row < shape.rows; ++row) {
    if (targets[row] >= shape.cols) throw std::invalid_argument("cross_entropy_rows: a target is past the vocabulary");
    const float* in = logits.data() + row * shape.cols;
    float* p = out.softmax.data() + row * shape.cols;
    const float max = *std::max_element(in, in + shape.cols);
    float sum = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      p[j] = std::exp(in[j] - max);
      sum += p[j];
    }
    for (uint64_t j = 0; j < shape.cols; ++j) p[j] = round_to_format(p[j] / sum, dtype);
    out.loss[row] = std::log(sum) - (in[targets[row]] - max);
  }
  return out;
}

std::vector<float> cross_entropy_backward_rows(const std::vector<float>& softmax, RowShape shape,
                                               const std::vector<uint64_t>& targets, uint64_t tokens,
                                               arch::DType dtype) {
  require_floating_format(dtype, "cross_entropy_backward_rows");
  require_size(softmax.size(), shape.rows * shape.cols, "cross_entropy_backward_rows");
  require_size(targets.size(), shape.rows, "cross_entropy_backward_rows");
  if (tokens == 0) throw std::invalid_argument("cross_entropy_backward_rows: tokens must be positive");
  const float inverse_tokens = 1.0f / static_cast<float>(tokens);
  std::vector<float> d_logits(softmax.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    if (targets[row] >= shape.cols) {
      throw std::invalid_argument("cross_entropy_backward_rows: a target is past the vocabulary");
    }
    for (uint64_t j = 0; j < shape.cols; ++j) {
      const float p = softmax[row * shape.cols + j];
      d_logits[row * shape.cols + j] = (j == targets[row] ? p - 1.0f : p) * inverse_tokens;
    }
  }
  round_all(d_logits, dtype);
  return d_logits;
}

AdamWUpdate adamw_update(const AdamWState<float>& state, const std::vector<float>& gradient,
                         const AdamWHyperparameters& hyper, arch::DType dtype) {
  require_floating_format(dtype, "adamw_update");
  require_size(state.m.size(), state.weight.size(), "adamw_update");
  require_size(state.v.size(), state.weight.size(), "adamw_update");
  require_size(gradient.size(), state.weight.size(), "adamw_update");
  if (hyper.step == 0) throw std::invalid_argument("adamw_update: steps count from 1");
  const float one_minus_beta1 = 1.0f - hyper.beta1;
  const float one_minus_beta2 = 1.0f - hyper.beta2;
  const auto step = static_cast<float>(hyper.step);
  const float correction1 = 1.0f - std::pow(hyper.beta1, step);
  const float correction2 = 1.0f - std::pow(hyper.beta2, step);
  AdamWUpdate out{state, std::vector<float>(state.weight.size())};
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    const float g = gradient[i];
    float& w = out.state.weight[i];
    float& m = out.state.m[i];
    float& v = out.state.v[i];
    m = hyper.beta1 * m + one_minus_beta1 * g;
    v = hyper.beta2 * v + one_minus_beta2 * g * g;
    const float m_hat = m / correction1;
    const float v_hat = v / correction2;
    const float update = m_hat / (std::sqrt(v_hat) + hyper.eps);
    w = w - hyper.learning_rate * (update + hyper.weight_decay * w);
    out.compute_copy[i] = round_to_format(w, dtype);
  }
  return out;
}

UnscaledGradients<float> unscale_gradients(const std::vector<float>& scaled, float loss_scale) {
  const float inverse_scale = 1.0f / loss_scale;
  UnscaledGradients<float> out{std::vector<float>(scaled.size()), false};
  for (std::size_t i = 0; i < scaled.size(); ++i) {
    out.found_inf = out.found_inf || !std::isfinite(scaled[i]);
    out.gradient[i] = scaled[i] * inverse_scale;
  }
  return out;
}

float gradient_square_sum(const std::vector<float>& gradient) {
  float total = 0.0f;
  for (std::size_t first = 0; first < gradient.size(); first += kGradientNormBlock) {
    const std::size_t end = std::min<std::size_t>(gradient.size(), first + kGradientNormBlock);
    float partial = 0.0f;
    for (std::size_t i = first; i < end; ++i) partial += gradient[i] * gradient[i];
    total += partial;
  }
  return total;
}

Fp8Tensor quantize_fp8_e4m3(const std::vector<float>& x, arch::DType dtype) {
  require_floating_format(dtype, "quantize_fp8_e4m3");
  float amax = 0.0f;
  for (float value : x) amax = std::max(amax, std::fabs(value));
  // An amax below 448 / FLT_MAX would make the scale inf, and 0·inf NaN.
  const float scale = amax == 0.0f ? 1.0f : std::min(kFp8E4M3Max / amax, std::numeric_limits<float>::max());
  return {cast_fp8_e4m3(x, scale), amax, scale};
}

std::vector<uint8_t> cast_fp8_e4m3(const std::vector<float>& x, float scale) {
  std::vector<uint8_t> codes(x.size());
  std::transform(x.begin(), x.end(), codes.begin(), [&](float value) { return fp8_e4m3_bits(value * scale).bits; });
  return codes;
}

}  // namespace tessel::sim
