// Quantizing real tensors as the precision recipes store them: values on an integer or fp8
// grid with a scale (and a zero point) per tensor, channel, group or token.
#pragma once

#include <cstdint>
#include <vector>

#include "workloads/quant_recipe.h"

namespace tessel::sim {

// A row-major rows × cols matrix quantized along its rows (each row one vector of `cols`: a
// token of activations, or a weight's output channel over K).
struct QuantizedMatrix {
  std::vector<float> grid;     // each value on the format's grid: code - zero point, or the fp8 value
  std::vector<float> values;   // what it stands for: grid · its group's scale
  std::vector<float> scales;   // one per group, in row-major order
  std::vector<int32_t> zeros;  // likewise, with zero points
};

// Quantizes `values` (rows × cols, row-major) into `format` with a scale per `group` elements
// of each row (group = cols: a scale a row; rows × cols: one for the whole tensor).
// Symmetric integer grids use ±(2^(b-1) - 1); asymmetric ones (zero points) [0, 2^b - 1] over
// each group's min and max; fp8 maps each group's amax to 448. An all-zero group gets scale 1.
// Throws std::invalid_argument for a group that does not divide a row (unless one scale
// covers the tensor), or a format that is not int4, int8 or fp8.
QuantizedMatrix quantize_rows(const std::vector<float>& values, uint64_t rows, uint64_t cols,
                              const workloads::StoredFormat& format, uint64_t group);

// The elements a scale covers along a row of `cols` for a stored format of a weight (K per
// output channel) or a token: every element for Tensor (with `rows`), the row for Channel and
// Token, `group` for Group.
uint64_t scale_group(const workloads::StoredFormat& format, uint64_t rows, uint64_t cols);

// The grid a quantized linear's activations are put on: int8 or int4 with a scale per token
// (SmoothQuant; QuaRot's W4A4), fp8 with one scale (vLLM's and TensorRT-LLM's fp8).
workloads::StoredFormat activation_grid(arch::DType format);

// A weight B (K × N, row-major) quantized along K for each output channel, as the recipe's
// weights are stored: quantize_rows of its transpose, with grid and values transposed back (the
// scales stay one row of groups per output channel).
QuantizedMatrix quantize_weight(const std::vector<float>& b, uint64_t k, uint64_t n,
                                const workloads::StoredFormat& format);

// B (K × N) with each output channel pruned by magnitude: the largest `keep` of each group of
// `group` along K (N:M), or the channel's largest `density` share (unstructured). Ties go to the
// lower index, so the pruning is deterministic. Throws std::invalid_argument for groups that do
// not divide K.
std::vector<float> magnitude_pruned(const std::vector<float>& b, uint64_t k, uint64_t n,
                                    const workloads::WeightSparsity& sparsity);

// What a scheme costs against a reference: 10 log10(Σ ref² / Σ (value − ref)²), +infinity when
// exact; and the largest |value − ref|.
double sqnr_db(const std::vector<double>& values, const std::vector<double>& reference);
double max_abs_difference(const std::vector<double>& values, const std::vector<double>& reference);

}  // namespace tessel::sim
