// One operator of a transformer with its shape, and the hardware-independent work it implies:
// arithmetic, elements moved, vector-unit work and parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "arch/types.h"
#include "workloads/quant_recipe.h"

namespace tessel::workloads {

enum class OpKind {
  Linear,         // activations × weights, LinearShape
  BatchedMatmul,  // activations × activations, BatchedMatmulShape
  Softmax,        // SoftmaxShape
  LayerNorm,      // RowsShape, as are the kinds down to ResidualAdd
  RmsNorm,
  Gelu,
  Relu,
  SiluMul,        // SwiGLU: silu(gate) · up; cols = the width of one of the two
  GeluMul,        // GeGLU: gelu(gate) · up, GELU's tanh form (Gemma); cols as SiluMul's
  Softcap,        // SoftcapShape: c·tanh(x/c), Gemma 2's cap on attention scores and logits
  ResidualAdd,    // the element-wise sum of two tensors (residuals, embedding sums)
  Rope,           // RopeShape
  KvCacheAppend,  // KvCacheShape
  KvCacheRead,    // KvCacheShape
  Embedding,      // EmbeddingShape
  Attention,      // AttentionShape: fused, flash-style
  AllReduce,      // CollectiveShape: every device's buffer summed, the sum on every device
  AllGather,      // CollectiveShape: every device's shard, concatenated on every device
  ReduceScatter,  // CollectiveShape: every device's buffer summed, a 1/devices share of it on each
  AllToAll,       // CollectiveShape: every device sends its buffer's 1/devices share to each
  Send,           // SendShape: activations to the next pipeline stage (gradients to the previous)
  // Training: the gradients of the forward kinds, each of the forward op's shape.
  SoftmaxBackward,       // SoftmaxShape: dx from the saved output and dy
  LayerNormBackward,     // RowsShape: dx (and γ, β's gradients) from the saved input and dy
  RmsNormBackward,       // RowsShape
  GeluBackward,          // RowsShape
  ReluBackward,          // RowsShape
  SiluMulBackward,       // RowsShape: d(gate) and d(up) from the saved gate, up and dy
  GeluMulBackward,       // RowsShape: likewise for GeGLU
  SoftcapBackward,       // SoftcapShape: dx = dy·(1 − (y/c)²) from the saved output y
  AttentionBackward,     // AttentionShape: dQ, dK, dV as FlashAttention-2 computes them
  EmbeddingBackward,     // EmbeddingShape: dy's rows added into the table's gradient
  CrossEntropy,          // RowsShape (tokens × vocabulary): softmax of the logits and the loss
  CrossEntropyBackward,  // RowsShape: d(logits) = (softmax − one-hot) / tokens, from the saved softmax
  AdamW,                 // OptimizerShape: one update of fp32 master weights and moments
  GradientNorm,          // OptimizerShape: the sum of squares of the fp32 gradients (for clipping)
  GradientUnscale,       // OptimizerShape: fp16 loss scaling undone, overflow checked
  Dropout,               // DropoutShape: elements zeroed at random, the rest scaled; its mask kept
  DropoutBackward,       // DropoutShape: the gradient through the kept mask
  // RowsShape: fp8 training's cast (Transformer Engine): a tensor's absolute maximum taken for
  // its per-tensor scale, and the tensor scaled into fp8 together with its transpose, which the
  // other backward product reads.
  Quantize,
  WaitComm,              // WaitShape: the device waits for its overlapped collectives
};

// What the B operand of a Linear is.
enum class WeightRole {
  Own,       // its own parameter
  Borrowed,  // another op's parameter, read here but counted once: tied embeddings, and the
             // backward product dX = dY·Wᵀ reading the forward's W
  Gradient,  // none: B is an activation and C a weight's gradient (dW = Xᵀ·dY)
};

// How tensor parallelism splits a Linear's weight (Megatron): Column: each device holds the
// whole input and computes a slice of the output's columns; Row: each holds a slice of the
// input's columns and computes a partial sum of the whole output, which a collective after it
// completes; Whole: not split.
enum class TensorSplit { Whole, Column, Row };

// C[m×n] = A[m×k]·W[k×n] (+ bias[n]); W is a weight. With groups > 1, that many such products
// one after another, each with its own weight (the experts a device runs in a
// mixture-of-experts layer), of which the device holds `weights_held` (its experts, some of
// which may get no token; 0: one a group).
struct LinearShape {
  uint64_t m = 0;
  uint64_t n = 0;
  uint64_t k = 0;
  bool bias = false;
  WeightRole weight = WeightRole::Own;
  uint64_t groups = 1;
  uint64_t weights_held = 0;
  TensorSplit split = TensorSplit::Whole;
};

// C[i] = A[i]·B[i] for i < batch, each m×n×k; A and B are activations.
struct BatchedMatmulShape {
  uint64_t batch = 0;
  uint64_t m = 0;
  uint64_t n = 0;
  uint64_t k = 0;
  // Consecutive batch entries that read the same B: GQA/MQA, where a group of query heads
  // reads one K/V head. Must divide batch.
  uint64_t b_shared_by = 1;
  // Elements of each distinct B that come from the KV cache. The KvCacheRead op carries that
  // traffic, so it is not counted here again (see ElementCounts).
  uint64_t b_from_cache = 0;
};

// Softmax along each of `rows` rows of `cols` attention scores.
struct SoftmaxShape {
  uint64_t rows = 0;
  uint64_t cols = 0;
  bool causal = false;  // a causal mask is applied on the way in
};

// A row-wise or element-wise op over rows × cols.
struct RowsShape {
  uint64_t rows = 0;
  uint64_t cols = 0;
};

// Rotary embedding of `heads` vectors for each of `tokens` tokens, rotating rotary_dim dims of
// each (rows = tokens × heads, cols = rotary_dim): the whole head, or with a partial rotary
// embedding (GPT-NeoX's rotary_pct) its leading share, the rest left in place untouched.
struct RopeShape {
  uint64_t tokens = 0;
  uint64_t heads = 0;
  uint64_t rotary_dim = 0;
};

// c·tanh(x/c) over rows × cols (the attention scores of unfused attention, the LM head's
// logits), cap = c.
struct SoftcapShape {
  uint64_t rows = 0;
  uint64_t cols = 0;
  double cap = 0;
};

// K and V of `tokens` tokens of each of `batch` sequences: batch × tokens × kv_heads ×
// head_dim × 2 elements.
struct KvCacheShape {
  uint64_t batch = 0;
  uint64_t tokens = 0;
  uint64_t kv_heads = 0;
  uint64_t head_dim = 0;
};

// `tokens` rows of `hidden` gathered from a vocab × hidden table.
struct EmbeddingShape {
  uint64_t tokens = 0;
  uint64_t hidden = 0;
  uint64_t vocab = 0;
};

// softmax(Q·Kᵀ/√d)·V as one kernel whose scores never leave the chip. `heads` query heads
// share kv_heads K/V heads. The q_len queries are the last q_len of the kv_len positions
// (a causal mask is aligned to the end). A sliding window limits each query to the `window`
// latest positions up to its own (Mistral, Gemma 2): masked blocks beyond it are skipped.
// Gemma 2 caps each score at softcap·tanh(score/softcap) before the softmax.
struct AttentionShape {
  uint64_t batch = 0;
  uint64_t heads = 0;
  uint64_t kv_heads = 0;
  uint64_t q_len = 0;
  uint64_t kv_len = 0;
  uint64_t head_dim = 0;
  bool causal = false;
  // Leading positions whose K/V come from the KV cache; the KvCacheRead op carries their
  // traffic, so only the other kv_len − kv_cached positions are counted here.
  uint64_t kv_cached = 0;
  uint64_t window = 0;  // keys a query sees at most, its own included; 0: no window (causal only)
  double softcap = 0;   // 0: scores uncapped
};

// The devices a collective runs over: a tensor-parallel group (the shards of a layer), an
// expert-parallel group (the replicas whose experts a mixture-of-experts layer spreads over)
// or a data-parallel group (the replicas of one shard, which sum their weight gradients).
enum class CollectiveGroup { Tensor, Expert, Data };

std::string group_name(CollectiveGroup group);  // "tensor", "expert", "data"

// A collective over `devices` devices: rows × cols elements on each (AllReduce and
// ReduceScatter: the buffer each holds; AllGather: the shard each adds; AllToAll: what each
// sends in all, a 1/devices share to every member). An overlapped one runs beside the
// device's compute, after the earlier ones of its stream (its group's stream `stream`: NCCL
// runs a communicator's collectives in order, and ZeRO-3 gathers parameters on a stream of
// their own), until a WaitComm op waits for it.
struct CollectiveShape {
  uint64_t rows = 0;
  uint64_t cols = 0;
  uint64_t devices = 0;
  CollectiveGroup group = CollectiveGroup::Tensor;
  bool overlapped = false;
  uint32_t stream = 0;
};

// rows × cols activations (or, in a backward pass, gradients) pipeline stage `stage` sends
// stage `to`.
struct SendShape {
  uint64_t rows = 0;
  uint64_t cols = 0;
  uint64_t stage = 0;
  uint64_t to = 0;
};

// rows × cols elements, each dropped with `probability` (a mask of one byte each).
struct DropoutShape {
  uint64_t rows = 0;
  uint64_t cols = 0;
  double probability = 0;
};

// An optimizer step over `parameters` weights.
struct OptimizerShape {
  uint64_t parameters = 0;
};

// The device waits until the overlapped collectives of a stream (of `group`) are done, all
// but the `keep` most recently started.
struct WaitShape {
  uint64_t keep = 0;
  CollectiveGroup group = CollectiveGroup::Tensor;
  uint32_t stream = 0;
};

using OpShape = std::variant<LinearShape, BatchedMatmulShape, SoftmaxShape, RowsShape, RopeShape, KvCacheShape,
                             EmbeddingShape, AttentionShape, CollectiveShape, SendShape, OptimizerShape, WaitShape,
                             DropoutShape, SoftcapShape>;

// Elements an op reads from and writes to memory when it runs as its own kernel, each operand
// once (a row that must be streamed several times is VectorWork::passes' business). A caller
// multiplies by its dtype's bytes. A tensor passed between two ops is counted as written by
// one and read by the other; token ids are not elements and are not counted.
struct ElementCounts {
  uint64_t read = 0;
  uint64_t written = 0;
};

// What an op reads from and writes to memory, in bytes.
struct ByteCounts {
  uint64_t read = 0;
  uint64_t written = 0;
};

// The work of an op on a vector unit: per-element figures apply to `elements`, per-row ones
// (a row's reduction turned into a scale: 1/n, rsqrt, 1/sum) to `rows`; `passes` is how many
// times a real kernel sweeps the data.
struct VectorWork {
  uint64_t elements = 0;
  uint64_t rows = 0;
  uint64_t alu_per_element = 0;
  uint64_t special_per_element = 0;  // exp, rsqrt, tanh, reciprocal
  uint64_t alu_per_row = 0;
  uint64_t special_per_row = 0;
  uint64_t passes = 0;

