#include "sim/numerics/op_check.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/numerics/attention.h"
#include "sim/numerics/attention_check.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_check_slice.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/training_op_check.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_check.h"

namespace tessel::sim {
namespace {

using workloads::Op;
using workloads::OpKind;

constexpr float kNormEps = 1e-5f;

// rounded_output_bound covers RoPE angles of positions below 2^14 only (op_error.h).
constexpr uint64_t kRopePositions = uint64_t{1} << 14;

// ---- Row- and element-wise kinds -------------------------------------------------------

NumericsReport check_layer_norm(RowShape shape, arch::DType dtype, InputDraws& draws) {
  const std::vector<float> x = draws.normal(shape.rows * shape.cols, 0, 1);
  // Trained gains stay near 1 and shifts near 0; random ones make a gain or shift that the
  // datapath applied to the wrong column show.
  const std::vector<float> gamma = draws.normal(shape.cols, 1, 0.1f);
  const std::vector<float> beta = draws.normal(shape.cols, 0, 0.1f);
  const std::vector<float> y = layer_norm_rows(x, shape, gamma, beta, kNormEps, dtype);
  return compare_layer_norm_rows(x, shape, gamma, beta, kNormEps, y, dtype);
}

NumericsReport check_rms_norm(RowShape shape, arch::DType dtype, InputDraws& draws) {
  const std::vector<float> x = draws.normal(shape.rows * shape.cols, 0, 1);
  const std::vector<float> gamma = draws.normal(shape.cols, 1, 0.1f);
  const std::vector<float> y = rms_norm_rows(x, shape, gamma, kNormEps, dtype);
  return compare_rms_norm_rows(x, shape, gamma, kNormEps, y, dtype);
}

// max(x, 0) of a value of the format is a value of the format: nothing rounds, so anything
// but an exact result is a bug.
NumericsReport check_relu(RowShape shape, arch::DType dtype, InputDraws& draws) {
  BoundedComparison comparison;
  for (float x : draws.normal(shape.rows * shape.cols, 0, 1)) {
    const float y = round_to_format(std::max(x, 0.0f), dtype);
    comparison.add(y, std::max(static_cast<double>(x), 0.0), 0);
  }
  return comparison.report(dtype, "fp64 max(x, 0) of the same " + dtype_name(dtype) +
                                      " inputs; passed iff every element is exact");
}

NumericsReport check_rows_slice(OpKind kind, RowShape shape, arch::DType dtype, InputDraws& draws) {
  const uint64_t count = shape.rows * shape.cols;
  switch (kind) {
    case OpKind::LayerNorm:
      return check_layer_norm(shape, dtype, draws);
    case OpKind::RmsNorm:
      return check_rms_norm(shape, dtype, draws);
    case OpKind::Gelu: {
      const std::vector<float> x = draws.normal(count, 0, 1);
      return compare_gelu(x, GeluForm::Erf, gelu(x, GeluForm::Erf, dtype), dtype);
    }
    case OpKind::Relu:
      return check_relu(shape, dtype, draws);
    case OpKind::SiluMul: {
      const std::vector<float> gate = draws.normal(count, 0, 1);
      const std::vector<float> up = draws.normal(count, 0, 1);
      return compare_silu_and_multiply(gate, up, silu_and_multiply(gate, up, dtype), dtype);
    }
    case OpKind::GeluMul: {
      const std::vector<float> gate = draws.normal(count, 0, 1);
      const std::vector<float> up = draws.normal(count, 0, 1);
      return compare_gelu_and_multiply(gate, up, gelu_and_multiply(gate, up, dtype), dtype);
    }
    case OpKind::ResidualAdd: {
      const std::vector<float> a = draws.normal(count, 0, 1);
      const std::vector<float> b = draws.normal(count, 0, 1);
      return compare_residual_add(a, b, residual_add(a, b, dtype), dtype);
    }
    default:
      throw std::logic_error("check_rows_slice: " + workloads::kind_name(kind) +
                             " is not a RowsShape kind");
  }
}

// Elements a slice of rows needs: per row (inputs and output) and once (gains, shifts).
struct RowsCost {
  uint64_t per_row;
  uint64_t fixed;
};

RowsCost rows_cost(OpKind kind, uint64_t cols) {
  switch (kind) {
    case OpKind::LayerNorm:
      return {2 * cols, 2 * cols};
    case OpKind::RmsNorm:
      return {2 * cols, cols};
    case OpKind::SiluMul:
    case OpKind::GeluMul:
    case OpKind::ResidualAdd:
      return {3 * cols, 0};
    default:
      return {2 * cols, 0};
  }
}

NumericsReport check_rows(OpKind kind, const workloads::RowsShape& op_shape, arch::DType dtype,
                          uint64_t seed, const OpCheckLimits& limits) {
  const RowsCost cost = rows_cost(kind, op_shape.cols);
  const uint64_t rows = units_within(op_shape.rows, {cost.per_row}, cost.fixed, limits);
  if (rows == 0) return too_large(dtype, "row", {cost.per_row}, cost.fixed, limits);
  InputDraws draws(seed, dtype);
  return with_scope(check_rows_slice(kind, {rows, op_shape.cols}, dtype, draws),
                    range_text("rows", 0, rows, op_shape.rows));
}

NumericsReport check_softmax(const workloads::SoftmaxShape& op_shape, arch::DType dtype,
                             uint64_t seed, const OpCheckLimits& limits) {
  const UnitCost row{2 * op_shape.cols};
  const SoftmaxSlice slice = softmax_slice(op_shape, row, limits);
  if (slice.rows == 0) return too_large(dtype, "row", row, 0, limits);
  const SoftmaxMask mask = op_shape.causal ? SoftmaxMask::Causal : SoftmaxMask::None;
  InputDraws draws(seed, dtype);
  const std::vector<float> x = draws.normal(slice.rows * op_shape.cols, 0, kScoreSpread);
  const RowShape shape{slice.rows, op_shape.cols};
  return with_scope(compare_softmax_rows(x, shape, mask, softmax_rows(x, shape, mask, dtype), dtype),
                    softmax_scope(op_shape, slice));
}

// Inputs spread as widely as the cap, so that the check crosses tanh's bend into saturation.
NumericsReport check_softcap(const workloads::SoftcapShape& op_shape, arch::DType dtype, uint64_t seed,
                             const OpCheckLimits& limits) {
  const UnitCost row{2 * op_shape.cols};
  const uint64_t rows = units_within(op_shape.rows, row, 0, limits);
  if (rows == 0) return too_large(dtype, "row", row, 0, limits);
  const auto cap = static_cast<float>(op_shape.cap);
  InputDraws draws(seed, dtype);
  const std::vector<float> x = draws.normal(rows * op_shape.cols, 0, cap);
  return with_scope(compare_softcap(x, cap, softcap(x, cap, dtype), dtype), range_text("rows", 0, rows, op_shape.rows));
}

NumericsReport check_rope(const workloads::RopeShape& op_shape, arch::DType dtype, uint64_t seed,
                          const OpCheckLimits& limits) {
  const uint64_t cols = op_shape.heads * op_shape.rotary_dim;
  const UnitCost token{2 * cols};
  uint64_t tokens = units_within(op_shape.tokens, token, 0, limits);
  if (tokens == 0) return too_large(dtype, "token", token, 0, limits);
  tokens = std::min(tokens, kRopePositions);
  // The shape does not say where its tokens sit in their sequences (a decode step's follow
  // the cache): the slice is taken as positions 0 .. tokens - 1, a prefill's.
  const RopeLayout layout{op_shape.rotary_dim, 0};
  const RowShape slice{tokens, cols};
  InputDraws draws(seed, dtype);
  const std::vector<float> x = draws.normal(tokens * cols, 0, 1);
  const NumericsReport report =
      compare_rope_half_split(x, slice, layout, rope_half_split(x, slice, layout, dtype), dtype);
  return with_scope(report,
                    range_text("tokens", 0, tokens, op_shape.tokens) + " at positions from 0");
}

// ---- Matrix products -------------------------------------------------------------------

NumericsReport check_batched_matmul(const workloads::BatchedMatmulShape& op_shape,
                                    arch::DType dtype, uint64_t seed, const OpCheckLimits& limits) {
  const uint64_t m = op_shape.m, n = op_shape.n, k = op_shape.k;
  const UnitCost entry_cost{m * k + k * n + m * n, m * n * k};
  const uint64_t entries = units_within(op_shape.batch, entry_cost, 0, limits);
  if (entries == 0) return too_large(dtype, "batch entry", entry_cost, 0, limits);
  // Entries that share B (b_shared_by) only save traffic: each is a GEMM of its own, drawn
  // from its own seed. Without a mapping there is no k tile: K is summed as one chunk.
  NumericsReport total;
  for (uint64_t entry = 0; entry < entries; ++entry) {
    const NumericsReport report = check_gemm({m, n, k, dtype, k, seed + entry});
    total = entry == 0 ? report : worst_of(total, report);
  }
  return with_scope(total, range_text("batch entries", 0, entries, op_shape.batch) + ", each " +
                               std::to_string(m) + "x" + std::to_string(n) + "x" +
                               std::to_string(k) + " (m x n x k, k_tile = k), worst entry");
}

// ---- Attention -------------------------------------------------------------------------

UnitCost group_cost(const workloads::AttentionShape& s) {
  const uint64_t group = s.heads / s.kv_heads;
  const uint64_t scores = workloads::attended_pairs(s);
  // Q and O of the group's query heads, its K and V, and their S and P.
  const uint64_t elements =
      2 * group * s.q_len * s.head_dim + 2 * s.kv_len * s.head_dim + 2 * group * s.q_len * s.kv_len;
  return {elements, kAttentionMacCost * 2 * group * scores * s.head_dim};
}

NumericsReport check_attention(const workloads::AttentionShape& op_shape, arch::DType dtype,
                               uint64_t seed, const OpCheckLimits& limits) {
  const uint64_t group = op_shape.heads / op_shape.kv_heads;
  const uint64_t kv_len = op_shape.kv_len, d = op_shape.head_dim;
  const AttentionSlice slice = attention_slice(op_shape, limits, group_cost);
  if (slice.q_len == 0) return one_query_too_large(op_shape, dtype, limits, group_cost);
  const uint64_t kv_groups = slice.kv_groups, q_len = slice.q_len;
  // Leading whole groups are an attention of their own: query head h still reads KV head
  // h / group. Batch entries only repeat the same computation on other data.
  const AttentionShape shape{q_len,           kv_len,           d, kv_groups * group, kv_groups,
                             op_shape.causal, op_shape.window, static_cast<float>(op_shape.softcap)};
  InputDraws draws(seed, dtype);
  const std::vector<float> q = draws.normal(q_len * shape.q_heads * d, 0, 1);
  const std::vector<float> k = draws.normal(kv_len * kv_groups * d, 0, 1);
  const std::vector<float> v = draws.normal(kv_len * kv_groups * d, 0, 1);
  const uint64_t block_kv = attention_block_kv(kv_len);
  const std::vector<float> fused = attention_fused(q, k, v, shape, block_kv, dtype);
  const std::vector<float> unfused = attention_unfused(q, k, v, shape, dtype);
  NumericsReport report =
      compare_attention(q, k, v, shape, {AttentionKernel::Kind::Fused, block_kv}, fused, dtype);
  const NumericsReport kernels =
      compare_attention_kernels(q, k, v, shape, block_kv, unfused, fused, dtype);
  // The report's figures stay those against fp64; the kernels' agreement joins the verdict
  // and, with its own figures, the reference line.
  report.passed = report.passed && kernels.passed;
  report.reference += "; and " + kernels.reference + " (largest difference " +
                      number_text(kernels.max_abs_error) + ", largest bound " +
                      number_text(kernels.error_bound) + ")";
  return with_scope(report, attention_scope(op_shape, slice));
}

}  // namespace

// Measured at these limits on one core of the development machine, Release build, bf16 and
// fp32 alike: the rows kinds 0.1-0.36 s (erf GELU the costliest, 128 rows of 16384);
// Softmax, 1024 rows of 2048, 0.2-0.26 s; BatchedMatmul, 2 entries of 1024x1024x128 0.35 s,
// one of 645^3 (2^28 MACs) 0.39 s; Attention, one causal 256-token head of 128 dims 0.16 s,
// a decode step over 4096 keys (12 heads, 2^22 elements) 0.5 s. Per MAC, check_gemm costs
// about 1.4 ns and a prefill attention check about 19 ns, hence kAttentionMacCost. The
// training kinds, on a 7B model's ops of 4096 tokens: 0.16-0.51 s (tanh-GELU backward the
// costliest, 85 rows of 16384; AttentionBackward, the last 6 queries of a 4096-token head or
// the leading 113 tokens of an 8192-token GQA group, about 0.3 s).
OpCheckLimits default_op_check_limits() { return {uint64_t{1} << 22, uint64_t{1} << 28}; }

NumericsReport check_op(const Op& op, arch::DType dtype, uint64_t seed,
                        const OpCheckLimits& limits) {
  if (op.kind == OpKind::Linear) {
    throw std::invalid_argument("check_op: " + op.name +
                                " is a Linear; check it with check_gemm and its mapping's k tile");
  }
  if (dtype == arch::DType::Int8 && op.vector_work()) {
    return not_checked(dtype, "not checked: " + workloads::kind_name(op.kind) +
                                  " runs on the vector unit, which never computes in int8");
  }
  switch (op.kind) {
    case OpKind::KvCacheAppend:
    case OpKind::KvCacheRead:
    case OpKind::Embedding:
      return not_checked(dtype, "not checked: " + workloads::kind_name(op.kind) +
                                    " moves data and computes nothing");
    case OpKind::AllReduce:
    case OpKind::AllGather:
    case OpKind::ReduceScatter:
    case OpKind::AllToAll:
    case OpKind::Send:
    case OpKind::WaitComm:
      return not_checked(dtype, "not checked: " + workloads::kind_name(op.kind) +
                                    " moves data between devices, which one device's run does not hold");
    case OpKind::SoftmaxBackward:
    case OpKind::LayerNormBackward:
    case OpKind::RmsNormBackward:
    case OpKind::GeluBackward:
    case OpKind::ReluBackward:
    case OpKind::SiluMulBackward:
    case OpKind::GeluMulBackward:
    case OpKind::SoftcapBackward:
    case OpKind::AttentionBackward:
    case OpKind::EmbeddingBackward:
    case OpKind::CrossEntropy:
    case OpKind::CrossEntropyBackward:
    case OpKind::AdamW:
    case OpKind::Dropout:
    case OpKind::DropoutBackward:
    case OpKind::Quantize:
    case OpKind::GradientNorm:
    case OpKind::GradientUnscale:
      return check_training_op(op, dtype, seed, limits);
    case OpKind::BatchedMatmul:
      return check_batched_matmul(op.shape_as<workloads::BatchedMatmulShape>(), dtype, seed,
                                  limits);
    case OpKind::Attention:
      return check_attention(op.shape_as<workloads::AttentionShape>(), dtype, seed, limits);
    case OpKind::Softmax:
      return check_softmax(op.shape_as<workloads::SoftmaxShape>(), dtype, seed, limits);
    case OpKind::Rope:
      return check_rope(op.shape_as<workloads::RopeShape>(), dtype, seed, limits);
    case OpKind::Softcap:
      return check_softcap(op.shape_as<workloads::SoftcapShape>(), dtype, seed, limits);
    case OpKind::LayerNorm:
    case OpKind::RmsNorm:
    case OpKind::Gelu:
    case OpKind::Relu:
    case OpKind::SiluMul:
    case OpKind::GeluMul:
    case OpKind::ResidualAdd:
      return check_rows(op.kind, op.shape_as<workloads::RowsShape>(), dtype, seed, limits);
    case OpKind::Linear:
      break;
  }
  throw std::logic_error("check_op: unhandled kind " + workloads::kind_name(op.kind));
}

}  // namespace tessel::sim
