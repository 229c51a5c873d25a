// Checks the datapath's GEMM values against an Eigen reference and reports the error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_datapath.h"
#include "workloads/quant_recipe.h"

namespace tessel::sim {

struct GemmCheckRequest {
  uint64_t m, n, k;
  arch::DType dtype;
  uint64_t k_tile;  // the SRAM tile of K the mapper chose: it fixes the order of the sums
  uint64_t seed;
  // A quantized linear's stored weights (check_quantized_gemm), and the unquantized format its
  // scheme is measured against (nothing: dtype).
  std::optional<workloads::StoredFormat> weights = std::nullopt;
  std::optional<arch::DType> unquantized = std::nullopt;
  std::optional<workloads::WeightSparsity> sparsity = std::nullopt;  // B pruned to it
};

struct NumericsReport {
  bool checked = false;        // false when skipped (timing-only)
  bool passed = false;
  std::string dtype;
  std::string reference;       // one line: what it was compared with and the criterion
  double max_abs_error = 0;    // vs the reference below
  double relative_error = 0;   // ||C - C_ref||_F / ||C_ref||_F
  double sqnr_db = 0;          // 10 log10(sum C_ref^2 / sum (C - C_ref)^2); +infinity when exact
  double error_bound = 0;      // the largest per-element bound applied (0 for the exact integer check)
  double quantization_sqnr_db = 0;  // datapath result (dequantized) vs fp64 product of the original real inputs: what the format costs
  // A quantized linear's: the largest |scheme - fp64 product of the unquantized operands|, and
  // the unquantized format's SQNR on the same operands (the scheme adds the difference).
  double quantization_max_abs_error = 0;
  double format_sqnr_db = 0;
};

// Draws real operands, puts them in the request's format, runs the datapath and compares
// the result with Eigen; with request.weights, check_quantized_gemm. Throws
// std::invalid_argument on a k_tile of 0.
NumericsReport check_gemm(const GemmCheckRequest& request);

// How large a GEMM check_gemm handles by default. Its cost has two parts: the MACs (the
// datapath and three fp64 Eigen products) and the elements of A, B and C (drawing normal
// inputs, rounding them, comparing outputs). On one core of the development machine:
// about 1.5 ns per MAC and 70 ns per element, so a GEMM within both limits below costs
// about a second at most; the CLI checks by default only shapes within both.
uint64_t default_check_limit_macs();      // M·N·K: 2^28, about 0.4 s
uint64_t default_check_limit_elements();  // M·K + K·N + M·N: 2^23, about 0.6 s

// The largest block of C, its first rows and columns over the whole of K, whose check stays
// within both limits (as square as the shape allows, then grown along the longer side). Each
// element of C is a row of A times a column of B, summed in the same order whatever the block,
// so the block's check is the whole GEMM's on those elements. At least 1 × 1.
GemmShape gemm_check_block(const GemmShape& shape, uint64_t limit_macs, uint64_t limit_elements);

// check_gemm on gemm_check_block's block of the request's shape; when that is not the whole, the
// reference line says which block ("rows 0-127 of 4096, columns 0-255 of 12288, all of K =
// 12288: ...").
NumericsReport check_gemm_block(const GemmCheckRequest& request, uint64_t limit_macs, uint64_t limit_elements);

// The pieces of check_gemm, exposed so tests can compare results of their own making.

// The real inputs: row-major A (m×k) and B (k×n) drawn from normal(0, 1) by a
// std::mt19937_64 seeded with `seed` (deterministic for a given standard library).
struct RealOperands {
  std::vector<float> a;
  std::vector<float> b;
};
RealOperands draw_real_operands(const GemmShape& shape, uint64_t seed);

// gamma_n(u) = n u / (1 - n u), Higham's factor for n rounded operations of unit roundoff u;
// +infinity when n u >= 1, where no such bound exists.
double gamma(uint64_t n, double unit_roundoff);

// Bit-exact comparison of an int8 datapath result with Eigen's integer product of the same
// int8 values. Fills checked, passed, reference and the error fields; throws
// std::invalid_argument when the sizes do not match the shape.
NumericsReport compare_int8_with_eigen(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                       const GemmShape& shape, const std::vector<int32_t>& c);

// Element-wise comparison of a floating datapath result with Eigen's fp64 product of the same
// operands (values of `dtype`), within Higham's dot-product bound. Fills checked, passed,
// reference and the error fields; throws std::invalid_argument when the sizes do not match.
NumericsReport compare_float_with_eigen(const std::vector<float>& a, const std::vector<float>& b,
                                        const GemmShape& shape, const std::vector<float>& c,
                                        arch::DType dtype);

}  // namespace tessel::sim
