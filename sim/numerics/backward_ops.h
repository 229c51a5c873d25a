// The training operators (the gradients of the vector operators, the loss, the optimizer's
// steps and fp8 training's cast) as the datapath's vector unit computes them, with the
// conventions of vector_ops.h: inputs hold values of the storage format in floats, every step
// runs in fp32, and each activation gradient is rounded to the format once. Parameter
// gradients (norm gains and shifts, the embedding table) are sums over many rows: they
// accumulate and stay in fp32, the format AdamW reads. Every function throws
// std::invalid_argument on int8 or on operands that do not match.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {

// dx = y (dy - Σ_k dy_k y_k) along each row, from the saved softmax output y. A masked entry
// has y = 0 and so gets dx = 0, whatever the mask.
std::vector<float> softmax_backward_rows(const std::vector<float>& y, const std::vector<float>& dy, RowShape shape,
                                         arch::DType dtype);

// A norm's gradients: dx [rows × cols] in the format, and the gain's (and for LayerNorm the
// shift's) gradient [cols] in fp32, summed over the rows in order. d_beta is empty for RMSNorm.
template <typename Value>
struct NormGradients {
  std::vector<Value> dx;
  std::vector<Value> d_gamma;
  std::vector<Value> d_beta;
};

// LayerNorm's backward with the mean and 1/std recomputed as layer_norm_rows computes them (what
// its kernel saves): x̂ = (x - mean)·rstd, g = dy·gamma,
// dx = rstd·((g - mean(g)) - x̂·mean(g·x̂)), d_gamma = Σ_rows dy·x̂, d_beta = Σ_rows dy.
NormGradients<float> layer_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                              const std::vector<float>& gamma, float eps, arch::DType dtype);

// RMSNorm's: rrms as rms_norm_rows computes it, x̂ = x·rrms, g = dy·gamma,
// dx = rrms·(g - x̂·mean(g·x̂)), d_gamma = Σ_rows dy·x̂.
NormGradients<float> rms_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                            const std::vector<float>& gamma, float eps, arch::DType dtype);

// dy times the derivative of the tanh-form GELU x/2 (1 + tanh(b)), b = sqrt(2/pi) (x + 0.044715 x^3):
// 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3·0.044715 x^2) with t = tanh(b).
std::vector<float> gelu_tanh_backward(const std::vector<float>& x, const std::vector<float>& dy, arch::DType dtype);

// dy where x > 0, else 0 (the derivative at 0 taken as 0, as PyTorch does).
std::vector<float> relu_backward(const std::vector<float>& x, const std::vector<float>& dy, arch::DType dtype);

// Dropout with its mask (1: kept): x·(1/(1 - p)) where kept, else 0, the scale computed in
// fp32. Its backward is the same map of dy through the same mask.
std::vector<float> dropout(const std::vector<float>& x, const std::vector<uint8_t>& keep, double probability,
                           arch::DType dtype);

// The gradients of a gated activation's act(gate)·up.
template <typename Value>
struct GatedGradients {
  std::vector<Value> d_gate;
  std::vector<Value> d_up;
};

// silu(gate)·up's: with s = sigmoid(gate) = 1 / (1 + exp(-gate)), d_up = dy·(gate·s) and
// d_gate = dy·up·s·(1 + gate·(1 - s)). Valid for |gate| < 88.
GatedGradients<float> silu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                 const std::vector<float>& dy, arch::DType dtype);

// gelu(gate)·up's with GELU's tanh form: d_up = dy·gelu(gate), d_gate = dy·up·gelu'(gate), the
// derivative as gelu_tanh_backward computes it.
GatedGradients<float> gelu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                 const std::vector<float>& dy, arch::DType dtype);

// The soft cap's gradient from its saved output y = c·tanh(x/c): dx = dy·(1 - t²), t = y·(1/c).
std::vector<float> softcap_backward(const std::vector<float>& y, const std::vector<float>& dy, float cap,
                                    arch::DType dtype);

// The gradient of rope_half_split: the rotation is orthogonal, so it is the rotation by the
// opposite angles. Computed as rope_half_split of dy with the second half of each head negated,
// negated back: negation is exact, so this is the inverse rotation's own fp32 arithmetic.
std::vector<float> rope_half_split_backward(const std::vector<float>& dy, RowShape shape, const RopeLayout& layout,
                                            arch::DType dtype);

