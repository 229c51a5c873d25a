#include "sim/numerics/backward_ops_reference.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops_reference.h"

namespace tessel::sim {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRows = Eigen::Map<const RowMatrix>;

ConstRows as_rows(const std::vector<double>& values, uint64_t rows, uint64_t cols, const char* op) {
  require_size(values.size(), rows * cols, op);
  return {values.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}

std::vector<double> to_vector(const RowMatrix& matrix) { return {matrix.data(), matrix.data() + matrix.size()}; }

std::vector<double> to_vector(const Eigen::ArrayXd& array) { return {array.data(), array.data() + array.size()}; }

Eigen::Map<const Eigen::ArrayXd> as_array(const std::vector<double>& values) {
  return {values.data(), static_cast<Eigen::Index>(values.size())};
}

// A norm's gradients from its normalised rows x̂ and 1/σ a row: with g = dy·gamma,
// dx = (g - centre·mean(g) - x̂ mean(g x̂)) / σ, d_gamma = Σ_rows dy x̂, d_beta = Σ_rows dy.
NormGradients<double> norm_backward(const RowMatrix& normalised, const Eigen::VectorXd& inverse_scale,
                                    const ConstRows& gradient, const std::vector<double>& gamma, bool centre) {
  const Eigen::Map<const Eigen::RowVectorXd> gain(gamma.data(), static_cast<Eigen::Index>(gamma.size()));
  const RowMatrix g = gradient.array().rowwise() * gain.array();
  const auto cols = static_cast<double>(normalised.cols());
  RowMatrix dx(normalised.rows(), normalised.cols());
  for (Eigen::Index row = 0; row < normalised.rows(); ++row) {
    const double mean_g = centre ? g.row(row).mean() : 0.0;
    const double mean_gx = g.row(row).dot(normalised.row(row)) / cols;
    dx.row(row) = (g.row(row).array() - mean_g - normalised.row(row).array() * mean_gx) * inverse_scale(row);
  }
  const Eigen::RowVectorXd d_gamma = (gradient.array() * normalised.array()).colwise().sum();
  NormGradients<double> out{to_vector(dx), {d_gamma.data(), d_gamma.data() + d_gamma.size()}, {}};
  if (centre) {
    const Eigen::RowVectorXd d_beta = gradient.colwise().sum();
    out.d_beta.assign(d_beta.data(), d_beta.data() + d_beta.size());
  }
  return out;
}

double silu_sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

std::vector<double> softmax_backward_rows_reference(const std::vector<double>& y, const std::vector<double>& dy,
                                                    RowShape shape) {
  const ConstRows p = as_rows(y, shape.rows, shape.cols, "softmax_backward_rows_reference");
  const ConstRows g = as_rows(dy, shape.rows, shape.cols, "softmax_backward_rows_reference");
  const Eigen::VectorXd dots = (p.array() * g.array()).rowwise().sum();
  const RowMatrix dx = p.array() * (g.colwise() - dots).array();
  return to_vector(dx);
}

NormGradients<double> layer_norm_backward_rows_reference(const std::vector<double>& x, const std::vector<double>& dy,
                                                         RowShape shape, const std::vector<double>& gamma, double eps) {
  const ConstRows input = as_rows(x, shape.rows, shape.cols, "layer_norm_backward_rows_reference");
  const ConstRows gradient = as_rows(dy, shape.rows, shape.cols, "layer_norm_backward_rows_reference");
  require_size(gamma.size(), shape.cols, "layer_norm_backward_rows_reference");
  const RowMatrix centred = input.colwise() - input.rowwise().mean();
  const Eigen::VectorXd inverse_std =
      (centred.rowwise().squaredNorm() / static_cast<double>(shape.cols)).array().unaryExpr([&](double variance) {
        return 1 / std::sqrt(variance + eps);
      });
  const RowMatrix normalised = centred.array().colwise() * inverse_std.array();
  return norm_backward(normalised, inverse_std, gradient, gamma, true);
}

NormGradients<double> rms_norm_backward_rows_reference(const std::vector<double>& x, const std::vector<double>& dy,
                                                       RowShape shape, const std::vector<double>& gamma, double eps) {
  const ConstRows input = as_rows(x, shape.rows, shape.cols, "rms_norm_backward_rows_reference");
  const ConstRows gradient = as_rows(dy, shape.rows, shape.cols, "rms_norm_backward_rows_reference");
  require_size(gamma.size(), shape.cols, "rms_norm_backward_rows_reference");
  const Eigen::VectorXd inverse_rms =
      (input.rowwise().squaredNorm() / static_cast<double>(shape.cols)).array().unaryExpr([&](double mean_square) {
        return 1 / std::sqrt(mean_square + eps);
      });
  const RowMatrix normalised = input.array().colwise() * inverse_rms.array();
  return norm_backward(normalised, inverse_rms, gradient, gamma, false);
}

std::vector<double> gelu_tanh_backward_reference(const std::vector<double>& x, const std::vector<double>& dy) {
  require_size(dy.size(), x.size(), "gelu_tanh_backward_reference");
  const double sqrt_2_over_pi = std::sqrt(2 / std::acos(-1.0));
  const Eigen::ArrayXd value = as_array(x);
  const Eigen::ArrayXd t = (sqrt_2_over_pi * (value + 0.044715 * value.cube())).tanh();
  const Eigen::ArrayXd slope =
      0.5 * (1 + t) + 0.5 * value * (1 - t.square()) * sqrt_2_over_pi * (1 + 3 * 0.044715 * value.square());
  return to_vector(Eigen::ArrayXd(slope * as_array(dy)));
}

std::vector<double> relu_backward_reference(const std::vector<double>& x, const std::vector<double>& dy) {
  require_size(dy.size(), x.size(), "relu_backward_reference");
  return to_vector(Eigen::ArrayXd((as_array(x) > 0).select(as_array(dy), 0.0)));
}

std::vector<double> dropout_reference(const std::vector<double>& x, const std::vector<uint8_t>& keep,
                                      double probability) {
  require_size(keep.size(), x.size(), "dropout_reference");
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = keep[i] != 0 ? x[i] / (1.0 - probability) : 0.0;
  return y;
}

GatedGradients<double> silu_and_multiply_backward_reference(const std::vector<double>& gate,
                                                              const std::vector<double>& up,
                                                              const std::vector<double>& dy) {
  require_size(up.size(), gate.size(), "silu_and_multiply_backward_reference");
  require_size(dy.size(), gate.size(), "silu_and_multiply_backward_reference");
  const Eigen::ArrayXd g = as_array(gate);
  const Eigen::ArrayXd s = g.unaryExpr(&silu_sigmoid);
  // silu'(g) = s + g s (1 - s).
  return {to_vector(Eigen::ArrayXd(as_array(dy) * as_array(up) * (s + g * s * (1 - s)))),
          to_vector(Eigen::ArrayXd(as_array(dy) * g * s))};
}

GatedGradients<double> gelu_and_multiply_backward_reference(const std::vector<double>& gate,
                                                           const std::vector<double>& up,
                                                           const std::vector<double>& dy) {
  require_size(up.size(), gate.size(), "gelu_and_multiply_backward_reference");
  require_size(dy.size(), gate.size(), "gelu_and_multiply_backward_reference");
  const double sqrt_2_over_pi = std::sqrt(2 / std::acos(-1.0));
  const Eigen::ArrayXd g = as_array(gate);
  const Eigen::ArrayXd t = (sqrt_2_over_pi * (g + 0.044715 * g.cube())).tanh();
  const Eigen::ArrayXd slope =
      0.5 * (1 + t) + 0.5 * g * (1 - t.square()) * sqrt_2_over_pi * (1 + 3 * 0.044715 * g.square());
  return {to_vector(Eigen::ArrayXd(as_array(dy) * as_array(up) * slope)),
          to_vector(Eigen::ArrayXd(as_array(dy) * 0.5 * g * (1 + t)))};
}

std::vector<double> softcap_backward_reference(const std::vector<double>& y, const std::vector<double>& dy,
                                               double cap) {
  require_size(dy.size(), y.size(), "softcap_backward_reference");
  if (!(cap > 0)) throw std::invalid_argument("softcap_backward_reference: the cap must be positive");
  return to_vector(Eigen::ArrayXd(as_array(dy) * (1 - (as_array(y) / cap).square())));
}

std::vector<double> rope_half_split_backward_reference(const std::vector<double>& dy, RowShape shape,
                                                       const RopeLayout& layout) {
  // The transpose of the rotation is the rotation by the opposite angles, which is the rotation
  // conjugated by negating each head's second half.
  if (layout.head_dim == 0 || layout.head_dim % 2 != 0 || shape.cols % layout.head_dim != 0) {
    throw std::invalid_argument("rope_half_split_backward_reference: head_dim must be even and divide the row");
  }
  const auto negate_second_halves = [&](std::vector<double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if ((i % shape.cols) % layout.head_dim >= layout.head_dim / 2) values[i] = -values[i];
    }
    return values;
  };
  return negate_second_halves(rope_half_split_reference(negate_second_halves(dy), shape, layout));
}

std::vector<double> embedding_backward_reference(const std::vector<uint64_t>& ids, const std::vector<double>& dy,
                                                 uint64_t hidden, std::vector<double> table_gradient) {
  require_size(dy.size(), ids.size() * hidden, "embedding_backward_reference");
  if (hidden == 0 || table_gradient.size() % hidden != 0) {
    throw std::invalid_argument("embedding_backward_reference: the table gradient is not whole rows of hidden");
  }
  for (std::size_t token = 0; token < ids.size(); ++token) {
    if (ids[token] >= table_gradient.size() / hidden) {
      throw std::invalid_argument("embedding_backward_reference: a token id is past the table");
    }
    for (uint64_t j = 0; j < hidden; ++j) table_gradient[ids[token] * hidden + j] += dy[token * hidden + j];
  }
  return table_gradient;
}

CrossEntropyOutputs<double> cross_entropy_rows_reference(const std::vector<double>& logits, RowShape shape,
                                                         const std::vector<uint64_t>& targets) {
  const ConstRows x = as_rows(logits, shape.rows, shape.cols, "cross_entropy_rows_reference");
  require_size(targets.size(), shape.rows, "cross_entropy_rows_reference");
  CrossEntropyOutputs<double> out{softmax_rows_reference(logits, shape, SoftmaxMask::None),
                                  std::vector<double>(shape.rows)};
  for (Eigen::Index row = 0; row < x.rows(); ++row) {
    const auto target = static_cast<Eigen::Index>(targets[static_cast<std::size_t>(row)]);
    if (target >= x.cols())
      throw std::invalid_argument("cross_entropy_rows_reference: a target is past the vocabulary");
    const double max = x.row(row).maxCoeff();
    const double log_sum = std::log((x.row(row).array() - max).exp().sum()) + max;
    out.loss[static_cast<std::size_t>(row)] = log_sum - x(row, target);
  }
  return out;
}

std::vector<double> cross_entropy_backward_rows_reference(const std::vector<double>& softmax, RowShape shape,
                                                          const std::vector<uint64_t>& targets, uint64_t tokens) {
  require_size(softmax.size(), shape.rows * shape.cols, "cross_entropy_backward_rows_reference");
  require_size(targets.size(), shape.rows, "cross_entropy_backward_rows_reference");
  if (tokens == 0) throw std::invalid_argument("cross_entropy_backward_rows_reference: tokens must be positive");
  std::vector<double> d_logits = softmax;
  for (uint64_t row = 0; row < shape.rows; ++row) {
    if (targets[row] >= shape.cols) {
      throw std::invalid_argument("cross_entropy_backward_rows_reference: a target is past the vocabulary");
    }
    d_logits[row * shape.cols + targets[row]] -= 1;
  }
  for (double& value : d_logits) value /= static_cast<double>(tokens);
  return d_logits;
}

AdamWState<double> adamw_update_reference(const AdamWState<double>& state, const std::vector<double>& gradient,
                                          const AdamWHyperparameters& hyper) {
  require_size(state.m.size(), state.weight.size(), "adamw_update_reference");
  require_size(state.v.size(), state.weight.size(), "adamw_update_reference");
  require_size(gradient.size(), state.weight.size(), "adamw_update_reference");
  if (hyper.step == 0) throw std::invalid_argument("adamw_update_reference: steps count from 1");
  const double beta1 = hyper.beta1, beta2 = hyper.beta2;
  const auto step = static_cast<double>(hyper.step);
  const Eigen::ArrayXd g = as_array(gradient);
  const Eigen::ArrayXd m = beta1 * as_array(state.m) + (1 - beta1) * g;
  const Eigen::ArrayXd v = beta2 * as_array(state.v) + (1 - beta2) * g.square();
  const Eigen::ArrayXd m_hat = m / (1 - std::pow(beta1, step));
  const Eigen::ArrayXd v_hat = v / (1 - std::pow(beta2, step));
  const Eigen::ArrayXd w = as_array(state.weight);
  const Eigen::ArrayXd updated =
      w - double{hyper.learning_rate} * (m_hat / (v_hat.sqrt() + double{hyper.eps}) + double{hyper.weight_decay} * w);
  return {to_vector(updated), to_vector(m), to_vector(v)};
}

UnscaledGradients<double> unscale_gradients_reference(const std::vector<double>& scaled, double loss_scale) {
  const Eigen::ArrayXd values = as_array(scaled);
  return {to_vector(Eigen::ArrayXd(values / loss_scale)), !values.isFinite().all()};
}

double gradient_square_sum_reference(const std::vector<double>& gradient) {
  double total = 0;
  for (std::size_t first = 0; first < gradient.size(); first += kGradientNormBlock) {
    const auto count = static_cast<Eigen::Index>(std::min<std::size_t>(kGradientNormBlock, gradient.size() - first));
    total += as_array(gradient).segment(static_cast<Eigen::Index>(first), count).square().sum();
  }
  return total;
}

Fp8Scaling fp8_scaling_reference(const std::vector<double>& x) {
  const double amax = x.empty() ? 0.0 : as_array(x).abs().maxCoeff();
  const double largest = std::numeric_limits<float>::max();
  return {amax, amax == 0 ? 1.0 : std::min(double{kFp8E4M3Max} / amax, largest)};
}

AttentionGradients<double> attention_backward_reference(const std::vector<double>& q, const std::vector<double>& k,
                                                        const std::vector<double>& v, const std::vector<double>& d_out,
                                                        const AttentionShape& shape) {
  require_attention_operands(q.size(), k.size(), v.size(), shape);
  require_size(d_out.size(), q.size(), "attention_backward_reference dO");
  const auto q_len = static_cast<Eigen::Index>(shape.q_len);
  const auto kv_len = static_cast<Eigen::Index>(shape.kv_len);
  const auto d = static_cast<Eigen::Index>(shape.head_dim);
  const auto q_heads = static_cast<Eigen::Index>(shape.q_heads);
  const auto kv_heads = static_cast<Eigen::Index>(shape.kv_heads);
  const ConstRows queries(q.data(), q_len, q_heads * d);
  const ConstRows keys(k.data(), kv_len, kv_heads * d);
  const ConstRows values(v.data(), kv_len, kv_heads * d);
  const ConstRows out_gradient(d_out.data(), q_len, q_heads * d);
  const double scale = 1 / std::sqrt(static_cast<double>(shape.head_dim));
  RowMatrix dq(q_len, q_heads * d);
  RowMatrix dk = RowMatrix::Zero(kv_len, kv_heads * d);
  RowMatrix dv = RowMatrix::Zero(kv_len, kv_heads * d);
  for (Eigen::Index head = 0; head < q_heads; ++head) {
    const Eigen::Index kv_head = head / (q_heads / kv_heads);
    const RowMatrix scores = queries.middleCols(head * d, d) * keys.middleCols(kv_head * d, d).transpose() * scale;
    std::vector<double> capped = capped_scores_reference(to_vector(scores), shape);
    mask_invisible(capped, shape);
    const std::vector<double> probabilities =
        softmax_rows_reference(capped, {shape.q_len, shape.kv_len}, SoftmaxMask::None);
    const ConstRows p(probabilities.data(), q_len, kv_len);
    const RowMatrix dp = out_gradient.middleCols(head * d, d) * values.middleCols(kv_head * d, d).transpose();
    const Eigen::VectorXd delta = (dp.array() * p.array()).rowwise().sum();
    RowMatrix ds = p.array() * (dp.colwise() - delta).array();
    // Through the cap: d(c·tanh(s/c))/ds = 1 - tanh²(s/c).
    if (shape.softcap > 0) ds.array() *= 1 - (scores.array() / double{shape.softcap}).tanh().square();
    dv.middleCols(kv_head * d, d) += p.transpose() * out_gradient.middleCols(head * d, d);
    dq.middleCols(head * d, d) = ds * keys.middleCols(kv_head * d, d) * scale;
    dk.middleCols(kv_head * d, d) += ds.transpose() * queries.middleCols(head * d, d) * scale;
  }
  return {to_vector(dq), to_vector(dk), to_vector(dv)};
}

}  // namespace tessel::sim
