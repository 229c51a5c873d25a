// The numerics of a quantized linear: the datapath checked on the quantized values it
// multiplies, and what the scheme costs against an fp64 product of the real operands, drawn
// as an LLM's linears see them.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "workloads/quant_recipe.h"

namespace tessel::sim {

struct QuantGemmRequest {
  GemmShape shape;
  // The format the product runs in: the run's 16-bit one for weight-only schemes, int8 for
  // W8A8, fp8 for fp8.
  arch::DType compute;
  // The format of the unquantized model, which the scheme is measured against.
  arch::DType unquantized;
  std::optional<workloads::StoredFormat> weights;  // nothing: B in the compute format
  std::optional<workloads::WeightSparsity> sparsity;  // B pruned to it first
  uint64_t k_tile;
  uint64_t seed;
};

// Multiplies a few outlier channels (columns, the same in every token of `rows` × `cols`) by 20,
// as in the hidden states of LLMs beyond a few billion parameters (Dettmers et al., LLM.int8(),
// 2022: outlier features of magnitude up to 20 in a small share of the dimensions; SmoothQuant,
// 2023: which is what makes per-token int8 activations lose accuracy). One channel in 64, at
// least one.
void scale_outlier_channels(std::vector<float>& values, uint64_t rows, uint64_t cols);

// Activations normal(0, 1) with scale_outlier_channels' outliers; weights normal(0, 1).
RealOperands draw_llm_operands(const GemmShape& shape, uint64_t seed);

// Prunes B by magnitude when the scheme is sparse (the largest `keep` of each group along K, or
// each output channel's largest `density` share), quantizes the operands as the scheme stores
// them and runs the datapath. A pruned B runs with its zeros in place: adding a zero product
// leaves every fp32 and int32 sum unchanged, so the result is the compressed form's.
// - compute float, weights narrower (W4A16, W8A16): B dequantized into the compute format
//   (as the kernels unpack it), A in it; checked against Eigen's fp64 product of those same
//   values within Higham's bound;
// - compute int8 (W8A8): A with a scale per token, B with the recipe's scales, int32 sums
//   checked bit for bit against Eigen's integer product, then scaled back;
// - compute fp8: both on the fp8 grid with their scales, the fp32 sums checked like floats.
// quantization_sqnr_db is the scheme's result against the fp64 product of the real operands,
// format_sqnr_db the unquantized format's (both operands rounded to it) on the same operands:
// the scheme adds the difference. Throws std::invalid_argument for a group that does not
// divide K, or group scales on an 8-bit datapath (they need a dequantizing kernel).
NumericsReport check_quantized_gemm(const QuantGemmRequest& request);

}  // namespace tessel::sim