  uint64_t alu_ops() const { return elements * alu_per_element + rows * alu_per_row; }
  uint64_t special_ops() const { return elements * special_per_element + rows * special_per_row; }
};

struct Op {
  // Throws std::invalid_argument when the shape is not the kind's, or a size is zero.
  Op(std::string op_name, OpKind op_kind, OpShape op_shape, std::optional<arch::DType> op_format = std::nullopt);

  std::string name;
  OpKind kind;
  OpShape shape;
  // The number format of its operands when not the run's: fp32 for gradients reduced in
  // single precision, fp8 for the products of fp8 training.
  std::optional<arch::DType> format;
  // Set by a precision recipe (apply_quant): how a Linear's own weight is held in memory, and
  // how the KV cache an op writes or reads is. Nothing: in the op's format.
  std::optional<StoredFormat> weight_storage;
  std::optional<StoredFormat> kv_storage;
  std::optional<WeightSparsity> weight_sparsity;  // a Linear's own weight pruned to it
  // A Linear's inputs nonzero in each token, independently (a recipe's activation_sparsity).
  std::optional<double> input_density;
  // A Linear's output neurons predicted nonzero in each token, independently: only those computed.
  // On the elementwise activation right after such a Linear: it runs over the same columns.
  std::optional<double> output_density;

