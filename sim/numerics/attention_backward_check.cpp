#include "sim/numerics/attention_backward_check.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/numerics/attention_check.h"
#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/running_error.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {
namespace {

// The replayed forward of one query head: its scaled (and capped) scores and recomputed
// probabilities [q_len × kv_len] (the visible entries only), each row's visible keys, and with
// a soft cap the derivative 1 - t² of each visible score's cap, t = tanh(s/cap).
struct HeadReplay {
  std::vector<Bounded> scores;
  std::vector<Bounded> probabilities;
  std::vector<Bounded> cap_slopes;
  std::vector<KeyRange> visible;
};

// The fused forward kernel's L = max + log(sum) for one row seeing keys [first, end): per tile
// of block_kv keys from key 0 that holds some of them, the running max moves, the sum is
// rescaled by exp(old max - new max) and the tile's weights exp(s - new max) are added in
// order (OnlineSoftmax in attention.cpp).
Bounded replay_log_sum_exp(const Bounded* scores, KeyRange seen, uint64_t block_kv) {
  Bounded running_max, sum;
  bool first_tile = true;
  for (uint64_t tile = seen.first / block_kv * block_kv; tile < seen.end; tile += block_kv) {
    const uint64_t first = std::max(tile, seen.first), end = std::min(seen.end, tile + block_kv);
    Bounded new_max = scores[first];
    for (uint64_t j = first + 1; j < end; ++j) new_max = max(new_max, scores[j]);
    if (!first_tile) new_max = max(running_max, new_max);
    Bounded tile_sum;
    for (uint64_t j = first; j < end; ++j) tile_sum = tile_sum + exp(scores[j] - new_max);
    // The first tile's correction is exp(-inf) = 0 exactly, so its sum is the tile's.
    sum = first_tile ? tile_sum : sum * exp(running_max - new_max) + tile_sum;
    running_max = new_max;
    first_tile = false;
  }
  return running_max + log(sum);
}

HeadReplay replay_head(const std::vector<float>& q_head, const std::vector<float>& k_head, const AttentionShape& shape,
                       uint64_t block_kv, Bounded scale) {
  const uint64_t d = shape.head_dim, scores_size = shape.q_len * shape.kv_len;
  const Bounded cap = exact(shape.softcap);
  HeadReplay head{std::vector<Bounded>(scores_size), std::vector<Bounded>(scores_size),
                  std::vector<Bounded>(scores_size), std::vector<KeyRange>(shape.q_len)};
  for (uint64_t row = 0; row < shape.q_len; ++row) {
    const KeyRange seen = head.visible[row] = visible_keys(shape, row);
    Bounded* scores = head.scores.data() + row * shape.kv_len;
    for (uint64_t j = seen.first; j < seen.end; ++j) {
      AnyOrderDot dot;
      for (uint64_t t = 0; t < d; ++t) dot.add(exact(q_head[row * d + t]), exact(k_head[j * d + t]));
      scores[j] = dot.result() * scale;
      if (shape.softcap > 0) {
        const Bounded t = tanh(scores[j] * (exact(1) / cap));
        scores[j] = cap * t;
        head.cap_slopes[row * shape.kv_len + j] = exact(1) - t * t;
      }
    }
    const Bounded lse = replay_log_sum_exp(scores, seen, block_kv);
    for (uint64_t j = seen.first; j < seen.end; ++j) head.probabilities[row * shape.kv_len + j] = exp(scores[j] - lse);
  }
  return head;
}

// Writes the replay of a [rows × head_dim] head's sums, times `scale` and rounded, into head
// `head` of a [rows × heads·head_dim] tensor.
void store_head(const std::vector<AnyOrderDot>& sums, uint64_t rows, uint64_t heads, uint64_t head_dim, uint64_t head,
                Bounded scale, arch::DType dtype, std::vector<Bounded>& out) {
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t t = 0; t < head_dim; ++t) {
      out[(row * heads + head) * head_dim + t] = rounded(sums[row * head_dim + t].result() * scale, dtype);
    }
  }
}

}  // namespace

