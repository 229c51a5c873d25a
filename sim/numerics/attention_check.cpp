#include "sim/numerics/attention_check.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_check.h"

namespace tessel::sim {
namespace {

constexpr double u = kComputeRoundoff;

// The exact scores, probabilities and score magnitudes of one query row's visible keys.
struct RowReference {
  std::vector<double> scaled;      // Q·Kᵀ/sqrt(d)
  std::vector<double> scores;      // the softmax's inputs: the scaled scores, capped where the shape caps them
  std::vector<double> magnitudes;  // (|q|·|k|) / sqrt(d): the scale of each dot product's error
  std::vector<double> probabilities;
  double span = 0;  // max - min score
};

RowReference row_reference(const std::vector<float>& q_head, const std::vector<float>& k_head,
                           uint64_t row, KeyRange visible, const AttentionShape& shape) {
  const uint64_t d = shape.head_dim;
  const double scale = 1 / std::sqrt(static_cast<double>(d));
  RowReference reference;
  for (uint64_t j = visible.first; j < visible.end; ++j) {
    double score = 0, magnitude = 0;
    for (uint64_t t = 0; t < d; ++t) {
      const double product = static_cast<double>(q_head[row * d + t]) * k_head[j * d + t];
      score += product;
      magnitude += std::fabs(product);
    }
    reference.scaled.push_back(score * scale);
    reference.magnitudes.push_back(magnitude * scale);
  }
  reference.scores = capped_scores_reference(reference.scaled, shape);
  const auto [min, max] = std::minmax_element(reference.scores.begin(), reference.scores.end());
  reference.span = *max - *min;
  double sum = 0;
  for (double score : reference.scores) {
    reference.probabilities.push_back(std::exp(score - *max));
    sum += reference.probabilities.back();
  }
  for (double& probability : reference.probabilities) probability /= sum;
  return reference;
}

// The error of a capped score c = cap·tanh(s/cap) computed in fp32 from a scaled score s
// that errs by `error`: tanh is 1-Lipschitz, so c errs by s's error, carried through the
// multiply by the fp32 reciprocal of the cap (two roundings of s/cap, 2u·|s| after the cap's
// factor), tanhf's relative error and the final multiply's u, each on |c| and what it may be off.
double capped_error(double error, double scaled, double capped) {
  const double argument = (error + 2 * u * std::fabs(scaled)) * (1 + 3 * u);
  return argument + (kLibmError + u) * (std::fabs(capped) + argument) * (1 + u);
}

// The fused kernel's fp32 error of each softmax input (the scaled, and capped, score).
std::vector<double> fused_score_errors(const RowReference& row, const AttentionShape& shape) {
  std::vector<double> errors(row.scores.size());
  for (std::size_t j = 0; j < errors.size(); ++j) {
    errors[j] = gamma(shape.head_dim + 3, u) * row.magnitudes[j];
    if (shape.softcap > 0) errors[j] = capped_error(errors[j], row.scaled[j], row.scores[j]);
  }
  return errors;
}

// |P_j - p_j| for the unfused kernel's probabilities, rounded to the format: S rounded to the
// format, and again after its cap.
std::vector<double> unfused_probability_errors(const RowReference& row, const AttentionShape& shape,
                                               arch::DType dtype) {
  const std::size_t visible = row.scores.size();
  std::vector<double> score_error(visible);
  for (std::size_t j = 0; j < visible; ++j) {
    score_error[j] =
        rounded_output_bound(row.scaled[j], gamma(shape.head_dim + 3, u) * row.magnitudes[j], dtype);
    if (shape.softcap > 0) {
      score_error[j] =
          rounded_output_bound(row.scores[j], capped_error(score_error[j], row.scaled[j], row.scores[j]), dtype);
    }
  }
  const double largest = *std::max_element(score_error.begin(), score_error.end());
  const double max_score = *std::max_element(row.scores.begin(), row.scores.end());
  std::vector<double> errors(visible);
  for (std::size_t j = 0; j < visible; ++j) {
    // The stored scores' distances to their max may exceed the exact ones by 2 * largest.
    const double compute = softmax_fp32_relative_error(max_score - row.scores[j] + 2 * largest,
                                                       row.span + 2 * largest, visible);
    const double relative = std::exp(score_error[j] + largest) * (1 + compute) - 1;
    errors[j] = rounded_output_bound(row.probabilities[j], relative * row.probabilities[j], dtype);
  }
  return errors;
}

// The fused kernel's bound on each weight's relative error, as a log: exp(s - max) errs by
// its score's error, the subtractions' and one libm error per tile.
std::vector<double> fused_weight_log_errors(const RowReference& row, const AttentionShape& shape, uint64_t tiles) {
  std::vector<double> errors = fused_score_errors(row, shape);
  double largest_score_error = 0;
  for (const double error : errors) largest_score_error = std::max(largest_score_error, error);
  const double span = row.span + 2 * largest_score_error;
  for (double& error : errors) {
    error += 2 * u * span + static_cast<double>(tiles) * kLibmError;
  }
  return errors;
}

}  // namespace

std::vector<double> attention_error_bounds(const std::vector<float>& q, const std::vector<float>& k,
                                           const std::vector<float>& v, const AttentionShape& shape,
                                           const AttentionKernel& kernel, arch::DType dtype) {
  require_floating_format(dtype, "attention_error_bounds");
  require_attention_operands(q.size(), k.size(), v.size(), shape);
  const bool fused = kernel.kind == AttentionKernel::Kind::Fused;
  if (fused && kernel.block_kv == 0) {
    throw std::invalid_argument("attention_error_bounds: block_kv must be at least 1");
  }
  const uint64_t d = shape.head_dim;
  std::vector<double> bounds(q.size());
  for (uint64_t head = 0; head < shape.q_heads; ++head) {
    const uint64_t kv_head = kv_head_of(shape, head);
    const std::vector<float> q_head = head_slice(q, shape.q_len, shape.q_heads, d, head);
    const std::vector<float> k_head = head_slice(k, shape.kv_len, shape.kv_heads, d, kv_head);
    const std::vector<float> v_head = head_slice(v, shape.kv_len, shape.kv_heads, d, kv_head);
    for (uint64_t row = 0; row < shape.q_len; ++row) {
      const KeyRange seen = visible_keys(shape, row);
      const uint64_t visible = seen.end - seen.first;
      const RowReference reference = row_reference(q_head, k_head, row, seen, shape);
      // The tiles of block_kv keys, from key 0, that hold some of the row's keys.
      const uint64_t tiles =
          fused ? (seen.end + kernel.block_kv - 1) / kernel.block_kv - seen.first / kernel.block_kv : 0;
      const std::vector<double> weight_errors = fused ? fused_weight_log_errors(reference, shape, tiles)
                                                      : unfused_probability_errors(reference, shape, dtype);
      const double largest_weight_error =
          *std::max_element(weight_errors.begin(), weight_errors.end());
      const double sum_error =
          fused ? 2 * gamma(kernel.block_kv + 2 * tiles, u) + u : gamma(shape.kv_len, u);
      for (uint64_t t = 0; t < d; ++t) {
        double output = 0, error = 0;
        for (uint64_t j = 0; j < visible; ++j) {
          const double p = reference.probabilities[j];
          const double value = v_head[(seen.first + j) * d + t];
          const double magnitude = std::fabs(value);
          output += p * value;
          if (fused) {
            // Normalising by the sum of the same erring weights: each probability errs by
            // at most exp(its error + the largest) - 1 relative.
            error +=
                p * magnitude * (std::expm1(weight_errors[j] + largest_weight_error) + sum_error);
          } else {
            error += (weight_errors[j] + sum_error * (p + weight_errors[j])) * magnitude;
          }
        }
        bounds[(row * shape.q_heads + head) * d + t] = rounded_output_bound(output, error, dtype);
      }
    }
  }
  return bounds;
}

NumericsReport compare_attention(const std::vector<float>& q, const std::vector<float>& k,
                                 const std::vector<float>& v, const AttentionShape& shape,
                                 const AttentionKernel& kernel, const std::vector<float>& output,
                                 arch::DType dtype) {
  const std::vector<double> bounds = attention_error_bounds(q, k, v, shape, kernel, dtype);
  const std::vector<double> reference =
      attention_reference(to_double(q), to_double(k), to_double(v), shape);
  require_size(output.size(), reference.size(), "compare_attention");
  BoundedComparison comparison;
  for (std::size_t i = 0; i < output.size(); ++i)
    comparison.add(output[i], reference[i], bounds[i]);
  const std::string kernel_name =
      kernel.kind == AttentionKernel::Kind::Fused
          ? "fused attention (block_kv " + std::to_string(kernel.block_kv) + ")"
          : "unfused attention";
  return comparison.report(dtype, "Eigen fp64 attention of the same " +
                                      std::string(arch::to_string(dtype)) + " Q, K, V vs " +
                                      kernel_name + "; every element within the kernel's bound");
}

NumericsReport compare_attention_kernels(const std::vector<float>& q, const std::vector<float>& k,
                                         const std::vector<float>& v, const AttentionShape& shape,
                                         uint64_t block_kv, const std::vector<float>& unfused,
                                         const std::vector<float>& fused, arch::DType dtype) {
  const std::vector<double> unfused_bounds =
      attention_error_bounds(q, k, v, shape, {AttentionKernel::Kind::Unfused, block_kv}, dtype);
  const std::vector<double> fused_bounds =
      attention_error_bounds(q, k, v, shape, {AttentionKernel::Kind::Fused, block_kv}, dtype);
  require_size(unfused.size(), unfused_bounds.size(), "compare_attention_kernels");
  require_size(fused.size(), fused_bounds.size(), "compare_attention_kernels");
  BoundedComparison comparison;
  for (std::size_t i = 0; i < fused.size(); ++i) {
    comparison.add(fused[i], unfused[i], unfused_bounds[i] + fused_bounds[i]);
  }
  return comparison.report(dtype, "unfused attention vs fused attention (block_kv " +
                                      std::to_string(block_kv) +
                                      "); every element within the sum of both kernels' bounds");
}

}  // namespace tessel::sim
