#include "sim/numerics/quant_gemm_check.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_datapath.h"
#include "sim/numerics/quantize.h"

namespace tessel::sim {

namespace {

using arch::DType;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr float kOutlierScale = 20.0f;
constexpr uint64_t kChannelsPerOutlier = 64;

std::vector<double> exact_product(const RealOperands& real, const GemmShape& s) {
  const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> a(
      real.a.data(), static_cast<Eigen::Index>(s.m), static_cast<Eigen::Index>(s.k));
  const Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> b(
      real.b.data(), static_cast<Eigen::Index>(s.k), static_cast<Eigen::Index>(s.n));
  RowMatrix c(s.m, s.n);
  c.noalias() = a.cast<double>() * b.cast<double>();
  return {c.data(), c.data() + c.size()};
}

std::vector<float> rounded(const std::vector<float>& values, DType format) {
  std::vector<float> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = round_to_format(values[i], format);
  return out;
}

std::vector<double> widened(const std::vector<float>& values) { return {values.begin(), values.end()}; }

// The scale of B's output channel j when one scale covers each channel or the whole tensor.
float channel_scale(const QuantizedMatrix& b, const workloads::StoredFormat& format, uint64_t j) {
  return format.scales == workloads::ScaleGranularity::Tensor ? b.scales.front() : b.scales[j];
}

}  // namespace

void scale_outlier_channels(std::vector<float>& values, uint64_t rows, uint64_t cols) {
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t channel = 0; channel < cols; channel += kChannelsPerOutlier) {
      values[row * cols + channel] *= kOutlierScale;
    }
  }
}

RealOperands draw_llm_operands(const GemmShape& shape, uint64_t seed) {
  RealOperands real = draw_real_operands(shape, seed);
  scale_outlier_channels(real.a, shape.m, shape.k);
  return real;
}

NumericsReport check_quantized_gemm(const QuantGemmRequest& request) {
  const GemmShape& s = request.shape;
  // Unquantized weights are stored in the compute format: one scale over a tensor on its grid.
  const workloads::StoredFormat weights =
      request.weights.value_or(workloads::StoredFormat{request.compute, workloads::ScaleGranularity::Tensor, 0, false});
  const RealOperands real = draw_llm_operands(s, request.seed);
  const std::vector<double> exact = exact_product(real, s);
  const std::vector<float> kept_b = request.sparsity ? magnitude_pruned(real.b, s.k, s.n, *request.sparsity) : real.b;
  // int4 codes (-7 to 7) run on the int8 datapath's integer MACs, bit for bit the same sums.
  const bool integer = request.compute == DType::Int8 || request.compute == DType::Int4;
  const bool narrow = integer || request.compute == DType::Fp8;
  if (narrow && weights.scales == workloads::ScaleGranularity::Group) {
    throw std::invalid_argument("a quantized check: scales per group need weights narrower than the " +
                                std::string(arch::to_string(request.compute)) + " datapath");
  }
  const bool quantized = request.weights.has_value();
  // Weights in the compute format (a float one) need no grid: they are rounded to it.
  const QuantizedMatrix b = quantized || narrow ? quantize_weight(kept_b, s.k, s.n, weights)
                                                   : QuantizedMatrix{kept_b, kept_b, {1.0f}, {}};

  NumericsReport report;
  std::vector<double> result(s.m * s.n);
  if (narrow) {
    const workloads::StoredFormat activations = activation_grid(request.compute);
    const QuantizedMatrix a = quantize_rows(real.a, s.m, s.k, activations, scale_group(activations, s.m, s.k));
    const auto a_scale = [&](uint64_t i) { return integer ? a.scales[i] : a.scales.front(); };
    if (integer) {
      const std::vector<int8_t> a_codes(a.grid.begin(), a.grid.end());
      const std::vector<int8_t> b_codes(b.grid.begin(), b.grid.end());
      const std::vector<int32_t> sums = datapath_gemm_int8(a_codes, b_codes, s);
      report = compare_int8_with_eigen(a_codes, b_codes, s, sums);
      for (uint64_t i = 0; i < s.m; ++i) {
        for (uint64_t j = 0; j < s.n; ++j) {
          result[i * s.n + j] = sums[i * s.n + j] * static_cast<double>(a_scale(i)) * channel_scale(b, weights, j);
        }
      }
    } else {
      const std::vector<float> sums = datapath_gemm_float(a.grid, b.grid, s, request.k_tile);
      report = compare_float_with_eigen(a.grid, b.grid, s, sums, DType::Fp8);
      for (uint64_t i = 0; i < s.m; ++i) {
        for (uint64_t j = 0; j < s.n; ++j) {
          result[i * s.n + j] = sums[i * s.n + j] * static_cast<double>(a_scale(i)) * channel_scale(b, weights, j);
        }
      }
    }
  } else {
    // Weight-only: the kernel unpacks B into the compute format, A is already in it.
    const std::vector<float> a = rounded(real.a, request.compute);
    const std::vector<float> b_unpacked = rounded(b.values, request.compute);
    const std::vector<float> sums = datapath_gemm_float(a, b_unpacked, s, request.k_tile);
    report = compare_float_with_eigen(a, b_unpacked, s, sums, request.compute);
    result = widened(sums);
  }
  const std::vector<float> plain = datapath_gemm_float(rounded(real.a, request.unquantized),
                                                       rounded(real.b, request.unquantized), s, request.k_tile);
  report.dtype = std::string(arch::to_string(request.compute)) +
                 (quantized ? " with weights " + weights.text() : std::string()) +
                 (request.sparsity ? " pruned " + request.sparsity->text() : std::string());
  report.reference += "; the scheme against Eigen's fp64 product of the unquantized operands (activations with "
                      "outlier channels)";
  report.quantization_sqnr_db = sqnr_db(result, exact);
  report.quantization_max_abs_error = max_abs_difference(result, exact);
  report.format_sqnr_db = sqnr_db(widened(plain), exact);
  return report;
}

}  // namespace tessel::sim