  template <typename Shape>
  const Shape& shape_as() const {
    return std::get<Shape>(shape);
  }

  // Multiply-accumulates of the matrix products (Linear, BatchedMatmul, Attention); else 0.
  uint64_t macs() const;
  // 2 per MAC, plus one per bias add and one per vector ALU or special op.
  uint64_t flops() const;
  ElementCounts elements() const;
  // The format its elements are in when the run computes in `compute`, and their bytes.
  arch::DType format_in(arch::DType compute) const { return format.value_or(compute); }
  double element_bytes(arch::DType compute) const { return arch::element_bytes(format_in(compute)); }
  // Its elements in bytes: elements() at element_bytes, but for AdamW, which reads fp32
  // master weights, gradients and two moments, writes the weights and moments back and the
  // weights again in the compute format; for EmbeddingBackward, whose table gradient rows
  // are fp32; and for the dropouts, whose mask is a byte an element.
  // A Linear's weight and the KV cache are counted as they are stored (weight_storage,
  // kv_storage).
  ByteCounts bytes(arch::DType compute) const;
  // Bytes per element of a Linear's weight as stored, its scales' and sparsity metadata's share
  // included.
  double weight_bytes_per_element(arch::DType compute) const;
  // Whether a Linear's weight is stored other than dense in the format it multiplies in.
  bool weight_stored() const { return weight_storage.has_value() || weight_sparsity.has_value(); }
  // Bytes of the cache_elements the op reads from the KV cache, as stored.
  uint64_t cache_bytes(arch::DType compute) const;
  // Vector ops converting a quantized KV cache to and from `compute`'s format: two an element
  // (convert, scale) of the cache the op reads, or the append writes; 0 when not quantized.
  uint64_t cache_conversion_ops(arch::DType compute) const;
  // Bytes of the weights the op owns (parameters()), as stored.
  uint64_t parameter_bytes(arch::DType compute) const;
  // Set for the ops that run on a vector unit: the row- and element-wise kinds, and the
  // softmax inside Attention. Matrix products and pure data movement have none.
  std::optional<VectorWork> vector_work() const;
  // Weight elements the op owns: Linear weights and biases, norm scales and shifts, embedding
  // tables.
  uint64_t parameters() const;
  // The shape for reports, e.g. "32x4096x4096" (m x n x k) for a Linear.
  std::string shape_text() const;
};

std::string kind_name(OpKind kind);

// Collectives and sends: data moved between devices, which a system's links carry; and the
// waits for overlapped collectives.
bool is_communication(OpKind kind);

// The K a Linear with sparse inputs multiplies over: the inputs nonzero in any of its m rows,
// K (1 - (1 - density)^m) for independent zeros (correlated ones leave fewer), rounded up to
// whole groups of its weight's scales and N:M pattern (a gathered row takes its group's scale);
// K when its inputs are dense.
uint64_t active_k(const Op& op);
// The N a Linear with predicted output neurons computes: those nonzero in any of its m rows,
// N (1 - (1 - density)^m) rounded up; N when it has no prediction.
uint64_t active_n(const Op& op);
// The columns a row-wise op computes: those of its predicted neurons when it activates a Linear's
// (output_density, as active_n counts them); all of them otherwise.
uint64_t active_cols(const Op& op);

// Elements of the op's operands that come from the KV cache: a batched matmul's cached B
// entries, attention's cached K and V. The graph charges them to its KvCacheRead op
// (ElementCounts leaves them out), but a kernel that runs the op streams them itself.
uint64_t cache_elements(const Op& op);

// (query, key) pairs a causal mask leaves unmasked when q_len queries are the last q_len of
// kv_len positions: query i sees keys j ≤ kv_len − q_len + i.
uint64_t causal_pairs(uint64_t q_len, uint64_t kv_len);

// The (query, key) pairs one head of one sequence of the attention computes: all of them, the
// causal mask's, or with a sliding window those within `window` positions of the query too.
uint64_t attended_pairs(const AttentionShape& s);
// Those pairs over every batch entry and head.
uint64_t attended_scores(const AttentionShape& s);

}  // namespace tessel::workloads
