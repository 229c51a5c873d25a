// The transformer's vector operators as the datapath's vector unit computes them. Tensors
// are stored in the operand format (fp8 E4M3, fp16, bf16 or fp32; int8 is only for GEMM
// operands): inputs hold values of that format in floats, every step runs in fp32, and
// each output element is rounded back to the format once, with round_to_format.
// Every function throws std::invalid_argument on int8 or on operands that do not match.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"

namespace tessel::sim {

// A row-major matrix [rows × cols] in a std::vector.
struct RowShape {
  uint64_t rows;
  uint64_t cols;
};

// Causal masks are aligned to the end of the row: row i sees columns 0 .. cols - rows + i,
// as queries at the end of a key sequence do (with rows == cols, the usual triangle).
enum class SoftmaxMask { None, Causal };

// Number of columns row `row` sees. Throws std::invalid_argument when a causal mask would
// leave a row with nothing to see (rows > cols).
uint64_t visible_columns(RowShape shape, SoftmaxMask mask, uint64_t row);

// Softmax along each row, made stable by subtracting the row's maximum before exp; masked
// entries are exactly 0.
std::vector<float> softmax_rows(const std::vector<float>& x, RowShape shape, SoftmaxMask mask,
                                arch::DType dtype);

// (x - mean) / sqrt(var + eps) * gamma + beta along each row, in two passes (mean, then the
// variance of the centred values); var is the biased (population) variance.
std::vector<float> layer_norm_rows(const std::vector<float>& x, RowShape shape,
                                   const std::vector<float>& gamma, const std::vector<float>& beta,
                                   float eps, arch::DType dtype);

// x / sqrt(mean(x^2) + eps) * gamma along each row. Unlike Hugging Face's LlamaRMSNorm, the
// normalised x is not rounded to the format before the gamma multiply: one rounding at the end.
std::vector<float> rms_norm_rows(const std::vector<float>& x, RowShape shape,
                                 const std::vector<float>& gamma, float eps, arch::DType dtype);

// GELU: Erf is x/2 (1 + erf(x / sqrt 2)); Tanh is the approximation
// x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
enum class GeluForm { Erf, Tanh };
std::vector<float> gelu(const std::vector<float>& x, GeluForm form, arch::DType dtype);

// SiLU x * sigmoid(x) = x / (1 + exp(-x)). Valid for |x| < 88, where exp(-x) stays finite.
std::vector<float> silu(const std::vector<float>& x, arch::DType dtype);

// The SwiGLU gate: silu(gate) * up, fused: the SiLU is not rounded before the multiply.
std::vector<float> silu_and_multiply(const std::vector<float>& gate, const std::vector<float>& up,
                                     arch::DType dtype);

// The GeGLU gate: gelu(gate) * up with GELU's tanh form (Gemma's gelu_pytorch_tanh), fused as
// silu_and_multiply is.
std::vector<float> gelu_and_multiply(const std::vector<float>& gate, const std::vector<float>& up,
                                     arch::DType dtype);

// Gemma 2's soft cap c * tanh(x / c): x times the fp32 reciprocal of c, tanhf, times c.
std::vector<float> softcap(const std::vector<float>& x, float cap, arch::DType dtype);

// Rotary position embedding, half-split convention (Hugging Face Llama's rotate_half): in a
// head of head_dim values, element i < head_dim/2 pairs with i + head_dim/2, rotated by
// position * base^(-2i/head_dim). Row r of x is position position_offset + r (decode passes
// the cache length as the offset); each row holds cols / head_dim heads side by side.
// The angles are computed as Hugging Face does, in fp32: inv_freq = 1 / base^(2i/head_dim),
// angle = position * inv_freq, then cos and sin of it.
struct RopeLayout {
  uint64_t head_dim;
  uint64_t position_offset;
  float base = 10000.0f;
};
// Throws std::invalid_argument unless head_dim is even and divides cols.
std::vector<float> rope_half_split(const std::vector<float>& x, RowShape shape,
                                   const RopeLayout& layout, arch::DType dtype);

// a + b, the residual connection.
std::vector<float> residual_add(const std::vector<float>& a, const std::vector<float>& b,
                                arch::DType dtype);

}  // namespace tessel::sim
