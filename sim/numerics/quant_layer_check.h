// A whole decoder layer under a precision recipe: what a scheme's errors become after they pass
// through norms, attention, the MLP and the residual stream, beside what one linear shows.
#pragma once

#include <cstdint>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/layer_check.h"
#include "workloads/quant_recipe.h"

namespace tessel::sim {

// Draws a layer (layer_check.h) in `dtype` and an input whose hidden states carry outlier
// channels as draw_llm_operands' activations do, then:
// - every linear's weight pruned by magnitude and quantized as the recipe stores it (its `keep`
//   globs aside: the layer has no LM head), unpacked into `dtype`; the datapath of that layer is
//   checked against the fp64 layer of the same weights within layer_amplification: `passed`,
//   `relative_error` and `error_bound` are that check's;
// - the same layer with the linears' inputs on the recipe's activation grid (int8 a scale per
//   token, fp8 one scale: the product of those values is the integer or fp8 product scaled back,
//   to fp32 rounding) and K and V on its KV cache's grid gives quantization_sqnr_db and
//   quantization_max_abs_error against the fp64 layer of the unquantized weights;
//   format_sqnr_db is the unquantized layer's on the datapath in `dtype`.
// Throws std::invalid_argument where the recipe's groups do not divide the layer's K or head_dim.
NumericsReport check_quantized_decoder_layer(const DecoderLayerShape& shape, const workloads::QuantRecipe& recipe,
                                             arch::DType dtype, uint64_t seed);

// The layer a run checks its recipe on: Llama-style, 16 tokens, heads of 64 (or of the KV cache's
// scale group where larger), 256 wide (or the weights' group, or 4 heads, where wider), half as
// many KV heads as heads, an MLP twice as wide: every K a whole number of the recipe's groups
// where they are powers of two.
DecoderLayerShape recipe_check_layer(const workloads::QuantRecipe& recipe);

// Whether a recipe changes a model's numbers (not only its shapes).
bool changes_numerics(const workloads::QuantRecipe& recipe);

}  // namespace tessel::sim
