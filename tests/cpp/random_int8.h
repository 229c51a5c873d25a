// Uniform int8 operands for the PE-level model's tests.
#pragma once

#include <cstdint>
#include <random>

#include "sim/pe_level.h"

namespace tessel::testing {

inline sim::Int8Matrix random_int8(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> value(-128, 127);
  sim::Int8Matrix matrix(rows, cols);
  for (Eigen::Index i = 0; i < matrix.size(); ++i) matrix(i) = static_cast<int8_t>(value(rng));
  return matrix;
}

}  // namespace tessel::testing
