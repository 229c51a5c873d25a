#include "sim/numerics/quant_layer_check.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "sim/numerics/formats.h"
#include "sim/numerics/quant_gemm_check.h"
#include "sim/numerics/quantize.h"

namespace tessel::sim {

namespace {

using arch::DType;

std::vector<double> widened(const std::vector<float>& values) { return {values.begin(), values.end()}; }

// A weight (K × N) as the recipe stores it, unpacked into `dtype`.
void store(std::vector<float>& weight, uint64_t k, uint64_t n, const workloads::QuantRecipe& recipe, DType dtype) {
  if (recipe.sparsity) weight = magnitude_pruned(weight, k, n, *recipe.sparsity);
  if (recipe.weights) weight = quantize_weight(weight, k, n, *recipe.weights).values;
  for (float& value : weight) value = round_to_format(value, dtype);
}

}  // namespace

DecoderLayerShape recipe_check_layer(const workloads::QuantRecipe& recipe) {
  const auto group_of = [](const std::optional<workloads::StoredFormat>& format) -> uint64_t {
    return format && format->scales == workloads::ScaleGranularity::Group ? format->group : 1;
  };
  const uint64_t head_dim = std::lcm(uint64_t{64}, group_of(recipe.kv_cache));
  const uint64_t weight_group = std::lcm(group_of(recipe.weights), recipe.sparsity ? recipe.sparsity->group : 1);
  const uint64_t hidden = std::lcm(std::max<uint64_t>(256, 4 * head_dim), std::max<uint64_t>(weight_group, 1));
  const uint64_t heads = hidden / head_dim;
  return {16, hidden, heads, std::max<uint64_t>(heads / 2, 1), head_dim, 2 * hidden};
}

bool changes_numerics(const workloads::QuantRecipe& recipe) {
  return recipe.quantizes_linears() || recipe.kv_cache;
}

NumericsReport check_quantized_decoder_layer(const DecoderLayerShape& shape, const workloads::QuantRecipe& recipe,
                                             DType dtype, uint64_t seed) {
  const DecoderLayer layer = draw_decoder_layer(shape, seed, dtype);
  std::vector<float> x = draw_layer_input(shape, seed + 1, dtype);
  scale_outlier_channels(x, shape.seq, shape.hidden);
  for (float& value : x) value = round_to_format(value, dtype);
  const std::vector<double> exact = decoder_layer_reference(layer, x);
  const std::vector<double> plain = widened(decoder_layer_datapath(layer, x, dtype));

  DecoderLayer stored = layer;
  const uint64_t q_width = shape.q_heads * shape.head_dim;
  const uint64_t kv_width = shape.kv_heads * shape.head_dim;
  store(stored.wq, shape.hidden, q_width, recipe, dtype);
  store(stored.wk, shape.hidden, kv_width, recipe, dtype);
  store(stored.wv, shape.hidden, kv_width, recipe, dtype);
  store(stored.wo, q_width, shape.hidden, recipe, dtype);
  store(stored.w_gate, shape.hidden, shape.intermediate, recipe, dtype);
  store(stored.w_up, shape.hidden, shape.intermediate, recipe, dtype);
  store(stored.w_down, shape.intermediate, shape.hidden, recipe, dtype);
  NumericsReport report = compare_decoder_layer(stored, x, decoder_layer_datapath(stored, x, dtype), dtype);

  if (recipe.activations) stored.activation_grid = activation_grid(*recipe.activations);
  if (recipe.kv_cache) stored.kv_grid = recipe.kv_cache->along_heads(shape.head_dim);
  const std::vector<double> scheme = widened(decoder_layer_datapath(stored, x, dtype));
  report.dtype = "a Llama-style layer of " + std::to_string(shape.seq) + " tokens, hidden " +
                 std::to_string(shape.hidden) + ", " + std::to_string(shape.q_heads) + " heads of " + std::to_string(shape.head_dim) + " (" +
                 std::to_string(shape.kv_heads) + " KV), MLP " + std::to_string(shape.intermediate) + ", in " +
                 std::string(arch::to_string(dtype)) + " under " + workloads::describe(recipe);
  report.reference += "; the scheme against the fp64 layer of the unquantized weights (hidden states with outlier "
                      "channels)";
  report.quantization_sqnr_db = sqnr_db(scheme, exact);
  report.quantization_max_abs_error = max_abs_difference(scheme, exact);
  report.format_sqnr_db = sqnr_db(plain, exact);
  return report;
}

}  // namespace tessel::sim
