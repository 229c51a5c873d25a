#include "workloads/op.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "workloads/op_vector_work.h"

namespace tessel::workloads {

namespace {

bool holds_kinds_shape(OpKind kind, const OpShape& shape) {
  switch (kind) {
    case OpKind::Linear:
      return std::holds_alternative<LinearShape>(shape);
    case OpKind::BatchedMatmul:
      return std::holds_alternative<BatchedMatmulShape>(shape);
    case OpKind::Softmax:
    case OpKind::SoftmaxBackward:
      return std::holds_alternative<SoftmaxShape>(shape);
    case OpKind::LayerNorm:
    case OpKind::RmsNorm:
    case OpKind::Gelu:
    case OpKind::Relu:
    case OpKind::SiluMul:
    case OpKind::GeluMul:
    case OpKind::ResidualAdd:
    case OpKind::LayerNormBackward:
    case OpKind::RmsNormBackward:
    case OpKind::GeluBackward:
    case OpKind::ReluBackward:
    case OpKind::SiluMulBackward:
    case OpKind::GeluMulBackward:
    case OpKind::CrossEntropy:
    case OpKind::CrossEntropyBackward:
    case OpKind::Quantize:
      return std::holds_alternative<RowsShape>(shape);
    case OpKind::Softcap:
    case OpKind::SoftcapBackward:
      return std::holds_alternative<SoftcapShape>(shape);
    case OpKind::Rope:
      return std::holds_alternative<RopeShape>(shape);
    case OpKind::KvCacheAppend:
    case OpKind::KvCacheRead:
      return std::holds_alternative<KvCacheShape>(shape);
    case OpKind::Embedding:
    case OpKind::EmbeddingBackward:
      return std::holds_alternative<EmbeddingShape>(shape);
    case OpKind::Attention:
    case OpKind::AttentionBackward:
      return std::holds_alternative<AttentionShape>(shape);
    case OpKind::AdamW:
    case OpKind::GradientNorm:
    case OpKind::GradientUnscale:
      return std::holds_alternative<OptimizerShape>(shape);
    case OpKind::WaitComm:
      return std::holds_alternative<WaitShape>(shape);
    case OpKind::Dropout:
    case OpKind::DropoutBackward:
      return std::holds_alternative<DropoutShape>(shape);
    case OpKind::AllReduce:
    case OpKind::AllGather:
    case OpKind::ReduceScatter:
    case OpKind::AllToAll:
      return std::holds_alternative<CollectiveShape>(shape);
    case OpKind::Send:
      return std::holds_alternative<SendShape>(shape);
  }
  return false;
}

bool all_positive(std::initializer_list<uint64_t> sizes) {
  for (const uint64_t size : sizes) {
    if (size == 0) return false;
  }
  return true;
}

// The first problem with a shape's sizes, or "" when there is none.
std::string shape_problem(const OpShape& shape) {
  const auto need = [](bool ok, const char* problem) { return ok ? std::string() : problem; };
  if (const auto* s = std::get_if<LinearShape>(&shape)) {
    return need(all_positive({s->m, s->n, s->k, s->groups}), "m, n, k and groups must be positive");
  }
  if (const auto* s = std::get_if<BatchedMatmulShape>(&shape)) {
    if (!all_positive({s->batch, s->m, s->n, s->k, s->b_shared_by})) {
      return "batch, m, n, k and b_shared_by must be positive";
    }
    if (s->batch % s->b_shared_by != 0) return "b_shared_by must divide batch";
    return need(s->b_from_cache <= s->k * s->n, "b_from_cache exceeds B's k x n elements");
  }
  if (const auto* s = std::get_if<SoftmaxShape>(&shape)) {
    return need(all_positive({s->rows, s->cols}), "rows and cols must be positive");
  }
  if (const auto* s = std::get_if<RowsShape>(&shape)) {
    return need(all_positive({s->rows, s->cols}), "rows and cols must be positive");
  }
  if (const auto* s = std::get_if<RopeShape>(&shape)) {
    return need(all_positive({s->tokens, s->heads, s->rotary_dim}),
                "tokens, heads and rotary_dim must be positive");
  }
  if (const auto* s = std::get_if<KvCacheShape>(&shape)) {
    return need(all_positive({s->batch, s->tokens, s->kv_heads, s->head_dim}),
                "batch, tokens, kv_heads and head_dim must be positive");
  }
  if (const auto* s = std::get_if<CollectiveShape>(&shape)) {
    if (!all_positive({s->rows, s->cols})) return "rows and cols must be positive";
    return need(s->devices >= 2, "a collective needs at least 2 devices");
  }
  if (const auto* s = std::get_if<SendShape>(&shape)) {
    if (!all_positive({s->rows, s->cols})) return "rows and cols must be positive";
    return need(s->to != s->stage, "a stage sends to another stage");
  }
  if (const auto* s = std::get_if<OptimizerShape>(&shape)) {
    return need(s->parameters > 0, "parameters must be positive");
  }
  if (std::holds_alternative<WaitShape>(shape)) return "";
  if (const auto* s = std::get_if<DropoutShape>(&shape)) {
    if (!all_positive({s->rows, s->cols})) return "rows and cols must be positive";
    return need(s->probability > 0 && s->probability < 1, "the probability must be in (0, 1)");
  }
  if (const auto* s = std::get_if<EmbeddingShape>(&shape)) {
    return need(all_positive({s->tokens, s->hidden, s->vocab}),
                "tokens, hidden and vocab must be positive");
  }
  if (const auto* s = std::get_if<SoftcapShape>(&shape)) {
    if (!all_positive({s->rows, s->cols})) return "rows and cols must be positive";
    return need(s->cap > 0, "the cap must be positive");
  }
  const auto& s = std::get<AttentionShape>(shape);
  if (!all_positive({s.batch, s.heads, s.kv_heads, s.q_len, s.kv_len, s.head_dim})) {
    return "batch, heads, kv_heads, q_len, kv_len and head_dim must be positive";
  }
  if (s.heads % s.kv_heads != 0) return "kv_heads must divide heads";
  if (s.window > 0 && !s.causal) return "a sliding window narrows a causal mask: it needs causal";
  if (s.softcap < 0) return "the softcap must be positive, or 0 for none";
  return need(s.kv_cached <= s.kv_len, "kv_cached exceeds kv_len");
}

uint64_t kv_elements(const KvCacheShape& s) {
  return s.batch * s.tokens * s.kv_heads * s.head_dim * 2;
}

// A cap or softcap as written in a config: 30, 50, 0.5.
std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string join_sizes(std::initializer_list<uint64_t> sizes) {
  std::string text;
  for (const uint64_t size : sizes) {
    text += (text.empty() ? "" : "x") + std::to_string(size);
  }
  return text;
}

}  // namespace

Op::Op(std::string op_name, OpKind op_kind, OpShape op_shape, std::optional<arch::DType> op_format)
    : name(std::move(op_name)), kind(op_kind), shape(std::move(op_shape)), format(op_format) {
  if (!holds_kinds_shape(kind, shape)) {
    throw std::invalid_argument("op '" + name + "': the shape is not a " + kind_name(kind) +
                                " shape");
  }
  const std::string problem = shape_problem(shape);
  if (!problem.empty()) throw std::invalid_argument("op '" + name + "': " + problem);
}

uint64_t Op::macs() const {
  switch (kind) {
    case OpKind::Linear: {
      const auto& s = shape_as<LinearShape>();
      return s.groups * s.m * s.n * s.k;
    }
    case OpKind::BatchedMatmul: {
      const auto& s = shape_as<BatchedMatmulShape>();
      return s.batch * s.m * s.n * s.k;
    }
    case OpKind::Attention: {
      // Q·Kᵀ and A·V each take head_dim MACs per attended score.
      const auto& s = shape_as<AttentionShape>();
      return 2 * attended_scores(s) * s.head_dim;
    }
    case OpKind::AttentionBackward: {
      // Q·Kᵀ again, dP = dO·Vᵀ, dV = Pᵀ·dO, dQ = dS·K and dK = dSᵀ·Q: five products of
      // head_dim MACs per attended score.
      const auto& s = shape_as<AttentionShape>();
      return 5 * attended_scores(s) * s.head_dim;
    }
    default:
      return 0;
  }
}

uint64_t Op::flops() const {
  uint64_t flops = 2 * macs();
  if (kind == OpKind::Linear) {
    const auto& s = shape_as<LinearShape>();
    if (s.bias) flops += s.groups * s.m * s.n;
  }
  if (const auto work = vector_work()) flops += work->alu_ops() + work->special_ops();
  return flops;
}

ElementCounts Op::elements() const {
  switch (kind) {
    case OpKind::Linear: {
      const auto& s = shape_as<LinearShape>();
      return {s.groups * (s.m * s.k + s.k * s.n + (s.bias ? s.n : 0)), s.groups * s.m * s.n};
    }
    case OpKind::BatchedMatmul: {
      const auto& s = shape_as<BatchedMatmulShape>();
      const uint64_t distinct_b = s.batch / s.b_shared_by;
      return {s.batch * s.m * s.k + distinct_b * (s.k * s.n - s.b_from_cache), s.batch * s.m * s.n};
    }
    case OpKind::Softmax: {
      const auto& s = shape_as<SoftmaxShape>();
      return {s.rows * s.cols, s.rows * s.cols};
    }
    case OpKind::LayerNorm: {
      const auto& s = shape_as<RowsShape>();
      return {s.rows * s.cols + 2 * s.cols, s.rows * s.cols};  // + γ and β
    }
    case OpKind::RmsNorm: {
      const auto& s = shape_as<RowsShape>();
      return {s.rows * s.cols + s.cols, s.rows * s.cols};  // + γ
    }
    case OpKind::Gelu:
    case OpKind::Relu: {
      const uint64_t elements = shape_as<RowsShape>().rows * active_cols(*this);
      return {elements, elements};
    }
    case OpKind::SiluMul:
    case OpKind::GeluMul:
    case OpKind::ResidualAdd: {
      const uint64_t elements = shape_as<RowsShape>().rows * active_cols(*this);
      return {2 * elements, elements};
    }
    case OpKind::Softcap: {
      const auto& s = shape_as<SoftcapShape>();
      return {s.rows * s.cols, s.rows * s.cols};
    }
    case OpKind::SoftcapBackward: {
      const auto& s = shape_as<SoftcapShape>();
      return {2 * s.rows * s.cols, s.rows * s.cols};  // y and dy in, dx out
    }
    case OpKind::Rope: {
      // cos and sin of each token's position: rotary_dim / 2 of each, shared by its heads.
      const auto& s = shape_as<RopeShape>();
      const uint64_t vectors = s.tokens * s.heads * s.rotary_dim;
      return {vectors + s.tokens * s.rotary_dim, vectors};
    }
    case OpKind::KvCacheAppend: {
      // Reads the new K/V the projections wrote and stores them into the cache.
      const uint64_t kv = kv_elements(shape_as<KvCacheShape>());
      return {kv, kv};
    }
    case OpKind::KvCacheRead:
      // The attention ops consume what it reads (their cache-fed share is not counted again).
      return {kv_elements(shape_as<KvCacheShape>()), 0};
    case OpKind::Embedding: {
      const auto& s = shape_as<EmbeddingShape>();
      return {s.tokens * s.hidden, s.tokens * s.hidden};
    }
    case OpKind::Attention: {
      const auto& s = shape_as<AttentionShape>();
      const uint64_t q_or_out = s.batch * s.heads * s.q_len * s.head_dim;
      const uint64_t fresh_kv = s.batch * s.kv_heads * (s.kv_len - s.kv_cached) * s.head_dim * 2;
      return {q_or_out + fresh_kv, q_or_out};
    }
    case OpKind::AllReduce: {
      // Its own buffer in, the sum out; what crosses the links is the collective's business.
      const auto& s = shape_as<CollectiveShape>();
      return {s.rows * s.cols, s.rows * s.cols};
    }
    case OpKind::AllGather: {
      const auto& s = shape_as<CollectiveShape>();
      return {s.rows * s.cols, s.rows * s.cols * s.devices};
    }
    case OpKind::ReduceScatter: {
      const auto& s = shape_as<CollectiveShape>();
      return {s.rows * s.cols, s.rows * s.cols / s.devices};
    }
    case OpKind::AllToAll: {
      const auto& s = shape_as<CollectiveShape>();
      return {s.rows * s.cols, s.rows * s.cols};
    }
    case OpKind::Send: {
      // Read here; the receiving stage writes them.
      const auto& s = shape_as<SendShape>();
      return {s.rows * s.cols, 0};
    }
    case OpKind::SoftmaxBackward: {
      const auto& s = shape_as<SoftmaxShape>();
      return {2 * s.rows * s.cols, s.rows * s.cols};  // y and dy in, dx out
    }
    case OpKind::LayerNormBackward: {
      // x and dy (and γ) in; dx, and γ's and β's gradients out. The saved mean and rstd, a
      // float or two a row, are left out.
      const auto& s = shape_as<RowsShape>();
      return {2 * s.rows * s.cols + s.cols, s.rows * s.cols + 2 * s.cols};
    }
    case OpKind::RmsNormBackward: {
      const auto& s = shape_as<RowsShape>();
      return {2 * s.rows * s.cols + s.cols, s.rows * s.cols + s.cols};
    }
    case OpKind::GeluBackward:
    case OpKind::ReluBackward: {
      const auto& s = shape_as<RowsShape>();
      return {2 * s.rows * s.cols, s.rows * s.cols};  // x and dy in, dx out
    }
    case OpKind::SiluMulBackward:
    case OpKind::GeluMulBackward: {
      const auto& s = shape_as<RowsShape>();
      return {3 * s.rows * s.cols, 2 * s.rows * s.cols};  // gate, up and dy in; their gradients out
    }
    case OpKind::AttentionBackward: {
      // Q, O and dO, and K and V in (the log-sum-exp, a float a query row, left out); dQ,
      // dK and dV out.
      const auto& s = shape_as<AttentionShape>();
      const uint64_t q_or_out = s.batch * s.heads * s.q_len * s.head_dim;
      const uint64_t kv = s.batch * s.kv_heads * s.kv_len * s.head_dim * 2;
      return {3 * q_or_out + kv, q_or_out + kv};
    }
    case OpKind::EmbeddingBackward: {
      // dy, and the gradient rows it adds into, in; those rows out.
      const auto& s = shape_as<EmbeddingShape>();
      return {2 * s.tokens * s.hidden, s.tokens * s.hidden};
    }
    case OpKind::CrossEntropy: {
      const auto& s = shape_as<RowsShape>();
      return {s.rows * s.cols, s.rows * s.cols + s.rows};  // the softmax and each token's loss
    }
    case OpKind::CrossEntropyBackward: {
      const auto& s = shape_as<RowsShape>();
      return {s.rows * s.cols, s.rows * s.cols};
    }
    case OpKind::Quantize: {
      const auto& s = shape_as<RowsShape>();
      return {s.rows * s.cols, 2 * s.rows * s.cols};  // the tensor and its transpose
    }
    case OpKind::AdamW: {
      // Master weight, gradient and the two moments in; weight, moments and the weight's
      // compute-format copy out (Op::bytes gives their formats).
      const uint64_t p = shape_as<OptimizerShape>().parameters;
      return {4 * p, 4 * p};
    }
    case OpKind::GradientNorm:
      return {shape_as<OptimizerShape>().parameters, 0};
    case OpKind::GradientUnscale: {
      const uint64_t p = shape_as<OptimizerShape>().parameters;
      return {p, p};
    }
    case OpKind::Dropout:
    case OpKind::DropoutBackward: {
      // x in, y out (dy in, dx out); the mask, in bytes, is Op::bytes' business.
      const auto& s = shape_as<DropoutShape>();
      return {s.rows * s.cols, s.rows * s.cols};
    }
    case OpKind::WaitComm:
      return {};
  }
  return {};
}

ByteCounts Op::bytes(arch::DType compute) const {
  if (kind == OpKind::AdamW) {
    const uint64_t p = shape_as<OptimizerShape>().parameters;
    const uint64_t fp32 = arch::bytes_of(arch::DType::Fp32);
    return {4 * p * fp32, 3 * p * fp32 + p * arch::bytes_of(compute)};
  }
  const arch::DType values_format = format_in(compute);
  if (const auto* s = std::get_if<DropoutShape>(&shape)) {
    const uint64_t elements = s->rows * s->cols, mask = elements;
    const uint64_t values = arch::bytes_for(elements, values_format);
    return kind == OpKind::Dropout ? ByteCounts{values, values + mask} : ByteCounts{values + mask, values};
  }
  if (kind == OpKind::Quantize) {
    const ElementCounts counts = elements();
    return {arch::bytes_for(counts.read, values_format), counts.written * arch::bytes_of(arch::DType::Fp8)};
  }
  if (kind == OpKind::EmbeddingBackward) {
    const auto& s = shape_as<EmbeddingShape>();
    const uint64_t rows = s.tokens * s.hidden * arch::bytes_of(arch::DType::Fp32);
    return {arch::bytes_for(s.tokens * s.hidden, values_format) + rows, rows};
  }
  const ElementCounts counts = elements();
  if (weight_stored()) {
    const auto& s = shape_as<LinearShape>();
    const uint64_t weight =
        s.groups * stored_weight_bytes(s.k * s.n, s.k, values_format, weight_storage, weight_sparsity);
    return {arch::bytes_for(counts.read - s.groups * s.k * s.n, values_format) + weight,
            arch::bytes_for(counts.written, values_format)};
  }
  if (kv_storage && (kind == OpKind::KvCacheAppend || kind == OpKind::KvCacheRead)) {
    const uint64_t stored = kv_storage->bytes(kv_elements(shape_as<KvCacheShape>()), 0);
    return kind == OpKind::KvCacheAppend ? ByteCounts{arch::bytes_for(counts.read, values_format), stored}
                                         : ByteCounts{stored, 0};
  }
  return {arch::bytes_for(counts.read, values_format), arch::bytes_for(counts.written, values_format)};
}

double Op::weight_bytes_per_element(arch::DType compute) const {
  if (!weight_stored()) return element_bytes(compute);
  const auto& s = shape_as<LinearShape>();
  return stored_weight_bytes_per_element(s.k, s.n, format_in(compute), weight_storage, weight_sparsity);
}

uint64_t Op::cache_bytes(arch::DType compute) const {
  const uint64_t elements = cache_elements(*this);
  return kv_storage ? kv_storage->bytes(elements, 0) : arch::bytes_for(elements, format_in(compute));
}

uint64_t Op::cache_conversion_ops(arch::DType compute) const {
  if (!kv_storage || kv_storage->format == format_in(compute)) return 0;
  return 2 * (kind == OpKind::KvCacheAppend ? elements().written : cache_elements(*this));
}

uint64_t Op::parameter_bytes(arch::DType compute) const {
  const uint64_t all = parameters();
  if (!weight_stored() || all == 0) return arch::bytes_for(all, format_in(compute));
  const auto& s = shape_as<LinearShape>();
  const uint64_t held = all / (s.k * s.n + (s.bias ? s.n : 0));
  return held * (stored_weight_bytes(s.k * s.n, s.k, format_in(compute), weight_storage, weight_sparsity) +
                 (s.bias ? arch::bytes_for(s.n, format_in(compute)) : 0));
}

std::optional<VectorWork> Op::vector_work() const { return vector_work_of(*this); }

uint64_t Op::parameters() const {
  switch (kind) {
    case OpKind::Linear: {
      const auto& s = shape_as<LinearShape>();
      if (s.weight != WeightRole::Own) return 0;
      return (s.weights_held == 0 ? s.groups : s.weights_held) * (s.k * s.n + (s.bias ? s.n : 0));
    }
    case OpKind::LayerNorm:
      return 2 * shape_as<RowsShape>().cols;
    case OpKind::RmsNorm:
      return shape_as<RowsShape>().cols;
    case OpKind::Embedding: {
      const auto& s = shape_as<EmbeddingShape>();
      return s.vocab * s.hidden;
    }
    default:
      return 0;
  }
}

std::string Op::shape_text() const {
  if (const auto* s = std::get_if<LinearShape>(&shape)) {
    const std::string sizes = join_sizes({s->m, s->n, s->k});
    return s->groups == 1 ? sizes : std::to_string(s->groups) + "*(" + sizes + ")";
  }
  if (const auto* s = std::get_if<BatchedMatmulShape>(&shape)) {
    return join_sizes({s->batch, s->m, s->n, s->k});
  }
  if (const auto* s = std::get_if<SoftmaxShape>(&shape)) return join_sizes({s->rows, s->cols});
  if (const auto* s = std::get_if<RowsShape>(&shape)) return join_sizes({s->rows, s->cols});
  if (const auto* s = std::get_if<RopeShape>(&shape)) {
    return join_sizes({s->tokens, s->heads, s->rotary_dim});
  }
  if (const auto* s = std::get_if<SoftcapShape>(&shape)) {
    return join_sizes({s->rows, s->cols}) + " cap " + number_text(s->cap);
  }
  if (const auto* s = std::get_if<KvCacheShape>(&shape)) {
    return join_sizes({s->batch, s->tokens, s->kv_heads, s->head_dim, 2});
  }
  if (const auto* s = std::get_if<EmbeddingShape>(&shape)) {
    return join_sizes({s->tokens, s->hidden}) + " of " + std::to_string(s->vocab);
  }
  if (const auto* s = std::get_if<CollectiveShape>(&shape)) {
    return join_sizes({s->rows, s->cols}) + " on " + std::to_string(s->devices) + " devices";
  }
  if (const auto* s = std::get_if<SendShape>(&shape)) {
    return join_sizes({s->rows, s->cols}) + " from stage " + std::to_string(s->stage) + " to " + std::to_string(s->to);
  }
  if (const auto* s = std::get_if<OptimizerShape>(&shape)) return std::to_string(s->parameters) + " parameters";
  if (const auto* s = std::get_if<DropoutShape>(&shape)) return join_sizes({s->rows, s->cols});
  if (const auto* s = std::get_if<WaitShape>(&shape)) {
    return "all but " + std::to_string(s->keep) + " of " + group_name(s->group) + " stream " +
           std::to_string(s->stream);
  }
  // batch x heads:kv_heads x q_len x kv_len x head_dim
  const auto& s = std::get<AttentionShape>(shape);
  return std::to_string(s.batch) + "x" + std::to_string(s.heads) + ":" + std::to_string(s.kv_heads) + "x" +
         join_sizes({s.q_len, s.kv_len, s.head_dim}) + (s.window > 0 ? " window " + std::to_string(s.window) : "") +
         (s.softcap > 0 ? " softcap " + number_text(s.softcap) : "");
}

std::string group_name(CollectiveGroup group) {
  switch (group) {
    case CollectiveGroup::Tensor: return "tensor";
    case CollectiveGroup::Expert: return "expert";
    case CollectiveGroup::Data: return "data";
  }
  return "tensor";
}

std::string kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::Linear:
      return "Linear";
    case OpKind::BatchedMatmul:
      return "BatchedMatmul";
    case OpKind::Softmax:
      return "Softmax";
    case OpKind::LayerNorm:
      return "LayerNorm";
    case OpKind::RmsNorm:
      return "RmsNorm";
    case OpKind::Gelu:
      return "Gelu";
    case OpKind::Relu:
      return "Relu";
    case OpKind::SiluMul:
      return "SiluMul";
    case OpKind::GeluMul:
      return "GeluMul";
    case OpKind::Softcap:
      return "Softcap";
    case OpKind::ResidualAdd:
      return "ResidualAdd";
    case OpKind::Rope:
      return "Rope";
    case OpKind::KvCacheAppend:
      return "KvCacheAppend";
    case OpKind::KvCacheRead:
      return "KvCacheRead";
    case OpKind::Embedding:
      return "Embedding";
    case OpKind::AllReduce:
      return "AllReduce";
    case OpKind::AllGather:
      return "AllGather";
    case OpKind::ReduceScatter:
      return "ReduceScatter";
    case OpKind::AllToAll:
      return "AllToAll";
    case OpKind::Send:
      return "Send";
    case OpKind::Attention:
      return "Attention";
    case OpKind::SoftmaxBackward:
      return "SoftmaxBackward";
    case OpKind::LayerNormBackward:
      return "LayerNormBackward";
    case OpKind::RmsNormBackward:
      return "RmsNormBackward";
    case OpKind::GeluBackward:
      return "GeluBackward";
    case OpKind::ReluBackward:
      return "ReluBackward";
    case OpKind::SiluMulBackward:
      return "SiluMulBackward";
    case OpKind::GeluMulBackward:
      return "GeluMulBackward";
    case OpKind::SoftcapBackward:
      return "SoftcapBackward";
    case OpKind::AttentionBackward:
      return "AttentionBackward";
    case OpKind::EmbeddingBackward:
      return "EmbeddingBackward";
    case OpKind::CrossEntropy:
      return "CrossEntropy";
    case OpKind::CrossEntropyBackward:
      return "CrossEntropyBackward";
    case OpKind::AdamW:
      return "AdamW";
    case OpKind::GradientNorm:
      return "GradientNorm";
    case OpKind::GradientUnscale:
      return "GradientUnscale";
    case OpKind::Dropout:
      return "Dropout";
    case OpKind::DropoutBackward:
      return "DropoutBackward";
    case OpKind::Quantize:
      return "Quantize";
    case OpKind::WaitComm:
      return "WaitComm";
  }
  return "unknown";
}

