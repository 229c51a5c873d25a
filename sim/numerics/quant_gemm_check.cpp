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

double max_abs_error(const std::vector<double>& values, const std::vector<double>& reference) {
  double worst = 0;
  for (size_t i = 0; i < values.size(); ++i) worst = std::max(worst, std::fabs(values[i] - reference[i]));
  return worst;
}

// 10 log10(Σ ref² / Σ (value - ref)²), +infinity when exact.
double sqnr_db(const std::vector<double>& values, const std::vector<double>& reference) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    signal += reference[i] * reference[i];
    noise += (values[i] - reference[i]) * (values[i] - reference[i]);
  }
  return noise == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(signal / noise);
}

std::vector<float> transpose(const std::vector<float>& values, uint64_t rows, uint64_t cols) {
  std::vector<float> out(values.size());
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t c = 0; c < cols; ++c) out[c * rows + r] = values[r * cols + c];
  }
  return out;
}

// B (K × N) quantized along K for each output channel: its quantized rows, transposed back.
QuantizedMatrix quantize_weights(const std::vector<float>& b, const GemmShape& s, const workloads::StoredFormat& format) {
  QuantizedMatrix q = quantize_rows(transpose(b, s.k, s.n), s.n, s.k, format, scale_group(format, s.n, s.k));
  q.grid = transpose(q.grid, s.n, s.k);
  q.values = transpose(q.values, s.n, s.k);
  return q;
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

// B (K × N) with each output channel pruned by magnitude.
std::vector<float> pruned(const std::vector<float>& b, const GemmShape& s, const workloads::WeightSparsity& sparsity) {
  std::vector<float> out = b;
  const uint64_t group = sparsity.structured() ? sparsity.group : s.k;
  if (s.k % group != 0) throw std::invalid_argument("a pruned check: groups of " + std::to_string(group) +
                                                    " do not divide K = " + std::to_string(s.k));
  const uint64_t keep = sparsity.structured() ? sparsity.keep : sparsity.kept_elements(s.k);
  std::vector<uint64_t> order(group);
  for (uint64_t j = 0; j < s.n; ++j) {
    for (uint64_t start = 0; start < s.k; start += group) {
      for (uint64_t i = 0; i < group; ++i) order[i] = start + i;
      // The largest magnitudes first; ties to the lower index, so the pruning is deterministic.
      std::stable_sort(order.begin(), order.end(), [&](uint64_t x, uint64_t y) {
        return std::fabs(b[x * s.n + j]) > std::fabs(b[y * s.n + j]);
      });
      for (uint64_t i = keep; i < group; ++i) out[order[i] * s.n + j] = 0.0f;
    }
  }
  return out;
}

}  // namespace

RealOperands draw_llm_operands(const GemmShape& shape, uint64_t seed) {
  RealOperands real = draw_real_operands(shape, seed);
  for (uint64_t row = 0; row < shape.m; ++row) {
    for (uint64_t channel = 0; channel < shape.k; channel += kChannelsPerOutlier) {
      real.a[row * shape.k + channel] *= kOutlierScale;
    }
  }
  return real;
}

NumericsReport check_quantized_gemm(const QuantGemmRequest& request) {
  const GemmShape& s = request.shape;
  // Unquantized weights are stored in the compute format: one scale over a tensor on its grid.
  const workloads::StoredFormat weights =
      request.weights.value_or(workloads::StoredFormat{request.compute, workloads::ScaleGranularity::Tensor, 0, false});
  const RealOperands real = draw_llm_operands(s, request.seed);
  const std::vector<double> exact = exact_product(real, s);
  const std::vector<float> kept_b = request.sparsity ? pruned(real.b, s, *request.sparsity) : real.b;
  const bool integer = request.compute == DType::Int8;
  const bool eight_bit = integer || request.compute == DType::Fp8;
  if (eight_bit && weights.scales == workloads::ScaleGranularity::Group) {
    throw std::invalid_argument("a quantized check: scales per group need weights narrower than the " +
                                std::string(arch::to_string(request.compute)) + " datapath");
  }
  const bool quantized = request.weights.has_value();
  // Weights in the compute format (a float one) need no grid: they are rounded to it.
  const QuantizedMatrix b = quantized || eight_bit ? quantize_weights(kept_b, s, weights)
                                                   : QuantizedMatrix{kept_b, kept_b, {1.0f}, {}};

  NumericsReport report;
  std::vector<double> result(s.m * s.n);
  if (eight_bit) {
    // Activations with a scale per token (int8, SmoothQuant) or one per tensor (fp8).
    const workloads::StoredFormat activations{request.compute,
                                              integer ? workloads::ScaleGranularity::Token
                                                      : workloads::ScaleGranularity::Tensor,
                                              0, false};
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
  report.quantization_max_abs_error = max_abs_error(result, exact);
  report.format_sqnr_db = sqnr_db(widened(plain), exact);
  return report;
}

}  // namespace tessel::sim
