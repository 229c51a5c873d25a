#include "sim/numerics/attention.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_datapath.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_reference.h"

namespace tessel::sim {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Head `head` of a [rows × heads·head_dim] tensor, transposed to [head_dim × rows]: the
// layout of Kᵀ as the B operand of S = Q Kᵀ.
std::vector<float> transposed_head(const std::vector<float>& x, uint64_t rows, uint64_t heads,
                                   uint64_t head_dim, uint64_t head) {
  std::vector<float> transposed(head_dim * rows);
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t t = 0; t < head_dim; ++t) {
      transposed[t * rows + row] = x[(row * heads + head) * head_dim + t];
    }
  }
  return transposed;
}

// Writes a [rows × head_dim] result, rounded to the format, into head `head` of `out`.
void store_head(const std::vector<float>& head_values, uint64_t rows, uint64_t heads,
                uint64_t head_dim, uint64_t head, arch::DType dtype, std::vector<float>& out) {
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t t = 0; t < head_dim; ++t) {
      out[(row * heads + head) * head_dim + t] =
          round_to_format(head_values[row * head_dim + t], dtype);
    }
  }
}

float score_scale(uint64_t head_dim) { return 1.0f / std::sqrt(static_cast<float>(head_dim)); }

// The fused kernel's fp32 state for the query rows of one head across the key tiles.
class OnlineSoftmax {
 public:
  OnlineSoftmax(uint64_t rows, uint64_t head_dim)
      : head_dim_(head_dim),
        max_(rows, -std::numeric_limits<float>::infinity()),
        sum_(rows, 0.0f),
        accumulator_(rows * head_dim, 0.0f),
        corrections_(rows),
        tile_sums_(rows) {}

  // Turns a tile's scaled scores [rows × keys], of which row r sees visible[r] (tile-local),
  // into the weights exp(s - new max) in place (0 where masked), and moves each row's max.
  void weigh(std::vector<float>& scores, uint64_t keys, const std::vector<KeyRange>& visible) {
    for (uint64_t row = 0; row < max_.size(); ++row) {
      float* weights = scores.data() + row * keys;
      const KeyRange seen = visible[row];
      corrections_[row] = 1.0f;
      tile_sums_[row] = 0.0f;
      if (seen.end > seen.first) {
        const float new_max =
            std::max(max_[row], *std::max_element(weights + seen.first, weights + seen.end));
        // exp(-inf) = 0 on the first tile, when the sum and accumulator are still 0.
        corrections_[row] = std::exp(max_[row] - new_max);
        for (uint64_t j = seen.first; j < seen.end; ++j) {
          weights[j] = std::exp(weights[j] - new_max);
          tile_sums_[row] += weights[j];
        }
        max_[row] = new_max;
      }
      std::fill(weights, weights + seen.first, 0.0f);
      std::fill(weights + std::max(seen.first, seen.end), weights + keys, 0.0f);
    }
  }

  // Rescales the sum and accumulator by exp(old max - new max) and adds the tile's weights
  // and its P·V [rows × head_dim].
  void accumulate(const std::vector<float>& tile_out) {
    for (uint64_t row = 0; row < max_.size(); ++row) {
      sum_[row] = sum_[row] * corrections_[row] + tile_sums_[row];
      for (uint64_t t = 0; t < head_dim_; ++t) {
        float& accumulated = accumulator_[row * head_dim_ + t];
        accumulated = accumulated * corrections_[row] + tile_out[row * head_dim_ + t];
      }
    }
  }

  float log_sum_exp(uint64_t row) const { return max_[row] + std::log(sum_[row]); }

  std::vector<float> normalised() const {
    std::vector<float> out(accumulator_.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = accumulator_[i] / sum_[i / head_dim_];
    return out;
  }

 private:
  uint64_t head_dim_;
  std::vector<float> max_;
  std::vector<float> sum_;
  std::vector<float> accumulator_;
  std::vector<float> corrections_;
  std::vector<float> tile_sums_;
};

// Rows [first, first + count) of a row-major matrix with `cols` columns.
std::vector<float> row_block(const std::vector<float>& x, uint64_t cols, uint64_t first,
                             uint64_t count) {
  return {x.begin() + static_cast<std::ptrdiff_t>(first * cols),
          x.begin() + static_cast<std::ptrdiff_t>((first + count) * cols)};
}

}  // namespace

