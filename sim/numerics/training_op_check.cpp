#include "sim/numerics/training_op_check.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/numerics/attention.h"
#include "sim/numerics/attention_backward.h"
#include "sim/numerics/attention_backward_check.h"
#include "sim/numerics/backward_ops.h"
#include "sim/numerics/backward_ops_check.h"
#include "sim/numerics/op_check_slice.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {
namespace {

using workloads::OpKind;

constexpr float kNormEps = 1e-5f;

// ---- Row- and element-wise kinds -------------------------------------------------------

// Elements a slice of rows needs: per row (inputs, outputs and what the check derives the
// inputs from) and once (gains and their gradients).
struct RowsCost {
  uint64_t per_row;
  uint64_t fixed;
};

RowsCost rows_cost(OpKind kind, uint64_t cols) {
  switch (kind) {
    case OpKind::LayerNormBackward:
      return {3 * cols, 3 * cols};
    case OpKind::RmsNormBackward:
      return {3 * cols, 2 * cols};
    case OpKind::SiluMulBackward:
    case OpKind::GeluMulBackward:
      return {5 * cols, 0};
    case OpKind::CrossEntropy:
      return {2 * cols + 1, 0};
    case OpKind::Quantize:
      return {2 * cols, 0};  // x and its codes; the transpose holds the same codes
    default:
      return {3 * cols, 0};
  }
}

NumericsReport check_rows_slice(OpKind kind, RowShape shape, uint64_t op_rows, arch::DType dtype, InputDraws& draws) {
  const uint64_t count = shape.rows * shape.cols;
  switch (kind) {
    case OpKind::LayerNormBackward:
    case OpKind::RmsNormBackward: {
      const std::vector<float> x = draws.normal(count, 0, 1);
      const std::vector<float> dy = draws.normal(count, 0, 1);
      // Gains near 1, as trained ones stay; random so that one applied to the wrong column shows.
      const std::vector<float> gamma = draws.normal(shape.cols, 1, 0.1f);
      if (kind == OpKind::RmsNormBackward) {
        return compare_rms_norm_backward_rows(x, dy, shape, gamma, kNormEps,
                                              rms_norm_backward_rows(x, dy, shape, gamma, kNormEps, dtype), dtype);
      }
      return compare_layer_norm_backward_rows(x, dy, shape, gamma, kNormEps,
                                              layer_norm_backward_rows(x, dy, shape, gamma, kNormEps, dtype), dtype);
    }
    case OpKind::GeluBackward: {
      const std::vector<float> x = draws.normal(count, 0, 1);
      const std::vector<float> dy = draws.normal(count, 0, 1);
      return compare_gelu_tanh_backward(x, dy, gelu_tanh_backward(x, dy, dtype), dtype);
    }
    case OpKind::ReluBackward: {
      const std::vector<float> x = draws.normal(count, 0, 1);
      const std::vector<float> dy = draws.normal(count, 0, 1);
      return compare_relu_backward(x, dy, relu_backward(x, dy, dtype), dtype);
    }
    case OpKind::SiluMulBackward: {
      const std::vector<float> gate = draws.normal(count, 0, 1);
      const std::vector<float> up = draws.normal(count, 0, 1);
      const std::vector<float> dy = draws.normal(count, 0, 1);
      return compare_silu_and_multiply_backward(gate, up, dy, silu_and_multiply_backward(gate, up, dy, dtype), dtype);
    }
    case OpKind::GeluMulBackward: {
      const std::vector<float> gate = draws.normal(count, 0, 1);
      const std::vector<float> up = draws.normal(count, 0, 1);
      const std::vector<float> dy = draws.normal(count, 0, 1);
      return compare_gelu_and_multiply_backward(gate, up, dy, gelu_and_multiply_backward(gate, up, dy, dtype), dtype);
    }
    case OpKind::CrossEntropy:
    case OpKind::CrossEntropyBackward: {
      const std::vector<float> logits = draws.normal(count, 0, kScoreSpread);
      const std::vector<uint64_t> targets = draws.indices(shape.rows, shape.cols);
      const CrossEntropyOutputs<float> forward = cross_entropy_rows(logits, shape, targets, dtype);
      if (kind == OpKind::CrossEntropy) return compare_cross_entropy_rows(logits, shape, targets, forward, dtype);
      // The mean is over all the op's tokens, not the slice's.
      return compare_cross_entropy_backward_rows(
          forward.softmax, shape, targets, op_rows,
          cross_entropy_backward_rows(forward.softmax, shape, targets, op_rows, dtype), dtype);
    }
    case OpKind::Quantize: {
      // The slice is a tensor of its own: its amax and scale are its rows'.
      const std::vector<float> x = draws.normal(count, 0, 1);
      return compare_quantize_fp8_e4m3(x, quantize_fp8_e4m3(x, dtype), dtype);
    }
    default:
      throw std::logic_error("check_rows_slice: " + workloads::kind_name(kind) + " is not a RowsShape training kind");
  }
}

NumericsReport check_rows(OpKind kind, const workloads::RowsShape& op_shape, arch::DType dtype, uint64_t seed,
                          const OpCheckLimits& limits) {
  const RowsCost cost = rows_cost(kind, op_shape.cols);
  const uint64_t rows = units_within(op_shape.rows, {cost.per_row}, cost.fixed, limits);
  if (rows == 0) return too_large(dtype, "row", {cost.per_row}, cost.fixed, limits);
  InputDraws draws(seed, dtype);
  return with_scope(check_rows_slice(kind, {rows, op_shape.cols}, op_shape.rows, dtype, draws),
                    range_text("rows", 0, rows, op_shape.rows));
}

// y is what the forward kernel saved: the datapath's soft cap of inputs spread as widely as the cap.
NumericsReport check_softcap_backward(const workloads::SoftcapShape& op_shape, arch::DType dtype, uint64_t seed,
                                      const OpCheckLimits& limits) {
  const UnitCost row{4 * op_shape.cols};  // x, y, dy and dx
  const uint64_t rows = units_within(op_shape.rows, row, 0, limits);
  if (rows == 0) return too_large(dtype, "row", row, 0, limits);
  const auto cap = static_cast<float>(op_shape.cap);
  InputDraws draws(seed, dtype);
  const std::vector<float> y = softcap(draws.normal(rows * op_shape.cols, 0, cap), cap, dtype);
  const std::vector<float> dy = draws.normal(rows * op_shape.cols, 0, 1);
  return with_scope(compare_softcap_backward(y, dy, cap, softcap_backward(y, dy, cap, dtype), dtype),
                    range_text("rows", 0, rows, op_shape.rows));
}

NumericsReport check_softmax_backward(const workloads::SoftmaxShape& op_shape, arch::DType dtype, uint64_t seed,
                                      const OpCheckLimits& limits) {
  const UnitCost row{4 * op_shape.cols};  // the logits y comes from, y, dy and dx
  const SoftmaxSlice slice = softmax_slice(op_shape, row, limits);
  if (slice.rows == 0) return too_large(dtype, "row", row, 0, limits);
  const SoftmaxMask mask = op_shape.causal ? SoftmaxMask::Causal : SoftmaxMask::None;
  const RowShape shape{slice.rows, op_shape.cols};
  InputDraws draws(seed, dtype);
  // y is what the forward kernel saved: the datapath's softmax of attention-like logits.
  const std::vector<float> y =
      softmax_rows(draws.normal(slice.rows * op_shape.cols, 0, kScoreSpread), shape, mask, dtype);
  const std::vector<float> dy = draws.normal(slice.rows * op_shape.cols, 0, 1);
  return with_scope(compare_softmax_backward_rows(y, dy, shape, softmax_backward_rows(y, dy, shape, dtype), dtype),
                    softmax_scope(op_shape, slice));
}

// Forward and backward run the same map (x through the mask, or dy): one check for both. The
// mask is drawn with the op's probability.
NumericsReport check_dropout(const workloads::DropoutShape& op_shape, arch::DType dtype, uint64_t seed,
                             const OpCheckLimits& limits) {
  const UnitCost row{3 * op_shape.cols};  // x, its mask and y
  const uint64_t rows = units_within(op_shape.rows, row, 0, limits);
  if (rows == 0) return too_large(dtype, "row", row, 0, limits);
  const uint64_t count = rows * op_shape.cols;
  InputDraws draws(seed, dtype);
  const std::vector<float> x = draws.normal(count, 0, 1);
  const std::vector<uint64_t> uniform = draws.indices(count, 1u << 20);
  std::vector<uint8_t> keep(count);
  for (uint64_t i = 0; i < count; ++i) {
    keep[i] = static_cast<double>(uniform[i]) >= op_shape.probability * static_cast<double>(1u << 20) ? 1 : 0;
  }
  return with_scope(compare_dropout(x, keep, op_shape.probability, dropout(x, keep, op_shape.probability, dtype),
                                    dtype),
                    range_text("rows", 0, rows, op_shape.rows));
}

// ---- Embedding and optimizer -----------------------------------------------------------

NumericsReport check_embedding_backward(const workloads::EmbeddingShape& op_shape, arch::DType dtype, uint64_t seed,
                                        const OpCheckLimits& limits) {
  // dy's row, and at most one table row it adds into, before and after.
  const UnitCost token{3 * op_shape.hidden};
  const uint64_t tokens = units_within(op_shape.tokens, token, 0, limits);
  if (tokens == 0) return too_large(dtype, "token", token, 0, limits);
  // Only the rows the ids touch change, so the slice's table holds as many rows as it has
  // tokens (fewer when the vocabulary is smaller) and the ids repeat, as tokens of text do:
  // repeats are what accumulate.
  const uint64_t table_rows = std::min(op_shape.vocab, tokens);
  InputDraws draws(seed, dtype);
  const std::vector<uint64_t> ids = draws.indices(tokens, table_rows);
  const std::vector<float> dy = draws.normal(tokens * op_shape.hidden, 0, 1);
  // The gradient already holds other contributions (a tied LM head's, earlier micro-batches'):
  // fp32 values, drawn as such.
  InputDraws fp32_draws(seed + 1, arch::DType::Fp32);
  const std::vector<float> initial = fp32_draws.normal(table_rows * op_shape.hidden, 0, 1);
  std::vector<float> gradient = initial;
  embedding_backward(ids, dy, op_shape.hidden, gradient);
  return with_scope(compare_embedding_backward(ids, dy, op_shape.hidden, initial, gradient, dtype),
                    range_text("tokens", 0, tokens, op_shape.tokens) + ", ids in the table's first " +
                        std::to_string(table_rows) + " rows");
}

NumericsReport check_adamw(const workloads::OptimizerShape& op_shape, arch::DType dtype, uint64_t seed,
                           const OpCheckLimits& limits) {
  // Weight, gradient and moments in; weight, moments and the compute-format copy out.
  const UnitCost parameter{8};
  const uint64_t count = units_within(op_shape.parameters, parameter, 0, limits);
  if (count == 0) return too_large(dtype, "parameter", parameter, 0, limits);
  // Master state and gradients are fp32. Scales of a trained model's: weights 0.02, gradients
  // and the first moment 1e-3, the second moment the square of such a gradient.
  InputDraws draws(seed, arch::DType::Fp32);
  AdamWState<float> state{draws.normal(count, 0, 0.02f), draws.normal(count, 0, 1e-3f), draws.normal(count, 0, 1e-3f)};
  for (float& v : state.v) v *= v;
  const std::vector<float> gradient = draws.normal(count, 0, 1e-3f);
  AdamWHyperparameters hyper;
  hyper.step = kAdamWCheckStep;
  return with_scope(
      compare_adamw_update(state, gradient, hyper, adamw_update(state, gradient, hyper, dtype), dtype),
      range_text("parameters", 0, count, op_shape.parameters) + " at step " + std::to_string(kAdamWCheckStep));
}

// fp32 gradients of a trained model's scale, as check_adamw draws them.
std::vector<float> draw_gradients(uint64_t count, uint64_t seed) {
  return InputDraws(seed, arch::DType::Fp32).normal(count, 0, 1e-3f);
}

NumericsReport check_gradient_unscale(const workloads::OptimizerShape& op_shape, uint64_t seed,
                                      const OpCheckLimits& limits) {
  const UnitCost parameter{2};  // the scaled gradient and the unscaled one
  const uint64_t count = units_within(op_shape.parameters, parameter, 0, limits);
  if (count == 0) return too_large(arch::DType::Fp32, "parameter", parameter, 0, limits);
  // What the backward pass left: gradients times the loss scale, a power of two as dynamic
  // loss scaling keeps it, all finite (a step that overflowed is skipped, not checked).
  std::vector<float> scaled = draw_gradients(count, seed);
  for (float& g : scaled) g *= kUnscaleCheckLossScale;
  return with_scope(compare_unscale_gradients(scaled, kUnscaleCheckLossScale,
                                              unscale_gradients(scaled, kUnscaleCheckLossScale)),
                    range_text("parameters", 0, count, op_shape.parameters) + " at loss scale " +
                        std::to_string(static_cast<uint64_t>(kUnscaleCheckLossScale)));
}

NumericsReport check_gradient_norm(const workloads::OptimizerShape& op_shape, uint64_t seed,
                                   const OpCheckLimits& limits) {
  const UnitCost parameter{1};  // the gradient; the sum is one number
  const uint64_t count = units_within(op_shape.parameters, parameter, 0, limits);
  if (count == 0) return too_large(arch::DType::Fp32, "parameter", parameter, 0, limits);
  const std::vector<float> gradient = draw_gradients(count, seed);
  return with_scope(compare_gradient_square_sum(gradient, gradient_square_sum(gradient)),
                    range_text("parameters", 0, count, op_shape.parameters));
}

// ---- Attention -------------------------------------------------------------------------

UnitCost backward_group_cost(const workloads::AttentionShape& s) {
  const uint64_t group = s.heads / s.kv_heads;
  const uint64_t scores = workloads::attended_pairs(s);
  // Q, O, dO and dQ of the group's query heads; its K, V, dK and dV; L; and the replayed
  // scores and probabilities the check keeps for a head.
  const uint64_t elements =
      4 * group * s.q_len * s.head_dim + 4 * s.kv_len * s.head_dim + group * s.q_len + 2 * s.q_len * s.kv_len;
  return {elements, kAttentionBackwardMacCost * 5 * group * scores * s.head_dim};
}

// The most leading tokens of one KV-head group of a causal self-attention (q_len = kv_len) that
// fit: queries 0 .. r - 1 see keys 0 .. r - 1 only (a window's of them), so they are a causal
// attention of their own over r keys, where one query of all the keys (a group's least slice
// otherwise) may not fit.
uint64_t affordable_leading_tokens(const workloads::AttentionShape& op_shape, const OpCheckLimits& limits) {
  if (!op_shape.causal || op_shape.q_len != op_shape.kv_len) return 0;
  return largest_fitting(op_shape.q_len, limits, [&](uint64_t tokens) {
    workloads::AttentionShape slice = op_shape;
    slice.q_len = slice.kv_len = tokens;
    return backward_group_cost(slice);
  });
}

NumericsReport check_attention_backward(const workloads::AttentionShape& op_shape, arch::DType dtype, uint64_t seed,
                                        const OpCheckLimits& limits) {
  const uint64_t group = op_shape.heads / op_shape.kv_heads;
  const uint64_t d = op_shape.head_dim;
  const AttentionSlice slice = attention_slice(op_shape, limits, backward_group_cost);
  uint64_t kv_len = op_shape.kv_len, q_len = slice.q_len;
  std::string scope = attention_scope(op_shape, slice);
  if (q_len == 0) {
    q_len = kv_len = affordable_leading_tokens(op_shape, limits);
    if (q_len == 0) return one_query_too_large(op_shape, dtype, limits, backward_group_cost);
    scope = attention_scope(op_shape, {1, op_shape.q_len}) + ", " + range_text("tokens", 0, q_len, op_shape.q_len) +
            " (the leading queries and the keys they see: a causal attention of its own)";
  }
  const AttentionShape shape{q_len,           kv_len,           d, slice.kv_groups * group, slice.kv_groups,
                             op_shape.causal, op_shape.window, static_cast<float>(op_shape.softcap)};
  InputDraws draws(seed, dtype);
  const std::vector<float> q = draws.normal(shape.q_len * shape.q_heads * d, 0, 1);
  const std::vector<float> k = draws.normal(kv_len * shape.kv_heads * d, 0, 1);
  const std::vector<float> v = draws.normal(kv_len * shape.kv_heads * d, 0, 1);
  const std::vector<float> d_out = draws.normal(shape.q_len * shape.q_heads * d, 0, 1);
  const uint64_t block_kv = attention_block_kv(kv_len);
  // O and L as the fused forward kernel saved them.
  const FusedAttentionResult forward = attention_fused_saving_lse(q, k, v, shape, block_kv, dtype);
  const AttentionGradients<float> gradients =
      attention_backward_fused(q, k, v, forward.out, d_out, forward.log_sum_exp, shape, block_kv, dtype);
  return with_scope(compare_attention_backward(q, k, v, d_out, shape, block_kv, gradients, dtype), scope);
}

}  // namespace

