#include "workloads/op_vector_work.h"

#include <stdexcept>

namespace tessel::workloads {

namespace {

// Each figure counts the elementary operations of a straightforward kernel.
VectorWork rows_work(OpKind kind, const RowsShape& s) {
  VectorWork work;
  work.elements = s.rows * s.cols;
  work.rows = s.rows;
  switch (kind) {
    case OpKind::LayerNorm:
      // Pass 1 sums x (1 add); pass 2 sums (x − mean)² (sub, mul, add); pass 3 writes
      // (x − mean)·rstd·γ + β (sub, mul, mul, add). Per row: mean = sum/n, var = sumsq/n,
      // var + eps (3 ALU) and one rsqrt.
      work.alu_per_element = 1 + 3 + 4;
      work.alu_per_row = 3;
      work.special_per_row = 1;
      work.passes = 3;
      break;
    case OpKind::RmsNorm:
      // Pass 1 sums x² (mul, add); pass 2 writes x·rrms·γ (mul, mul). Per row: sumsq/n and
      // + eps (2 ALU) and one rsqrt.
      work.alu_per_element = 2 + 2;
      work.alu_per_row = 2;
      work.special_per_row = 1;
      work.passes = 2;
      break;
    case OpKind::Gelu:
      // The tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): x², x³, ·0.044715, + x,
      // ·√(2/π), + 1, ·x, ·0.5 (8 ALU) and one tanh. The erf form costs about the same.
      work.alu_per_element = 8;
      work.special_per_element = 1;
      work.passes = 1;
      break;
    case OpKind::Relu:
      work.alu_per_element = 1;  // max(x, 0)
      work.passes = 1;
      break;
    case OpKind::SiluMul:
      // silu(g)·u = g·u / (1 + exp(−g)): negate, + 1, ·g, ·u (4 ALU); exp and reciprocal.
      work.alu_per_element = 4;
      work.special_per_element = 2;
      work.passes = 1;
      break;
    case OpKind::GeluMul:
      // The tanh-form GELU of g (8 ALU and a tanh, as Gelu), times u (1).
      work.alu_per_element = 9;
      work.special_per_element = 1;
      work.passes = 1;
      break;
    case OpKind::ResidualAdd:
      work.alu_per_element = 1;
      work.passes = 1;
      break;
    case OpKind::LayerNormBackward:
      // With the saved mean and rstd: x̂ = (x − mean)·rstd (2), g = dy·γ (1), Σg (1) and
      // Σg·x̂ (2) in pass 1; dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) (4), γ's gradient dy·x̂
      // summed (2) and β's dy summed (1) in pass 2. Per row: the two means (2 ALU).
      work.alu_per_element = 13;
      work.alu_per_row = 2;
      work.passes = 2;
      break;
    case OpKind::RmsNormBackward:
      // x̂ = x·rrms (1), g = dy·γ (1), Σg·x̂ (2); dx = rrms·(g − x̂·mean(g·x̂)) (3), γ's
      // gradient dy·x̂ summed (2). Per row: the mean (1 ALU).
      work.alu_per_element = 9;
      work.alu_per_row = 1;
      work.passes = 2;
      break;
    case OpKind::GeluBackward:
      // The tanh form's inner value again (5 ALU) and its tanh; the derivative
      // 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²) (9 ALU); times dy (1).
      work.alu_per_element = 15;
      work.special_per_element = 1;
      work.passes = 1;
      break;
    case OpKind::ReluBackward:
      work.alu_per_element = 1;  // dy where x > 0
      work.passes = 1;
      break;
    case OpKind::SiluMulBackward:
      // s = sigmoid(g) (negate, + 1; exp and reciprocal), silu = g·s, d(up) = dy·silu,
      // d(gate) = dy·u·s·(1 + g·(1 − s)): 10 ALU and 2 special.
      work.alu_per_element = 10;
      work.special_per_element = 2;
      work.passes = 1;
      break;
    case OpKind::GeluMulBackward:
      // The inner value (5 ALU) and its tanh t; gelu(g) = 0.5·g·(1 + t) (3) for d(up) = dy·gelu
      // (1); GeluBackward's derivative (9) for d(gate) = dy·u·gelu'(g) (2).
      work.alu_per_element = 20;
      work.special_per_element = 1;
      work.passes = 1;
      break;
    case OpKind::CrossEntropy:
      // The logits' softmax (max, x − max, exp, sum, ·1/sum) kept for the backward pass; per
      // row the log of the sum and the target's logit make the loss.
      work.alu_per_element = 4;
      work.special_per_element = 1;
      work.alu_per_row = 2;
      work.special_per_row = 2;
      work.passes = 3;
      break;
    case OpKind::CrossEntropyBackward:
      // (softmax − one-hot) scaled by the loss's 1/tokens: a multiply each, a subtract a row.
      work.alu_per_element = 1;
      work.alu_per_row = 1;
      work.passes = 1;
      break;
    case OpKind::Quantize:
      // |x| into the running maximum (abs, max), x·scale, and the saturating conversion.
      work.alu_per_element = 4;
      work.passes = 1;
      break;
    default:
      throw std::logic_error("rows_work: " + kind_name(kind) + " is not a rows op");
  }
  return work;
}

VectorWork softcap_work(OpKind kind, const SoftcapShape& s) {
  // Forward: x·(1/c), tanh, ·c. Backward, from the saved y: t = y·(1/c), 1 − t², ·dy.
  VectorWork work;
  work.elements = s.rows * s.cols;
  work.rows = s.rows;
  work.alu_per_element = kind == OpKind::Softcap ? 2 : 4;
  work.special_per_element = kind == OpKind::Softcap ? 1 : 0;
  work.passes = 1;
  return work;
}

VectorWork softmax_work(const SoftmaxShape& s) {
  // Pass 1 finds the row max (compare; with a causal mask, a select first); pass 2 writes
  // e = exp((x − max)·(1/√d)) and sums it (sub, mul, exp, add), the attention scale folded
  // in; pass 3 multiplies e by 1/sum (mul). Per row: one reciprocal.
  VectorWork work;
  work.elements = s.rows * s.cols;
  work.rows = s.rows;
  work.alu_per_element = 1 + 3 + 1 + (s.causal ? 1 : 0);
  work.special_per_element = 1;
  work.special_per_row = 1;
  work.passes = 3;
  return work;
}

VectorWork softmax_backward_work(const SoftmaxShape& s) {
  // Pass 1 sums dy·y along the row (mul, add); pass 2 writes y·(dy − sum) (sub, mul).
  VectorWork work;
  work.elements = s.rows * s.cols;
  work.rows = s.rows;
  work.alu_per_element = 4;
  work.passes = 2;
  return work;
}

VectorWork attention_backward_work(const AttentionShape& s) {
  // FlashAttention-2's backward recomputes each unmasked score's probability from the saved
  // log-sum-exp (scale, subtract; exp) and forms dS = P·(dP − D) (sub, mul) and its scale (mul).
  // Per query row: D = Σ dO·O over head_dim (mul, add).
  // With a softcap the capped score is recomputed too (scale, tanh, scale) and dS passes through
  // its derivative 1 − t² (square, subtract, multiply).
  VectorWork work;
  work.elements = attended_scores(s);
  work.rows = s.batch * s.heads * s.q_len;
  work.alu_per_element = 5 + (s.softcap > 0 ? 5 : 0);
  work.special_per_element = 1 + (s.softcap > 0 ? 1 : 0);
  work.alu_per_row = 2 * s.head_dim;
  work.passes = 1;
  return work;
}

VectorWork optimizer_work(const OptimizerShape& s) {
  // AdamW on each parameter: m = β1·m + (1 − β1)·g (3), v = β2·v + (1 − β2)·g² (4), the bias
  // corrections (2), m̂ / (√v̂ + ε) (1; sqrt and divide), w −= lr·(update + λ·w) (4) and the
  // copy in the compute format (1).
  VectorWork work;
  work.elements = s.parameters;
  work.alu_per_element = 15;
  work.special_per_element = 2;
  work.passes = 1;
  return work;
}

VectorWork attention_softmax_work(const AttentionShape& s) {
  // Online softmax in one sweep over the unmasked scores only (masked blocks are skipped):
  // running max (compare), x − max, ·(1/√d), exp, sum add. Per query row: 1/sum and the
  // head_dim multiplies that normalise the output row. The rescale of the running sums per
  // K/V block depends on the block size, a mapping choice, and is left to the mapper. A softcap
  // adds c·tanh(x/c) to each score: two multiplies and a tanh.
  VectorWork work;
  work.elements = attended_scores(s);
  work.rows = s.batch * s.heads * s.q_len;
  work.alu_per_element = 4 + (s.softcap > 0 ? 2 : 0);
  work.special_per_element = 1 + (s.softcap > 0 ? 1 : 0);
  work.alu_per_row = s.head_dim;
  work.special_per_row = 1;
  work.passes = 1;
  return work;
}

}  // namespace

std::optional<VectorWork> vector_work_of(const Op& op) {
  const OpKind kind = op.kind;
  switch (kind) {
    case OpKind::Softmax:
      return softmax_work(op.shape_as<SoftmaxShape>());
    case OpKind::LayerNorm:
    case OpKind::RmsNorm:
    case OpKind::Gelu:
    case OpKind::Relu:
    case OpKind::SiluMul:
    case OpKind::GeluMul:
    case OpKind::ResidualAdd:
      return rows_work(kind, RowsShape{op.shape_as<RowsShape>().rows, active_cols(op)});
    case OpKind::Softcap:
    case OpKind::SoftcapBackward:
      return softcap_work(kind, op.shape_as<SoftcapShape>());
    case OpKind::Rope: {
      // x·cos + rotate_half(x)·sin: 2 mul and 1 add (rotate_half's sign folds into a sub).
      const auto& s = op.shape_as<RopeShape>();
      VectorWork work;
      work.elements = s.tokens * s.heads * s.rotary_dim;
      work.rows = s.tokens * s.heads;
      work.alu_per_element = 3;
      work.passes = 1;
      return work;
    }
    case OpKind::Attention:
      return attention_softmax_work(op.shape_as<AttentionShape>());
    case OpKind::SoftmaxBackward:
      return softmax_backward_work(op.shape_as<SoftmaxShape>());
    case OpKind::LayerNormBackward:
    case OpKind::RmsNormBackward:
    case OpKind::GeluBackward:
    case OpKind::ReluBackward:
    case OpKind::SiluMulBackward:
    case OpKind::GeluMulBackward:
    case OpKind::CrossEntropy:
    case OpKind::CrossEntropyBackward:
    case OpKind::Quantize:
      return rows_work(kind, op.shape_as<RowsShape>());
    case OpKind::AttentionBackward:
      return attention_backward_work(op.shape_as<AttentionShape>());
    case OpKind::EmbeddingBackward: {
      const auto& s = op.shape_as<EmbeddingShape>();
      VectorWork work;
      work.elements = s.tokens * s.hidden;
      work.rows = s.tokens;
      work.alu_per_element = 1;
      work.passes = 1;
      return work;
    }
    case OpKind::AdamW:
      return optimizer_work(op.shape_as<OptimizerShape>());
    case OpKind::Dropout:
    case OpKind::DropoutBackward: {
      // Forward: a counter-based random number (Philox-4x32-10 makes four in about 100 integer
      // operations), its compare with the probability, the mask stored and x·1/(1 − p) kept;
      // backward: dy times the mask and the scale.
      const auto& s = op.shape_as<DropoutShape>();
      VectorWork work;
      work.elements = s.rows * s.cols;
      work.alu_per_element = kind == OpKind::Dropout ? 28 : 2;
      work.passes = 1;
      return work;
    }
    case OpKind::GradientNorm:
    case OpKind::GradientUnscale: {
      // g² summed (mul, add); or g·(1/scale) and a finiteness test (mul, compare).
      VectorWork work;
      work.elements = op.shape_as<OptimizerShape>().parameters;
      work.alu_per_element = 2;
      work.passes = 1;
      return work;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace tessel::workloads
