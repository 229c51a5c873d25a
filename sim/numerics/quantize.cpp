#include "sim/numerics/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_datapath.h"

namespace tessel::sim {

namespace {

using arch::DType;

// One group's values quantized in place into `out` at `offset`.
void quantize_group(const float* values, uint64_t count, const workloads::StoredFormat& format, QuantizedMatrix& out,
                    uint64_t offset) {
  float low = 0, high = 0, amax = 0;
  for (uint64_t i = 0; i < count; ++i) {
    low = std::min(low, values[i]);
    high = std::max(high, values[i]);
    amax = std::max(amax, std::fabs(values[i]));
  }
  if (format.format == DType::Fp8) {
    const float scale = amax > 0 ? amax / kFp8E4M3Max : 1.0f;
    out.scales.push_back(scale);
    for (uint64_t i = 0; i < count; ++i) {
      out.grid[offset + i] = fp8_e4m3_value(fp8_e4m3_bits(values[i] / scale).bits);
      out.values[offset + i] = out.grid[offset + i] * scale;
    }
    return;
  }
  const int bits = static_cast<int>(arch::bits_of(format.format));
  if (format.zero_points) {
    // Asymmetric: the group's [min, max] (widened to hold 0) onto [0, 2^b - 1].
    const auto levels = static_cast<float>((1 << bits) - 1);
    const float scale = high > low ? (high - low) / levels : 1.0f;
    const auto zero = static_cast<int32_t>(std::lround(-low / scale));
    out.scales.push_back(scale);
    out.zeros.push_back(zero);
    for (uint64_t i = 0; i < count; ++i) {
      const auto code = static_cast<int32_t>(std::clamp(std::lround(values[i] / scale) + zero, 0L,
                                                        static_cast<long>(levels)));
      out.grid[offset + i] = static_cast<float>(code - zero);
      out.values[offset + i] = out.grid[offset + i] * scale;
    }
    return;
  }
  const auto limit = static_cast<float>((1 << (bits - 1)) - 1);
  const float scale = amax > 0 ? amax / limit : 1.0f;
  out.scales.push_back(scale);
  for (uint64_t i = 0; i < count; ++i) {
    const auto code = static_cast<int32_t>(std::clamp(std::lround(values[i] / scale), -static_cast<long>(limit),
                                                      static_cast<long>(limit)));
    out.grid[offset + i] = static_cast<float>(code);
    out.values[offset + i] = out.grid[offset + i] * scale;
  }
}

}  // namespace

uint64_t scale_group(const workloads::StoredFormat& format, uint64_t rows, uint64_t cols) {
  switch (format.scales) {
    case workloads::ScaleGranularity::Tensor: return rows * cols;
    case workloads::ScaleGranularity::Channel:
    case workloads::ScaleGranularity::Token: return cols;
    case workloads::ScaleGranularity::Group: return format.group;
  }
  return cols;
}

QuantizedMatrix quantize_rows(const std::vector<float>& values, uint64_t rows, uint64_t cols,
                              const workloads::StoredFormat& format, uint64_t group) {
  if (format.format != DType::Int4 && format.format != DType::Int8 && format.format != DType::Fp8) {
    throw std::invalid_argument("quantize_rows: " + std::string(arch::to_string(format.format)) +
                                " is not a quantized format");
  }
  if (values.size() != rows * cols) throw std::invalid_argument("quantize_rows: the size is not rows x cols");
  QuantizedMatrix out;
  out.grid.assign(values.size(), 0.0f);
  out.values.assign(values.size(), 0.0f);
  if (group == rows * cols) {
    quantize_group(values.data(), values.size(), format, out, 0);
    return out;
  }
  if (group == 0 || cols % group != 0) {
    throw std::invalid_argument("quantize_rows: groups of " + std::to_string(group) + " do not divide rows of " +
                                std::to_string(cols));
  }
  for (uint64_t start = 0; start < values.size(); start += group) {
    quantize_group(values.data() + start, group, format, out, start);
  }
  return out;
}

workloads::StoredFormat activation_grid(DType format) {
  const bool integer = format == DType::Int8 || format == DType::Int4;
  return {format, integer ? workloads::ScaleGranularity::Token : workloads::ScaleGranularity::Tensor, 0, false};
}

QuantizedMatrix quantize_weight(const std::vector<float>& b, uint64_t k, uint64_t n,
                                const workloads::StoredFormat& format) {
  QuantizedMatrix q = quantize_rows(transposed(b, k, n), n, k, format, scale_group(format, n, k));
  q.grid = transposed(q.grid, n, k);
  q.values = transposed(q.values, n, k);
  return q;
}

std::vector<float> magnitude_pruned(const std::vector<float>& b, uint64_t k, uint64_t n,
                                    const workloads::WeightSparsity& sparsity) {
  std::vector<float> out = b;
  const uint64_t group = sparsity.structured() ? sparsity.group : k;
  if (k % group != 0) {
    throw std::invalid_argument("magnitude_pruned: groups of " + std::to_string(group) + " do not divide K = " +
                                std::to_string(k));
  }
  const uint64_t keep = sparsity.structured() ? sparsity.keep : sparsity.kept_elements(k);
  std::vector<uint64_t> order(group);
  for (uint64_t j = 0; j < n; ++j) {
    for (uint64_t start = 0; start < k; start += group) {
      for (uint64_t i = 0; i < group; ++i) order[i] = start + i;
      std::stable_sort(order.begin(), order.end(),
                       [&](uint64_t x, uint64_t y) { return std::fabs(b[x * n + j]) > std::fabs(b[y * n + j]); });
      for (uint64_t i = keep; i < group; ++i) out[order[i] * n + j] = 0.0f;
    }
  }
  return out;
}

double sqnr_db(const std::vector<double>& values, const std::vector<double>& reference) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    signal += reference[i] * reference[i];
    noise += (values[i] - reference[i]) * (values[i] - reference[i]);
  }
  return noise == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(signal / noise);
}

double max_abs_difference(const std::vector<double>& values, const std::vector<double>& reference) {
  double worst = 0;
  for (size_t i = 0; i < values.size(); ++i) worst = std::max(worst, std::fabs(values[i] - reference[i]));
  return worst;
}

}  // namespace tessel::sim