NumericsReport check_training_op(const workloads::Op& op, arch::DType dtype, uint64_t seed,
                                 const OpCheckLimits& limits) {
  switch (op.kind) {
    case OpKind::SoftmaxBackward:
      return check_softmax_backward(op.shape_as<workloads::SoftmaxShape>(), dtype, seed, limits);
    case OpKind::LayerNormBackward:
    case OpKind::RmsNormBackward:
    case OpKind::GeluBackward:
    case OpKind::ReluBackward:
    case OpKind::SiluMulBackward:
    case OpKind::GeluMulBackward:
    case OpKind::CrossEntropy:
    case OpKind::CrossEntropyBackward:
    case OpKind::Quantize:
      return check_rows(op.kind, op.shape_as<workloads::RowsShape>(), dtype, seed, limits);
    case OpKind::SoftcapBackward:
      return check_softcap_backward(op.shape_as<workloads::SoftcapShape>(), dtype, seed, limits);
    case OpKind::AttentionBackward:
      return check_attention_backward(op.shape_as<workloads::AttentionShape>(), dtype, seed, limits);
    case OpKind::EmbeddingBackward:
      return check_embedding_backward(op.shape_as<workloads::EmbeddingShape>(), dtype, seed, limits);
    case OpKind::AdamW:
      return check_adamw(op.shape_as<workloads::OptimizerShape>(), dtype, seed, limits);
    case OpKind::GradientUnscale:
      return check_gradient_unscale(op.shape_as<workloads::OptimizerShape>(), seed, limits);
    case OpKind::GradientNorm:
      return check_gradient_norm(op.shape_as<workloads::OptimizerShape>(), seed, limits);
    case OpKind::Dropout:
    case OpKind::DropoutBackward:
      return check_dropout(op.shape_as<workloads::DropoutShape>(), dtype, seed, limits);
    default:
      throw std::invalid_argument("check_training_op: " + workloads::kind_name(op.kind) + " is not a training kind");
  }
}

}  // namespace tessel::sim