bool is_communication(OpKind kind) {
  return kind == OpKind::AllReduce || kind == OpKind::AllGather || kind == OpKind::ReduceScatter ||
         kind == OpKind::AllToAll || kind == OpKind::Send || kind == OpKind::WaitComm;
}

namespace {

// The share of a linear's `rows` tokens' channels nonzero in at least one of them, each token's
// at `density` independently.
double union_share(double density, uint64_t rows) { return 1 - std::pow(1 - density, static_cast<double>(rows)); }

// Of `width` output neurons, those predicted nonzero in at least one of `rows` tokens.
uint64_t predicted_width(uint64_t width, std::optional<double> density, uint64_t rows) {
  if (!density) return width;
  const auto n = static_cast<uint64_t>(std::ceil(static_cast<double>(width) * union_share(*density, rows)));
  return std::clamp<uint64_t>(n, 1, width);
}

}  // namespace

uint64_t active_n(const Op& op) {
  const auto& s = op.shape_as<LinearShape>();
  return predicted_width(s.n, op.output_density, s.m);
}

uint64_t active_cols(const Op& op) {
  const auto& s = op.shape_as<RowsShape>();
  return predicted_width(s.cols, op.output_density, s.rows);
}

uint64_t active_k(const Op& op) {
  const auto& s = op.shape_as<LinearShape>();
  if (!op.input_density) return s.k;
  const double nonzero = union_share(*op.input_density, s.m);
  uint64_t k = static_cast<uint64_t>(std::ceil(static_cast<double>(s.k) * nonzero));
  uint64_t granule = 1;
  if (op.weight_storage && op.weight_storage->scales == ScaleGranularity::Group) granule = op.weight_storage->group;
  if (op.weight_sparsity && op.weight_sparsity->structured()) granule = std::lcm(granule, uint64_t{op.weight_sparsity->group});
  k = arch::ceil_div(std::max<uint64_t>(k, 1), granule) * granule;
  return std::min(k, s.k);
}

