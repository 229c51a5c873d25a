// A whole decoder layer of a tiny Llama-style model, computed on the datapath in one storage
// format and by an fp64 reference from the same rounded weights and input:
//   h = RMSNorm(x); q, k, v = h Wq, h Wk, h Wv; q, k = RoPE(q), RoPE(k);
//   x1 = x + causal GQA attention(q, k, v) Wo            (the fused attention kernel)
//   out = x1 + (SiLU(RMSNorm(x1) Wgate) * RMSNorm(x1) Wup) Wdown
// The linears run on datapath_gemm_float and round their outputs to the format, as every
// vector operator does.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "workloads/quant_recipe.h"

namespace tessel::sim {

struct DecoderLayerShape {
  uint64_t seq = 16;
  uint64_t hidden = 64;
  uint64_t q_heads = 4;
  uint64_t kv_heads = 2;
  uint64_t head_dim = 16;  // hidden / q_heads
  uint64_t intermediate = 128;
};

// Weights are row-major [in × out] so that a linear is x W; norms hold one gain per column.
struct DecoderLayer {
  DecoderLayerShape shape;
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  uint64_t block_kv = 4;  // keys per tile of the fused attention: four tiles over 16 positions
  uint64_t k_tile = 32;   // the linears' SRAM tile of K: two chunks of the hidden dimension
  std::vector<float> attention_norm;
  std::vector<float> wq, wk, wv, wo;
  std::vector<float> mlp_norm;
  std::vector<float> w_gate, w_up, w_down;
  // Under a precision recipe (quant_layer_check.h): each linear's input put on this grid first (int8
  // with a scale per token, fp8 with one scale), and the K and V written to the cache on this one.
  // The fp64 reference ignores both: it is the layer without them.
  std::optional<workloads::StoredFormat> activation_grid;
  std::optional<workloads::StoredFormat> kv_grid;
};

// Random weights, rounded to `dtype`: each matrix normal(0, 1/fan_in) so a linear keeps its
// input's scale and activations stay O(1); norm gains 1 + normal(0, 0.1^2). Seeded with
// std::mt19937_64. Throws std::invalid_argument for int8.
DecoderLayer draw_decoder_layer(const DecoderLayerShape& shape, uint64_t seed, arch::DType dtype);

// A random input [seq × hidden], normal(0, 1) rounded to `dtype`.
std::vector<float> draw_layer_input(const DecoderLayerShape& shape, uint64_t seed,
                                    arch::DType dtype);

// x W on the GEMM datapath with the layer's k_tile, rounded to `dtype`; x is [rows × in].
std::vector<float> datapath_linear(const DecoderLayer& layer, const std::vector<float>& x,
                                   const std::vector<float>& weight, uint64_t in, uint64_t out,
                                   arch::DType dtype);

// The two halves of the layer on the datapath: x1 = x + attention, then out = x1 + MLP.
std::vector<float> attention_sublayer(const DecoderLayer& layer, const std::vector<float>& x,
                                      arch::DType dtype);
std::vector<float> mlp_sublayer(const DecoderLayer& layer, const std::vector<float>& x1,
                                arch::DType dtype);

std::vector<float> decoder_layer_datapath(const DecoderLayer& layer, const std::vector<float>& x,
                                          arch::DType dtype);

// The same layer in fp64 from the same (already rounded) weights and input, never rounded.
std::vector<double> decoder_layer_reference(const DecoderLayer& layer, const std::vector<float>& x);

// The layer's tolerance, normwise: ||out - out_ref||_2 <= layer_amplification(F) * u_F *
// ||out_ref||_2. Too many nonlinear steps for a derived bound; layer_check.cpp says how the
// factor was set.
double layer_amplification(arch::DType dtype);

NumericsReport compare_decoder_layer(const DecoderLayer& layer, const std::vector<float>& x,
                                     const std::vector<float>& output, arch::DType dtype);

// Draws a layer and an input from `seed`, runs the datapath and compares.
NumericsReport check_decoder_layer(const DecoderLayerShape& shape, arch::DType dtype,
                                   uint64_t seed);

}  // namespace tessel::sim
