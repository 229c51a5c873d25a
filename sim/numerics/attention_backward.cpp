#include "sim/numerics/attention_backward.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_datapath.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {
namespace {

// Rows [first, first + count) of a row-major matrix with `cols` columns.
std::vector<float> row_block(const std::vector<float>& x, uint64_t cols, uint64_t first, uint64_t count) {
  return {x.begin() + static_cast<std::ptrdiff_t>(first * cols),
          x.begin() + static_cast<std::ptrdiff_t>((first + count) * cols)};
}

void add_into(std::vector<float>& accumulator, uint64_t offset, const std::vector<float>& tile) {
  for (std::size_t i = 0; i < tile.size(); ++i) accumulator[offset + i] += tile[i];
}

// Writes a [rows × head_dim] fp32 result, times `scale` and rounded, into head `head` of `out`.
void store_head(const std::vector<float>& values, uint64_t rows, uint64_t heads, uint64_t head_dim, uint64_t head,
                float scale, arch::DType dtype, std::vector<float>& out) {
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t t = 0; t < head_dim; ++t) {
      out[(row * heads + head) * head_dim + t] = round_to_format(values[row * head_dim + t] * scale, dtype);
    }
  }
}

}  // namespace

AttentionGradients<float> attention_backward_fused(const std::vector<float>& q, const std::vector<float>& k,
                                                   const std::vector<float>& v, const std::vector<float>& out,
                                                   const std::vector<float>& d_out,
                                                   const std::vector<float>& log_sum_exp, const AttentionShape& shape,
                                                   uint64_t block_kv, arch::DType dtype) {
  require_floating_format(dtype, "attention_backward_fused");
  require_attention_operands(q.size(), k.size(), v.size(), shape);
  require_size(out.size(), q.size(), "attention_backward_fused O");
  require_size(d_out.size(), q.size(), "attention_backward_fused dO");
  require_size(log_sum_exp.size(), shape.q_len * shape.q_heads, "attention_backward_fused L");
  if (block_kv == 0) throw std::invalid_argument("attention_backward_fused: block_kv must be at least 1");
  const uint64_t d = shape.head_dim, q_len = shape.q_len, group = shape.q_heads / shape.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  AttentionGradients<float> gradients{std::vector<float>(q.size()), std::vector<float>(k.size()),
                                      std::vector<float>(v.size())};
  for (uint64_t kv_head = 0; kv_head < shape.kv_heads; ++kv_head) {
    const std::vector<float> k_head = head_slice(k, shape.kv_len, shape.kv_heads, d, kv_head);
    const std::vector<float> v_head = head_slice(v, shape.kv_len, shape.kv_heads, d, kv_head);
    std::vector<float> dk_head(shape.kv_len * d, 0.0f), dv_head(shape.kv_len * d, 0.0f);
    for (uint64_t head = kv_head * group; head < (kv_head + 1) * group; ++head) {
      const std::vector<float> q_head = head_slice(q, q_len, shape.q_heads, d, head);
      const std::vector<float> do_head = head_slice(d_out, q_len, shape.q_heads, d, head);
      const std::vector<float> o_head = head_slice(out, q_len, shape.q_heads, d, head);
      std::vector<float> delta(q_len, 0.0f);
      for (uint64_t row = 0; row < q_len; ++row) {
        for (uint64_t t = 0; t < d; ++t) delta[row] += do_head[row * d + t] * o_head[row * d + t];
      }
      std::vector<float> dq_head(q_len * d, 0.0f);
      for (uint64_t first_key = 0; first_key < shape.kv_len; first_key += block_kv) {
        const uint64_t keys = std::min(block_kv, shape.kv_len - first_key);
        const std::vector<float> k_tile = row_block(k_head, d, first_key, keys);
        const std::vector<float> v_tile = row_block(v_head, d, first_key, keys);
        std::vector<float> p = datapath_gemm_float(q_head, transposed(k_tile, keys, d), {q_len, keys, d}, d);
        const std::vector<float> dp = datapath_gemm_float(do_head, transposed(v_tile, keys, d), {q_len, keys, d}, d);
        std::vector<float> ds(p.size());
        for (uint64_t row = 0; row < q_len; ++row) {
          const KeyRange seen = visible_keys(shape, row);
          const float lse = log_sum_exp[row * shape.q_heads + head];
          for (uint64_t j = 0; j < keys; ++j) {
            const uint64_t index = row * keys + j;
            const bool visible = first_key + j >= seen.first && first_key + j < seen.end;
            const float scaled = p[index] * scale;
            p[index] = visible ? std::exp(capped_score(scaled, shape.softcap) - lse) : 0.0f;
            ds[index] = p[index] * (dp[index] - delta[row]);
            // Through the cap: d(c·tanh(s/c))/ds = 1 - tanh²(s/c).
            if (shape.softcap > 0.0f) {
              const float t = std::tanh(scaled * (1.0f / shape.softcap));
              ds[index] *= 1.0f - t * t;
            }
          }
        }
        add_into(dv_head, first_key * d,
                 datapath_gemm_float(transposed(p, q_len, keys), do_head, {keys, d, q_len}, q_len));
        add_into(dk_head, first_key * d,
                 datapath_gemm_float(transposed(ds, q_len, keys), q_head, {keys, d, q_len}, q_len));
        add_into(dq_head, 0, datapath_gemm_float(ds, k_tile, {q_len, d, keys}, keys));
      }
      store_head(dq_head, q_len, shape.q_heads, d, head, scale, dtype, gradients.dq);
    }
    store_head(dk_head, shape.kv_len, shape.kv_heads, d, kv_head, scale, dtype, gradients.dk);
    store_head(dv_head, shape.kv_len, shape.kv_heads, d, kv_head, 1.0f, dtype, gradients.dv);
  }
  return gradients;
}

}  // namespace tessel::sim
