// Helpers shared by the operator and layer numerics tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim::testing_support {

inline constexpr arch::DType kFloatDtypes[] = {arch::DType::Fp8, arch::DType::Fp16,
                                               arch::DType::Bf16, arch::DType::Fp32};

// normal(0, stddev^2) draws rounded to `dtype`, from std::mt19937_64 seeded with `seed`.
inline std::vector<float> random_values(uint64_t count, float stddev, uint64_t seed,
                                        arch::DType dtype) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> values(count);
  for (float& value : values) value = round_to_format(normal(engine), dtype);
  return values;
}

inline std::vector<float> in_format(std::vector<float> values, arch::DType dtype) {
  for (float& value : values) value = round_to_format(value, dtype);
  return values;
}

// A format with fewer significand bits, for planting "rounded to the wrong format" bugs.
inline arch::DType narrower(arch::DType dtype) {
  switch (dtype) {
    case arch::DType::Fp32: return arch::DType::Fp16;
    case arch::DType::Fp16: return arch::DType::Bf16;
    default: return arch::DType::Fp8;
  }
}

// Central differences of an fp64 function at x, one coordinate at a time: f's gradient to
// about h^2 f''' (truncation) plus 1e-16 |f| / h (rounding).
template <typename Function>
std::vector<double> numeric_gradient(Function f, std::vector<double> x, double h) {
  std::vector<double> gradient(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double above = f(x);
    x[i] = saved - h;
    const double below = f(x);
    x[i] = saved;
    gradient[i] = (above - below) / (2 * h);
  }
  return gradient;
}

// ||a - b||_2 / ||b||_2.
inline double relative_distance(const std::vector<double>& a, const std::vector<double>& b) {
  double error = 0, energy = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    error += (a[i] - b[i]) * (a[i] - b[i]);
    energy += b[i] * b[i];
  }
  return std::sqrt(error / energy);
}

// Σ w_i y_i: the scalar whose gradient with respect to y is w, for checking gradients by
// finite differences.
inline double weighted_sum(const std::vector<double>& weights, const std::vector<double>& y) {
  double sum = 0;
  for (std::size_t i = 0; i < y.size(); ++i) sum += weights[i] * y[i];
  return sum;
}

inline void expect_passes(const NumericsReport& report) {
  EXPECT_TRUE(report.checked);
  EXPECT_TRUE(report.passed) << report.dtype << ": max error " << report.max_abs_error << " bound "
                             << report.error_bound << " (" << report.reference << ")";
  EXPECT_LE(report.max_abs_error, report.error_bound);
}

}  // namespace tessel::sim::testing_support