void require_attention_operands(std::size_t q_size, std::size_t k_size, std::size_t v_size,
                                const AttentionShape& shape) {
  if (shape.kv_len == 0 || shape.head_dim == 0 || shape.q_heads == 0 || shape.kv_heads == 0 ||
      shape.q_heads % shape.kv_heads != 0) {
    throw std::invalid_argument(
        "attention: kv_len, head_dim and head counts must be positive, q_heads a multiple of "
        "kv_heads");
  }
  if (shape.causal && shape.q_len > shape.kv_len) {
    throw std::invalid_argument("attention: a causal mask needs q_len <= kv_len");
  }
  if ((shape.window > 0 && !shape.causal) || shape.softcap < 0) {
    throw std::invalid_argument("attention: a window narrows a causal mask; a soft cap is positive or 0");
  }
  require_size(q_size, shape.q_len * shape.q_heads * shape.head_dim, "attention Q");
  require_size(k_size, shape.kv_len * shape.kv_heads * shape.head_dim, "attention K");
  require_size(v_size, shape.kv_len * shape.kv_heads * shape.head_dim, "attention V");
}

uint64_t kv_head_of(const AttentionShape& shape, uint64_t q_head) {
  return q_head / (shape.q_heads / shape.kv_heads);
}

KeyRange visible_keys(const AttentionShape& shape, uint64_t query) {
  const uint64_t end = shape.causal ? shape.kv_len - shape.q_len + query + 1 : shape.kv_len;
  return {shape.window > 0 && end > shape.window ? end - shape.window : 0, end};
}

float capped_score(float score, float softcap) {
  return softcap > 0.0f ? softcap * std::tanh(score * (1.0f / softcap)) : score;
}

std::vector<float> attention_unfused(const std::vector<float>& q, const std::vector<float>& k,
                                     const std::vector<float>& v, const AttentionShape& shape,
                                     arch::DType dtype) {
  require_floating_format(dtype, "attention_unfused");
  require_attention_operands(q.size(), k.size(), v.size(), shape);
  const float scale = score_scale(shape.head_dim);
  std::vector<float> out(q.size());
  for (uint64_t head = 0; head < shape.q_heads; ++head) {
    const uint64_t kv_head = kv_head_of(shape, head);
    std::vector<float> scores = datapath_gemm_float(
        head_slice(q, shape.q_len, shape.q_heads, shape.head_dim, head),
        transposed_head(k, shape.kv_len, shape.kv_heads, shape.head_dim, kv_head),
        {shape.q_len, shape.kv_len, shape.head_dim}, shape.head_dim);
    for (float& score : scores) score = round_to_format(score * scale, dtype);
    if (shape.softcap > 0) {
      for (float& score : scores) score = round_to_format(capped_score(score, shape.softcap), dtype);
    }
    mask_invisible(scores, shape);
    const std::vector<float> probabilities =
        softmax_rows(scores, {shape.q_len, shape.kv_len}, SoftmaxMask::None, dtype);
    const std::vector<float> head_out = datapath_gemm_float(
        probabilities, head_slice(v, shape.kv_len, shape.kv_heads, shape.head_dim, kv_head),
        {shape.q_len, shape.head_dim, shape.kv_len}, shape.kv_len);
    store_head(head_out, shape.q_len, shape.q_heads, shape.head_dim, head, dtype, out);
  }
  return out;
}

std::vector<float> attention_fused(const std::vector<float>& q, const std::vector<float>& k,
                                   const std::vector<float>& v, const AttentionShape& shape,
                                   uint64_t block_kv, arch::DType dtype) {
  return attention_fused_saving_lse(q, k, v, shape, block_kv, dtype).out;
}

