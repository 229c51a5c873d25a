#include "sim/numerics/op_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/numerics/attention.h"
#include "sim/numerics/attention_check.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_check.h"

namespace tessel::sim {
namespace {

using workloads::Op;
using workloads::OpKind;

constexpr float kNormEps = 1e-5f;

// rounded_output_bound covers RoPE angles of positions below 2^14 only (op_error.h).
constexpr uint64_t kRopePositions = uint64_t{1} << 14;

std::string dtype_name(arch::DType dtype) { return std::string(arch::to_string(dtype)); }

NumericsReport not_checked(arch::DType dtype, std::string why) {
  NumericsReport report;
  report.dtype = dtype_name(dtype);
  report.reference = std::move(why);
  return report;
}

NumericsReport with_scope(NumericsReport report, const std::string& scope) {
  report.reference = scope + ": " + report.reference;
  return report;
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

// "rows 0-15 of 4096", or "all 16 rows" when the slice is the whole.
std::string range_text(const std::string& units, uint64_t first, uint64_t count, uint64_t total) {
  if (count == total) return "all " + std::to_string(total) + " " + units;
  return units + " " + std::to_string(first) + "-" + std::to_string(first + count - 1) + " of " +
         std::to_string(total);
}

// What one unit of a slice (a row, a batch entry, a KV-head group) costs the check.
struct UnitCost {
  uint64_t elements;
  uint64_t macs = 0;  // weighted as OpCheckLimits::max_macs says
};

// How many of `total` units fit in the limits beside `fixed` elements every slice needs;
// 0 when not even one does.
uint64_t units_within(uint64_t total, UnitCost unit, uint64_t fixed, const OpCheckLimits& limits) {
  if (fixed > limits.max_elements || unit.elements > limits.max_elements - fixed) return 0;
  uint64_t units =
      std::min(total, (limits.max_elements - fixed) / std::max<uint64_t>(unit.elements, 1));
  if (unit.macs > 0) units = std::min(units, limits.max_macs / unit.macs);
  return units;
}

NumericsReport too_large(arch::DType dtype, const std::string& unit_name, UnitCost unit,
                         uint64_t fixed, const OpCheckLimits& limits) {
  const bool elements = fixed + unit.elements > limits.max_elements;
  return not_checked(dtype, "not checked: one " + unit_name + " needs " +
                                std::to_string(elements ? fixed + unit.elements : unit.macs) +
                                (elements ? " elements" : " MACs (weighted)") +
                                ", over the check's limit of " +
                                std::to_string(elements ? limits.max_elements : limits.max_macs));
}

// Normal draws rounded to the check's format: the inputs the datapath would read.
class InputDraws {
 public:
  InputDraws(uint64_t seed, arch::DType dtype) : engine_(seed), dtype_(dtype) {}

  std::vector<float> normal(uint64_t count, float mean, float stddev) {
    std::normal_distribution<float> distribution(mean, stddev);
    std::vector<float> values(count);
    for (float& value : values) value = round_to_format(distribution(engine_), dtype_);
    return values;
  }

 private:
  std::mt19937_64 engine_;
  arch::DType dtype_;
};

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
  uint64_t rows = units_within(op_shape.rows, row, 0, limits);
  if (rows == 0) return too_large(dtype, "row", row, 0, limits);
  const SoftmaxMask mask = op_shape.causal ? SoftmaxMask::Causal : SoftmaxMask::None;
  // The causal mask is aligned to the end: row i of r rows sees cols - r + i + 1 keys. So r of
  // the op's rows keep their own masks as a problem of r rows only if they are its last r.
  // An op of more rows than keys stacks one masked matrix per sequence and head, whose query
  // count the shape does not give; its last r <= cols rows are checked as the last r
  // queries of one matrix, which they are whenever matrices have r queries or more.
  if (op_shape.causal) rows = std::min(rows, op_shape.cols);
  const uint64_t first = op_shape.causal ? op_shape.rows - rows : 0;
  InputDraws draws(seed, dtype);
  // Attention logits spread over several units (stddev 3 here): rows get a few dominant
  // entries and tails that underflow in fp16 and fp8, which a spread of 1 would not test.
  const std::vector<float> x = draws.normal(rows * op_shape.cols, 0, 3);
  const RowShape slice{rows, op_shape.cols};
  const NumericsReport report =
      compare_softmax_rows(x, slice, mask, softmax_rows(x, slice, mask, dtype), dtype);
  std::string scope = range_text("rows", first, rows, op_shape.rows);
  if (op_shape.causal) {
    scope += " (causal: the last " + std::to_string(rows) + " queries of " +
             std::to_string(op_shape.cols) + " keys)";
  }
  return with_scope(report, scope);
}

NumericsReport check_rope(const workloads::RopeShape& op_shape, arch::DType dtype, uint64_t seed,
                          const OpCheckLimits& limits) {
  const uint64_t cols = op_shape.heads * op_shape.head_dim;
  const UnitCost token{2 * cols};
  uint64_t tokens = units_within(op_shape.tokens, token, 0, limits);
  if (tokens == 0) return too_large(dtype, "token", token, 0, limits);
  tokens = std::min(tokens, kRopePositions);
  // The shape does not say where its tokens sit in their sequences (a decode step's follow
  // the cache): the slice is taken as positions 0 .. tokens - 1, a prefill's.
  const RopeLayout layout{op_shape.head_dim, 0};
  const RowShape slice{tokens, cols};
  InputDraws draws(seed, dtype);
  const std::vector<float> x = draws.normal(tokens * cols, 0, 1);
  const NumericsReport report =
      compare_rope_half_split(x, slice, layout, rope_half_split(x, slice, layout, dtype), dtype);
  return with_scope(report,
                    range_text("tokens", 0, tokens, op_shape.tokens) + " at positions from 0");
}

// ---- Matrix products -------------------------------------------------------------------

// NaN-keeping max and min: a NaN error must survive the aggregation.
double worse_high(double current, double next) {
  return (next > current || std::isnan(next)) ? next : current;
}
double worse_low(double current, double next) {
  return (next < current || std::isnan(next)) ? next : current;
}

NumericsReport worst_of(NumericsReport total, const NumericsReport& next) {
  total.passed = total.passed && next.passed;
  total.max_abs_error = worse_high(total.max_abs_error, next.max_abs_error);
  total.relative_error = worse_high(total.relative_error, next.relative_error);
  total.sqnr_db = worse_low(total.sqnr_db, next.sqnr_db);
  total.error_bound = worse_high(total.error_bound, next.error_bound);
  total.quantization_sqnr_db = worse_low(total.quantization_sqnr_db, next.quantization_sqnr_db);
  return total;
}

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

// 64 keys per tile, as flash kernels commonly use; a quarter of the keys when there are
// fewer than 256, so that short sequences still take several tiles and their rescaling.
uint64_t attention_block_kv(uint64_t kv_len) {
  return std::min<uint64_t>(64, arch::ceil_div(kv_len, 4));
}

UnitCost group_cost(const workloads::AttentionShape& s) {
  const uint64_t group = s.heads / s.kv_heads;
  const uint64_t scores =
      s.causal ? workloads::causal_pairs(s.q_len, s.kv_len) : s.q_len * s.kv_len;
  // Q and O of the group's query heads, its K and V, and their S and P.
  const uint64_t elements =
      2 * group * s.q_len * s.head_dim + 2 * s.kv_len * s.head_dim + 2 * group * s.q_len * s.kv_len;
  return {elements, kAttentionMacCost * 2 * group * scores * s.head_dim};
}

std::string attention_scope(const workloads::AttentionShape& op_shape, uint64_t kv_groups, uint64_t queries) {
  const uint64_t group = op_shape.heads / op_shape.kv_heads;
  std::string scope = "batch entry 0 of " + std::to_string(op_shape.batch) + ", " +
                      range_text("heads", 0, kv_groups * group, op_shape.heads) + " (" +
                      range_text("KV heads", 0, kv_groups, op_shape.kv_heads) + ")";
  if (queries < op_shape.q_len) {
    scope += ", " + range_text("queries", op_shape.q_len - queries, queries, op_shape.q_len) +
             " (the last: an end-aligned causal mask gives them the op's own)";
  }
  return scope;
}

// The most trailing queries of one KV-head group a check can afford, 0 if not even one.
// Query i of the last r sees the keys it sees in the whole op (the mask is end-aligned), so
// the slice is an attention of its own.
uint64_t affordable_queries(const workloads::AttentionShape& op_shape, const OpCheckLimits& limits) {
  uint64_t low = 0, high = op_shape.q_len;
  while (low < high) {
    const uint64_t mid = (low + high + 1) / 2;
    workloads::AttentionShape slice = op_shape;
    slice.q_len = mid;
    if (units_within(1, group_cost(slice), 0, limits) == 1) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

NumericsReport check_attention(const workloads::AttentionShape& op_shape, arch::DType dtype,
                               uint64_t seed, const OpCheckLimits& limits) {
  const uint64_t group = op_shape.heads / op_shape.kv_heads;
  const uint64_t kv_len = op_shape.kv_len, d = op_shape.head_dim;
  uint64_t kv_groups = units_within(op_shape.kv_heads, group_cost(op_shape), 0, limits);
  uint64_t q_len = op_shape.q_len;
  if (kv_groups == 0) {
    q_len = affordable_queries(op_shape, limits);
    if (q_len == 0) {
      workloads::AttentionShape one_query = op_shape;
      one_query.q_len = 1;
      return too_large(dtype, "query of a KV-head group", group_cost(one_query), 0, limits);
    }
    kv_groups = 1;
  }
  // Leading whole groups are an attention of their own: query head h still reads KV head
  // h / group. Batch entries only repeat the same computation on other data.
  const AttentionShape shape{q_len, kv_len, d, kv_groups * group, kv_groups, op_shape.causal};
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
  return with_scope(report, attention_scope(op_shape, kv_groups, q_len));
}

}  // namespace

// Measured at these limits on one core of the development machine, Release build, bf16 and
// fp32 alike: the rows kinds 0.1-0.36 s (erf GELU the costliest, 128 rows of 16384);
// Softmax, 1024 rows of 2048, 0.2-0.26 s; BatchedMatmul, 2 entries of 1024x1024x128 0.35 s,
// one of 645^3 (2^28 MACs) 0.39 s; Attention, one causal 256-token head of 128 dims 0.16 s,
// a decode step over 4096 keys (12 heads, 2^22 elements) 0.5 s. Per MAC, check_gemm costs
// about 1.4 ns and a prefill attention check about 19 ns, hence kAttentionMacCost.
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
      return not_checked(dtype, "not checked: " + workloads::kind_name(op.kind) +
                                    " moves data between devices, which one device's run does not hold");
    case OpKind::BatchedMatmul:
      return check_batched_matmul(op.shape_as<workloads::BatchedMatmulShape>(), dtype, seed,
                                  limits);
    case OpKind::Attention:
      return check_attention(op.shape_as<workloads::AttentionShape>(), dtype, seed, limits);
    case OpKind::Softmax:
      return check_softmax(op.shape_as<workloads::SoftmaxShape>(), dtype, seed, limits);
    case OpKind::Rope:
      return check_rope(op.shape_as<workloads::RopeShape>(), dtype, seed, limits);
    case OpKind::LayerNorm:
    case OpKind::RmsNorm:
    case OpKind::Gelu:
    case OpKind::Relu:
    case OpKind::SiluMul:
    case OpKind::ResidualAdd:
      return check_rows(op.kind, op.shape_as<workloads::RowsShape>(), dtype, seed, limits);
    case OpKind::Linear:
      break;
  }
  throw std::logic_error("check_op: unhandled kind " + workloads::kind_name(op.kind));
}

}  // namespace tessel::sim