uint64_t cache_elements(const Op& op) {
  if (const auto* s = std::get_if<BatchedMatmulShape>(&op.shape)) return s->batch / s->b_shared_by * s->b_from_cache;
  if (const auto* s = std::get_if<AttentionShape>(&op.shape)) return s->batch * s->kv_heads * s->kv_cached * s->head_dim * 2;
  return 0;
}

uint64_t attended_scores(const AttentionShape& s) { return s.batch * s.heads * attended_pairs(s); }

uint64_t attended_pairs(const AttentionShape& s) {
  if (!s.causal) return s.q_len * s.kv_len;
  if (s.window == 0) return causal_pairs(s.q_len, s.kv_len);
  // The query at position p (from 0) sees min(p + 1, window) keys; the queries are positions
  // kv_len − q_len .. kv_len − 1, so their sum is seen(kv_len) − seen(kv_len − q_len), where
  // seen(n) sums min(i, window) over i = 1 .. n.
  const uint64_t w = s.window;
  const auto seen = [w](uint64_t n) { return n <= w ? n * (n + 1) / 2 : w * (w + 1) / 2 + (n - w) * w; };
  return seen(s.kv_len) - seen(s.kv_len - std::min(s.q_len, s.kv_len));
}

uint64_t causal_pairs(uint64_t q_len, uint64_t kv_len) {
  // Query i sees kv_len − q_len + i + 1 keys, clipped to [0, kv_len].
  if (kv_len >= q_len) return q_len * (kv_len - q_len) + q_len * (q_len + 1) / 2;
  // The first q_len − kv_len queries see nothing; the rest see 1, 2, …, kv_len keys.
  return kv_len * (kv_len + 1) / 2;
}

}  // namespace tessel::workloads