// Adds row t of dy [tokens × hidden] into row ids[t] of the fp32 table gradient
// [vocab × hidden], token by token in fp32. Throws std::invalid_argument on an id past the table.
void embedding_backward(const std::vector<uint64_t>& ids, const std::vector<float>& dy, uint64_t hidden,
                        std::vector<float>& table_gradient);

// The loss of each token (row) of logits [tokens × vocab]: the softmax, rounded to the format
// and saved for the backward pass, and loss = log Σ exp(x - max) - (x_target - max) in fp32
// (from the fp32 sum, not the rounded softmax, whose small entries underflow).
template <typename Value>
struct CrossEntropyOutputs {
  std::vector<Value> softmax;
  std::vector<Value> loss;
};
CrossEntropyOutputs<float> cross_entropy_rows(const std::vector<float>& logits, RowShape shape,
                                              const std::vector<uint64_t>& targets, arch::DType dtype);

// d(logits) of the mean loss over `tokens` tokens from the saved softmax p:
// (p - one-hot(target)) · (1/tokens), rounded to the format. `tokens` is the whole batch's
// count, which a slice of rows must not change.
std::vector<float> cross_entropy_backward_rows(const std::vector<float>& softmax, RowShape shape,
                                               const std::vector<uint64_t>& targets, uint64_t tokens,
                                               arch::DType dtype);

struct AdamWHyperparameters {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.01f;
  uint64_t step = 1;  // the update's number t, from 1, for the bias corrections
};

// fp32 master weights and the two moments.
template <typename Value>
struct AdamWState {
  std::vector<Value> weight;
  std::vector<Value> m;
  std::vector<Value> v;
};

// The new fp32 state and the new weights rounded to the compute format, the copy the next
// forward pass reads.
struct AdamWUpdate {
  AdamWState<float> state;
  std::vector<float> compute_copy;
};

// One AdamW update in fp32 of the fp32 gradient: m = β1 m + (1 - β1) g; v = β2 v + (1 - β2) g²;
// m̂ = m / (1 - β1^t), v̂ = v / (1 - β2^t) with powf; w = w - lr (m̂ / (sqrt(v̂) + ε) + λ w).
AdamWUpdate adamw_update(const AdamWState<float>& state, const std::vector<float>& gradient,
                         const AdamWHyperparameters& hyper, arch::DType dtype);

// fp16 loss scaling undone, as PyTorch's _amp_foreach_non_finite_check_and_unscale_ does it:
// each fp32 gradient times the fp32 reciprocal 1/loss_scale, and found_inf set when any scaled
// gradient is inf or NaN (the optimizer then skips the step and the scale backs off).
template <typename Value>
struct UnscaledGradients {
  std::vector<Value> gradient;
  bool found_inf;
};
UnscaledGradients<float> unscale_gradients(const std::vector<float>& scaled, float loss_scale);

// Σ g² of the fp32 gradients in fp32 (for global-norm clipping), as a two-stage GPU reduction
// orders it: each block of kGradientNormBlock consecutive gradients summed in order into a
// partial sum, then the partial sums in order. A term passes through at most
// min(n, block) + ceil(n / block) - 1 roundings, its square's included.
inline constexpr uint64_t kGradientNormBlock = 1024;
float gradient_square_sum(const std::vector<float>& gradient);

// Transformer Engine's fp8 cast with the current tensor's scale: amax = max |x| over the
// tensor (x finite, held in `dtype`), scale = 448 / amax in fp32 (1 when amax is 0, the largest
// float when 448 / amax overflows), codes fp8_e4m3(x·scale) rounded to nearest even and
// saturated to ±448; code / scale dequantizes. Its transpose holds the same codes.
struct Fp8Tensor {
  std::vector<uint8_t> codes;
  float amax;
  float scale;
};
Fp8Tensor quantize_fp8_e4m3(const std::vector<float>& x, arch::DType dtype);

// The cast with a given scale, such as delayed scaling's from an earlier amax, under which x·scale
// may pass 448 and saturate.
std::vector<uint8_t> cast_fp8_e4m3(const std::vector<float>& x, float scale);

}  // namespace tessel::sim
