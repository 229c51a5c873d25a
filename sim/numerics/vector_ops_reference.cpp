#include "sim/numerics/vector_ops_reference.h"

#include <Eigen/Core>
#include <cmath>
#include <stdexcept>

#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRows = Eigen::Map<const RowMatrix>;

ConstRows as_rows(const std::vector<double>& values, RowShape shape, const char* op) {
  require_size(values.size(), shape.rows * shape.cols, op);
  return {values.data(), static_cast<Eigen::Index>(shape.rows),
          static_cast<Eigen::Index>(shape.cols)};
}

Eigen::Map<const Eigen::RowVectorXd> as_row(const std::vector<double>& values, RowShape shape,
                                            const char* op) {
  require_size(values.size(), shape.cols, op);
  return {values.data(), static_cast<Eigen::Index>(shape.cols)};
}

std::vector<double> matrix_to_vector(const RowMatrix& matrix) {
  return {matrix.data(), matrix.data() + matrix.size()};
}

Eigen::Map<const Eigen::ArrayXd> as_array(const std::vector<double>& values) {
  return {values.data(), static_cast<Eigen::Index>(values.size())};
}

std::vector<double> array_to_vector(const Eigen::ArrayXd& array) {
  return {array.data(), array.data() + array.size()};
}

double silu_exact(double x) { return x / (1 + std::exp(-x)); }

}  // namespace

std::vector<double> softmax_rows_reference(const std::vector<double>& x, RowShape shape,
                                           SoftmaxMask mask) {
  const ConstRows input = as_rows(x, shape, "softmax_rows_reference");
  RowMatrix output = RowMatrix::Zero(input.rows(), input.cols());
  for (uint64_t row = 0; row < shape.rows; ++row) {
    const auto visible = static_cast<Eigen::Index>(visible_columns(shape, mask, row));
    if (visible == 0) continue;
    const auto index = static_cast<Eigen::Index>(row);
    const Eigen::ArrayXd scores = input.row(index).head(visible).transpose().array();
    const Eigen::ArrayXd weights =
        (scores - scores.maxCoeff()).unaryExpr([](double value) { return std::exp(value); });
    output.row(index).head(visible) = (weights / weights.sum()).transpose().matrix();
  }
  return matrix_to_vector(output);
}

std::vector<double> layer_norm_rows_reference(const std::vector<double>& x, RowShape shape,
                                              const std::vector<double>& gamma,
                                              const std::vector<double>& beta, double eps) {
  const ConstRows input = as_rows(x, shape, "layer_norm_rows_reference");
  const auto scale = as_row(gamma, shape, "layer_norm_rows_reference").array();
  const auto shift = as_row(beta, shape, "layer_norm_rows_reference").array();
  RowMatrix output(input.rows(), input.cols());
  for (Eigen::Index row = 0; row < input.rows(); ++row) {
    const Eigen::RowVectorXd centred = input.row(row).array() - input.row(row).mean();
    const double variance = centred.squaredNorm() / static_cast<double>(shape.cols);
    output.row(row) = (centred.array() / std::sqrt(variance + eps) * scale + shift).matrix();
  }
  return matrix_to_vector(output);
}

std::vector<double> rms_norm_rows_reference(const std::vector<double>& x, RowShape shape,
                                            const std::vector<double>& gamma, double eps) {
  const ConstRows input = as_rows(x, shape, "rms_norm_rows_reference");
  const auto scale = as_row(gamma, shape, "rms_norm_rows_reference").array();
  RowMatrix output(input.rows(), input.cols());
  for (Eigen::Index row = 0; row < input.rows(); ++row) {
    const double mean_square = input.row(row).squaredNorm() / static_cast<double>(shape.cols);
    output.row(row) = (input.row(row).array() / std::sqrt(mean_square + eps) * scale).matrix();
  }
  return matrix_to_vector(output);
}

std::vector<double> gelu_reference(const std::vector<double>& x, GeluForm form) {
  if (form == GeluForm::Erf) {
    return array_to_vector(as_array(x).unaryExpr(
        [](double value) { return 0.5 * value * (1 + std::erf(value / std::sqrt(2.0))); }));
  }
  const double sqrt_2_over_pi = std::sqrt(2 / std::acos(-1.0));
  return array_to_vector(as_array(x).unaryExpr([&](double value) {
    return 0.5 * value * (1 + std::tanh(sqrt_2_over_pi * (value + 0.044715 * std::pow(value, 3))));
  }));
}

std::vector<double> silu_reference(const std::vector<double>& x) {
  return array_to_vector(as_array(x).unaryExpr(&silu_exact));
}

std::vector<double> silu_and_multiply_reference(const std::vector<double>& gate,
                                                const std::vector<double>& up) {
  require_size(up.size(), gate.size(), "silu_and_multiply_reference");
  return array_to_vector(as_array(gate).unaryExpr(&silu_exact) * as_array(up));
}

std::vector<double> gelu_and_multiply_reference(const std::vector<double>& gate, const std::vector<double>& up) {
  require_size(up.size(), gate.size(), "gelu_and_multiply_reference");
  return array_to_vector(as_array(gelu_reference(gate, GeluForm::Tanh)) * as_array(up));
}

std::vector<double> softcap_reference(const std::vector<double>& x, double cap) {
  if (!(cap > 0)) throw std::invalid_argument("softcap_reference: the cap must be positive");
  return array_to_vector(as_array(x).unaryExpr([cap](double value) { return cap * std::tanh(value / cap); }));
}

std::vector<double> rope_half_split_reference(const std::vector<double>& x, RowShape shape,
                                              const RopeLayout& layout) {
  if (layout.head_dim == 0 || layout.head_dim % 2 != 0 || shape.cols % layout.head_dim != 0) {
    throw std::invalid_argument(
        "rope_half_split_reference: head_dim must be even and divide the row");
  }
  const ConstRows input = as_rows(x, shape, "rope_half_split_reference");
  const auto half = static_cast<Eigen::Index>(layout.head_dim / 2);
  const Eigen::ArrayXd exponents =
      Eigen::ArrayXd::LinSpaced(half, 0, static_cast<double>(half - 1)) * 2 /
      static_cast<double>(layout.head_dim);
  const Eigen::ArrayXd inverse_frequency = exponents.unaryExpr(
      [&](double exponent) { return std::pow(static_cast<double>(layout.base), -exponent); });
  RowMatrix output(input.rows(), input.cols());
  for (Eigen::Index row = 0; row < input.rows(); ++row) {
    const Eigen::ArrayXd angle =
        static_cast<double>(layout.position_offset + static_cast<uint64_t>(row)) *
        inverse_frequency;
    const Eigen::ArrayXd cosine = angle.unaryExpr([](double value) { return std::cos(value); });
    const Eigen::ArrayXd sine = angle.unaryExpr([](double value) { return std::sin(value); });
    for (Eigen::Index head = 0; head < input.cols(); head += 2 * half) {
      const Eigen::ArrayXd first = input.row(row).segment(head, half).transpose().array();
      const Eigen::ArrayXd second = input.row(row).segment(head + half, half).transpose().array();
      output.row(row).segment(head, half) = (first * cosine - second * sine).transpose().matrix();
      output.row(row).segment(head + half, half) =
          (second * cosine + first * sine).transpose().matrix();
    }
  }
  return matrix_to_vector(output);
}

std::vector<double> residual_add_reference(const std::vector<double>& a,
                                           const std::vector<double>& b) {
  require_size(b.size(), a.size(), "residual_add_reference");
  return array_to_vector(as_array(a) + as_array(b));
}

}  // namespace tessel::sim
