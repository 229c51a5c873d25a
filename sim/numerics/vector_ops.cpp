#include "sim/numerics/vector_ops.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

// Applies `row_op(in, out, row)` to every row; `row_op` writes the row's fp32 results.
template <typename RowOp>
std::vector<float> map_rows(const std::vector<float>& x, RowShape shape, arch::DType dtype,
                            const char* op, RowOp row_op) {
  require_floating_format(dtype, op);
  require_size(x.size(), shape.rows * shape.cols, op);
  std::vector<float> y(x.size());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    row_op(x.data() + row * shape.cols, y.data() + row * shape.cols, row);
  }
  for (float& value : y) value = round_to_format(value, dtype);
  return y;
}

template <typename ElementOp>
std::vector<float> map_elements(const std::vector<float>& x, arch::DType dtype, const char* op,
                                ElementOp element_op) {
  require_floating_format(dtype, op);
  std::vector<float> y(x.size());
  std::transform(x.begin(), x.end(), y.begin(),
                 [&](float value) { return round_to_format(element_op(value), dtype); });
  return y;
}

template <typename ElementOp>
std::vector<float> zip_elements(const std::vector<float>& a, const std::vector<float>& b,
                                arch::DType dtype, const char* op, ElementOp element_op) {
  require_floating_format(dtype, op);
  require_size(b.size(), a.size(), op);
  std::vector<float> y(a.size());
  std::transform(a.begin(), a.end(), b.begin(), y.begin(), [&](float left, float right) {
    return round_to_format(element_op(left, right), dtype);
  });
  return y;
}

float silu_fp32(float x) { return x / (1.0f + std::exp(-x)); }

constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kCubicCoefficient = 0.044715f;

float gelu_tanh_fp32(float x) {
  const float inner = x + kCubicCoefficient * x * x * x;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * inner));
}

}  // namespace

uint64_t visible_columns(RowShape shape, SoftmaxMask mask, uint64_t row) {
  if (mask == SoftmaxMask::None) return shape.cols;
  if (shape.rows > shape.cols) {
    throw std::invalid_argument("causal softmax: more rows than columns leaves rows fully masked");
  }
  return shape.cols - shape.rows + row + 1;
}

std::vector<float> softmax_rows(const std::vector<float>& x, RowShape shape, SoftmaxMask mask,
                                arch::DType dtype) {
  return map_rows(x, shape, dtype, "softmax_rows", [&](const float* in, float* out, uint64_t row) {
    const uint64_t visible = visible_columns(shape, mask, row);
    if (visible == 0) return;
    const float max = *std::max_element(in, in + visible);
    float sum = 0.0f;
    for (uint64_t j = 0; j < visible; ++j) {
      out[j] = std::exp(in[j] - max);
      sum += out[j];
    }
    for (uint64_t j = 0; j < visible; ++j) out[j] /= sum;
    std::fill(out + visible, out + shape.cols, 0.0f);
  });
}

std::vector<float> layer_norm_rows(const std::vector<float>& x, RowShape shape,
                                   const std::vector<float>& gamma, const std::vector<float>& beta,
                                   float eps, arch::DType dtype) {
  require_size(gamma.size(), shape.cols, "layer_norm_rows");
  require_size(beta.size(), shape.cols, "layer_norm_rows");
  const auto count = static_cast<float>(shape.cols);
  return map_rows(x, shape, dtype, "layer_norm_rows", [&](const float* in, float* out, uint64_t) {
    float sum = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) sum += in[j];
    const float mean = sum / count;
    float squares = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) {
      out[j] = in[j] - mean;
      squares += out[j] * out[j];
    }
    const float inverse_std = 1.0f / std::sqrt(squares / count + eps);
    for (uint64_t j = 0; j < shape.cols; ++j) out[j] = out[j] * inverse_std * gamma[j] + beta[j];
  });
}