NumericsReport compare_attention_backward(const std::vector<float>& q, const std::vector<float>& k,
                                          const std::vector<float>& v, const std::vector<float>& d_out,
                                          const AttentionShape& shape, uint64_t block_kv,
                                          const AttentionGradients<float>& output, arch::DType dtype) {
  require_floating_format(dtype, "compare_attention_backward");
  const AttentionGradients<double> reference =
      attention_backward_reference(to_double(q), to_double(k), to_double(v), to_double(d_out), shape);
  const std::vector<double> out = attention_reference(to_double(q), to_double(k), to_double(v), shape);
  const std::vector<double> out_bounds =
      attention_error_bounds(q, k, v, shape, {AttentionKernel::Kind::Fused, block_kv}, dtype);
  const uint64_t d = shape.head_dim, q_len = shape.q_len, kv_len = shape.kv_len;
  const uint64_t group = shape.q_heads / shape.kv_heads;
  const Bounded scale = constant(1.0f / std::sqrt(static_cast<float>(d)), 1 / std::sqrt(static_cast<double>(d)));
  std::vector<Bounded> dq(q.size()), dk(k.size()), dv(v.size());
  for (uint64_t kv_head = 0; kv_head < shape.kv_heads; ++kv_head) {
    const std::vector<float> k_head = head_slice(k, kv_len, shape.kv_heads, d, kv_head);
    const std::vector<float> v_head = head_slice(v, kv_len, shape.kv_heads, d, kv_head);
    std::vector<AnyOrderDot> dk_sums(kv_len * d), dv_sums(kv_len * d);
    for (uint64_t head = kv_head * group; head < (kv_head + 1) * group; ++head) {
      const std::vector<float> q_head = head_slice(q, q_len, shape.q_heads, d, head);
      const std::vector<float> do_head = head_slice(d_out, q_len, shape.q_heads, d, head);
      const HeadReplay replay = replay_head(q_head, k_head, shape, block_kv, scale);
      std::vector<AnyOrderDot> dq_sums(q_len * d);
      for (uint64_t row = 0; row < q_len; ++row) {
        // D = Σ dO·O in order, O within the fused forward's bound of the exact output.
        Bounded delta;
        for (uint64_t t = 0; t < d; ++t) {
          const uint64_t index = (row * shape.q_heads + head) * d + t;
          delta = delta + exact(do_head[row * d + t]) * Bounded{out[index], out_bounds[index]};
        }
        for (uint64_t j = replay.visible[row].first; j < replay.visible[row].end; ++j) {
          AnyOrderDot dp;
          for (uint64_t t = 0; t < d; ++t) dp.add(exact(do_head[row * d + t]), exact(v_head[j * d + t]));
          const Bounded p = replay.probabilities[row * kv_len + j];
          Bounded ds = p * (dp.result() - delta);
          if (shape.softcap > 0) ds = ds * replay.cap_slopes[row * kv_len + j];
          for (uint64_t t = 0; t < d; ++t) {
            dv_sums[j * d + t].add(p, exact(do_head[row * d + t]));
            dk_sums[j * d + t].add(ds, exact(q_head[row * d + t]));
            dq_sums[row * d + t].add(ds, exact(k_head[j * d + t]));
          }
        }
      }
      store_head(dq_sums, q_len, shape.q_heads, d, head, scale, dtype, dq);
    }
    store_head(dk_sums, kv_len, shape.kv_heads, d, kv_head, scale, dtype, dk);
    store_head(dv_sums, kv_len, shape.kv_heads, d, kv_head, exact(1), dtype, dv);
  }
  return combine_outputs({{"dQ", compare_with_replay(output.dq, reference.dq, dq, dtype, "dQ")},
                          {"dK", compare_with_replay(output.dk, reference.dk, dk, dtype, "dK")},
                          {"dV", compare_with_replay(output.dv, reference.dv, dv, dtype, "dV")}},
                         "fp64 exact attention gradient of the same " + std::string(arch::to_string(dtype)) +
                             " Q, K, V, dO vs the FlashAttention-2 backward (block_kv " + std::to_string(block_kv) +
                             "); every element within the running error bound of its fp32 steps, O's and L's "
                             "forward errors included");
}

}  // namespace tessel::sim