FusedAttentionResult attention_fused_saving_lse(const std::vector<float>& q, const std::vector<float>& k,
                                                const std::vector<float>& v, const AttentionShape& shape,
                                                uint64_t block_kv, arch::DType dtype) {
  require_floating_format(dtype, "attention_fused");
  require_attention_operands(q.size(), k.size(), v.size(), shape);
  if (block_kv == 0) throw std::invalid_argument("attention_fused: block_kv must be at least 1");
  const float scale = score_scale(shape.head_dim);
  const uint64_t d = shape.head_dim;
  FusedAttentionResult result{std::vector<float>(q.size()), std::vector<float>(shape.q_len * shape.q_heads)};
  for (uint64_t head = 0; head < shape.q_heads; ++head) {
    const uint64_t kv_head = kv_head_of(shape, head);
    const std::vector<float> q_head = head_slice(q, shape.q_len, shape.q_heads, d, head);
    const std::vector<float> k_head = head_slice(k, shape.kv_len, shape.kv_heads, d, kv_head);
    const std::vector<float> v_head = head_slice(v, shape.kv_len, shape.kv_heads, d, kv_head);
    OnlineSoftmax state(shape.q_len, d);
    std::vector<KeyRange> visible(shape.q_len);
    for (uint64_t first_key = 0; first_key < shape.kv_len; first_key += block_kv) {
      const uint64_t keys = std::min(block_kv, shape.kv_len - first_key);
      std::vector<float> scores = datapath_gemm_float(
          q_head, transposed_head(row_block(k_head, d, first_key, keys), keys, 1, d, 0),
          {shape.q_len, keys, d}, d);
      for (float& score : scores) score = capped_score(score * scale, shape.softcap);
      for (uint64_t row = 0; row < shape.q_len; ++row) {
        // The row's keys within this tile, tile-local; empty when it sees none of them.
        const KeyRange seen = visible_keys(shape, row);
        const uint64_t first = std::clamp(seen.first, first_key, first_key + keys) - first_key;
        visible[row] = {first, std::max(first, std::clamp(seen.end, first_key, first_key + keys) - first_key)};
      }
      state.weigh(scores, keys, visible);
      state.accumulate(datapath_gemm_float(scores, row_block(v_head, d, first_key, keys),
                                           {shape.q_len, d, keys}, keys));
    }
    store_head(state.normalised(), shape.q_len, shape.q_heads, d, head, dtype, result.out);
    for (uint64_t row = 0; row < shape.q_len; ++row) {
      result.log_sum_exp[row * shape.q_heads + head] = state.log_sum_exp(row);
    }
  }
  return result;
}

std::vector<double> capped_scores_reference(std::vector<double> scores, const AttentionShape& shape) {
  if (shape.softcap > 0) {
    const double cap = shape.softcap;
    for (double& score : scores) score = cap * std::tanh(score / cap);
  }
  return scores;
}

std::vector<double> attention_reference(const std::vector<double>& q, const std::vector<double>& k,
                                        const std::vector<double>& v, const AttentionShape& shape) {
  require_attention_operands(q.size(), k.size(), v.size(), shape);
  const auto q_len = static_cast<Eigen::Index>(shape.q_len);
  const auto kv_len = static_cast<Eigen::Index>(shape.kv_len);
  const auto d = static_cast<Eigen::Index>(shape.head_dim);
  const auto q_heads = static_cast<Eigen::Index>(shape.q_heads);
  const auto kv_heads = static_cast<Eigen::Index>(shape.kv_heads);
  // Heads as column blocks of the whole tensors, independently of the datapath's slicing.
  const Eigen::Map<const RowMatrix> queries(q.data(), q_len, q_heads * d);
  const Eigen::Map<const RowMatrix> keys(k.data(), kv_len, kv_heads * d);
  const Eigen::Map<const RowMatrix> values(v.data(), kv_len, kv_heads * d);
  const double scale = 1 / std::sqrt(static_cast<double>(shape.head_dim));
  RowMatrix out(q_len, q_heads * d);
  for (Eigen::Index head = 0; head < q_heads; ++head) {
    const Eigen::Index kv_head = head / (q_heads / kv_heads);
    const RowMatrix scores =
        queries.middleCols(head * d, d) * keys.middleCols(kv_head * d, d).transpose() * scale;
    std::vector<double> capped = capped_scores_reference({scores.data(), scores.data() + scores.size()}, shape);
    mask_invisible(capped, shape);
    const std::vector<double> probabilities =
        softmax_rows_reference(capped, {shape.q_len, shape.kv_len}, SoftmaxMask::None);
    out.middleCols(head * d, d) = Eigen::Map<const RowMatrix>(probabilities.data(), q_len, kv_len) *
                                  values.middleCols(kv_head * d, d);
  }
  return {out.data(), out.data() + out.size()};
}

}  // namespace tessel::sim
