// Helpers shared by the operator and layer numerics tests.
#pragma once

#include <gtest/gtest.h>

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

inline void expect_passes(const NumericsReport& report) {
  EXPECT_TRUE(report.checked);
  EXPECT_TRUE(report.passed) << report.dtype << ": max error " << report.max_abs_error << " bound "
                             << report.error_bound << " (" << report.reference << ")";
  EXPECT_LE(report.max_abs_error, report.error_bound);
}

}  // namespace tessel::sim::testing_support
