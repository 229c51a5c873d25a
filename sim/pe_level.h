// Runs a GEMM on the PE-level systolic array (arch/systolic/pe_array): the register-level
// model that tests hold the tile-level cycle formula and the int8 datapath against.
#pragma once

#include <cstdint>
#include <optional>

#include <Eigen/Core>

#include "arch/spec.h"

namespace tessel::sim {

using Int8Matrix = Eigen::Matrix<int8_t, Eigen::Dynamic, Eigen::Dynamic>;
using Int32Matrix = Eigen::Matrix<int32_t, Eigen::Dynamic, Eigen::Dynamic>;

struct PeLevelResult {
  uint64_t cycles;  // measured: from the first fold's first cycle to the last fold's last MAC
  bool finished;    // false when the cycle limit stopped the run first
  Int32Matrix c;    // A·B with int32 accumulation; complete only when finished
};

// C = A·B on `array` (at most 32×32, single- or double-buffered) in a fresh SystemC kernel;
// every module is gone when it returns, so it can run many times in one process. With
// `cycle_limit`, stops after that many cycles if the GEMM is not done by then. Throws
// std::invalid_argument when the array is too large, or the shapes are empty or do not match.
PeLevelResult run_pe_level(const arch::ArraySpec& array, const Int8Matrix& a, const Int8Matrix& b,
                           std::optional<uint64_t> cycle_limit = std::nullopt);

}  // namespace tessel::sim