std::vector<float> rms_norm_rows(const std::vector<float>& x, RowShape shape,
                                 const std::vector<float>& gamma, float eps, arch::DType dtype) {
  require_size(gamma.size(), shape.cols, "rms_norm_rows");
  const auto count = static_cast<float>(shape.cols);
  return map_rows(x, shape, dtype, "rms_norm_rows", [&](const float* in, float* out, uint64_t) {
    float squares = 0.0f;
    for (uint64_t j = 0; j < shape.cols; ++j) squares += in[j] * in[j];
    const float inverse_rms = 1.0f / std::sqrt(squares / count + eps);
    for (uint64_t j = 0; j < shape.cols; ++j) out[j] = in[j] * inverse_rms * gamma[j];
  });
}

std::vector<float> gelu(const std::vector<float>& x, GeluForm form, arch::DType dtype) {
  constexpr float kInverseSqrt2 = 0.70710678118654752f;
  if (form == GeluForm::Erf) {
    return map_elements(x, dtype, "gelu", [](float value) {
      return 0.5f * value * (1.0f + std::erf(value * kInverseSqrt2));
    });
  }
  return map_elements(x, dtype, "gelu", gelu_tanh_fp32);
}

std::vector<float> silu(const std::vector<float>& x, arch::DType dtype) {
  return map_elements(x, dtype, "silu", silu_fp32);
}

std::vector<float> silu_and_multiply(const std::vector<float>& gate, const std::vector<float>& up,
                                     arch::DType dtype) {
  return zip_elements(gate, up, dtype, "silu_and_multiply",
                      [](float g, float u) { return silu_fp32(g) * u; });
}

std::vector<float> gelu_and_multiply(const std::vector<float>& gate, const std::vector<float>& up,
                                     arch::DType dtype) {
  return zip_elements(gate, up, dtype, "gelu_and_multiply", [](float g, float u) { return gelu_tanh_fp32(g) * u; });
}

std::vector<float> softcap(const std::vector<float>& x, float cap, arch::DType dtype) {
  if (!(cap > 0.0f)) throw std::invalid_argument("softcap: the cap must be positive");
  const float inverse = 1.0f / cap;
  return map_elements(x, dtype, "softcap", [&](float value) { return cap * std::tanh(value * inverse); });
}

std::vector<float> rope_half_split(const std::vector<float>& x, RowShape shape,
                                   const RopeLayout& layout, arch::DType dtype) {
  if (layout.head_dim == 0 || layout.head_dim % 2 != 0 || shape.cols % layout.head_dim != 0) {
    throw std::invalid_argument("rope_half_split: head_dim must be even and divide the row");
  }
  const uint64_t half = layout.head_dim / 2;
  const auto head_dim = static_cast<float>(layout.head_dim);
  std::vector<float> inverse_frequency(half);
  for (uint64_t i = 0; i < half; ++i) {
    inverse_frequency[i] = 1.0f / std::pow(layout.base, static_cast<float>(2 * i) / head_dim);
  }
  return map_rows(x, shape, dtype, "rope_half_split",
                  [&](const float* in, float* out, uint64_t row) {
                    const auto position = static_cast<float>(layout.position_offset + row);
                    for (uint64_t i = 0; i < half; ++i) {
                      const float angle = position * inverse_frequency[i];
                      const float cosine = std::cos(angle);
                      const float sine = std::sin(angle);
                      for (uint64_t head = 0; head < shape.cols; head += layout.head_dim) {
                        const float first = in[head + i];
                        const float second = in[head + i + half];
                        out[head + i] = first * cosine - second * sine;
                        out[head + i + half] = second * cosine + first * sine;
                      }
                    }
                  });
}

std::vector<float> residual_add(const std::vector<float>& a, const std::vector<float>& b,
                                arch::DType dtype) {
  return zip_elements(a, b, dtype, "residual_add",
                      [](float left, float right) { return left + right; });
}

}  // namespace tessel::sim
