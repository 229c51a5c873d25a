// Precision recipes: the formats a model's weights, its linears' activations and its KV cache
// are kept and multiplied in, each with the granularity of its scales, as GPTQ/AWQ (W4A16),
// SmoothQuant (W8A8), fp8 checkpoints and quantized KV caches keep them. A recipe is applied
// to a graph's ops (apply_quant); the devices cost each op from what it carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/types.h"

namespace tessel::workloads {

struct Op;
struct OpGraph;

// What one scale (an fp16 number, plus a zero point in the element's format when asymmetric)
// covers.
enum class ScaleGranularity {
  Tensor,   // the whole tensor: its one scale is not counted in the bytes
  Channel,  // a weight's output column (over all of K)
  Group,    // `group` consecutive elements along K (a weight) or along a head's dims (the KV cache)
  Token,    // one token's vector of one KV head
};

std::string to_string(ScaleGranularity granularity);

// How a quantized tensor is held in memory.
struct StoredFormat {
  arch::DType format = arch::DType::Fp16;
  ScaleGranularity scales = ScaleGranularity::Tensor;
  uint64_t group = 0;  // elements a scale covers, for Group
  bool zero_points = false;

  // Bytes of a tensor of `elements` whose scales run along vectors of `run` elements (K for a
  // weight, head_dim for the KV cache): the packed values, rounded up to a byte, and each
  // scale's fp16 and zero point.
  uint64_t bytes(uint64_t elements, uint64_t run) const;
  // The packed values alone, rounded up to a byte.
  uint64_t value_bytes(uint64_t elements) const;
  // e.g. "int4, a scale per 128 along K with zero points".
  std::string text() const;
  // A KV cache's format as a row of its heads sees it: a scale per token (and head) is one per
  // group of head_dim.
  StoredFormat along_heads(uint64_t head_dim) const;
};

// How an unstructured sparse weight's kept values are found, in Sparseloop's terms, each output
// channel (a run of K) one fiber: a bitmask (a bit an element), CSR (a 16-bit index a kept value,
// 32-bit where K passes 65,536, and a 32-bit offset a channel: Sparseloop's coordinate payload
// with uncompressed offsets) or run-length (a 4-bit count of the zeros before each kept value; a
// longer run stores an explicit zero, as Eyeriss's and SCNN's encodings do).
enum class SparseFormat { Bitmask, Csr, RunLength };
std::string_view to_string(SparseFormat format);                     // "bitmask", "csr", "rle"
std::optional<SparseFormat> parse_sparse_format(std::string_view text);

// How a weight's zeros are stored. N:M structured (2:4: `keep` of every `group` consecutive
// elements along K kept, each with an index of log2(group) bits, as NVIDIA's sparse tensor cores
// take them), or unstructured at `density` in `format`.
struct WeightSparsity {
  uint32_t keep = 0;
  uint32_t group = 0;  // 0: unstructured
  double density = 1;  // unstructured: the share of elements kept
  SparseFormat format = SparseFormat::Bitmask;  // unstructured

  bool structured() const { return group > 0; }
  double kept() const { return structured() ? static_cast<double>(keep) / group : density; }
  // Elements kept of `elements` dense ones.
  uint64_t kept_elements(uint64_t elements) const;
  // Values stored: the kept ones, and run-length's explicit zeros (with zeros independent at
  // 1 - density, kept × q^16 / (1 - q^16) of them, q = 1 - density).
  uint64_t stored_values(uint64_t elements) const;
  // The metadata's bytes of a weight of `elements` in fibers of `k`.
  uint64_t metadata_bytes(uint64_t elements, uint64_t k) const;
  std::string text() const;  // "2:4" or "unstructured at density 0.3 (bitmask)"
};

// Structured pruning that shrinks a model's shapes (LLM-Pruner, Sheared-LLaMA, Minitron): a
// share of its attention heads and of its MLPs' intermediate channels removed
// (ModelConfig's with_recipe says how they round).
struct ShapePruning {
  double heads = 0;         // share of the query heads removed
  double mlp_channels = 0;  // share of each MLP's (and expert's) intermediate channels removed

  bool empty() const { return heads == 0 && mlp_channels == 0; }
  std::string text() const;  // "25% of the attention heads and 30% of the MLP channels removed"
};

// Zeros in a linear's inputs, as the ReLU (or ReLU-fied) MLPs of ProSparse and "ReLU Strikes
// Back" leave in the down projection's input: `density` of each token's K inputs nonzero,
// independently. Kernels that exploit it (Deja Vu, PowerInfer) gather the weight rows of the
// inputs nonzero in any of a batch's tokens and skip the rest (workloads::active_k).
// Deja Vu and PowerInfer also predict, before the MLP, which neurons will be nonzero and compute
// only those outputs of the up and gate projections (workloads::active_n): `outputs` lists those
// linears, and each layer gains the predictor, a low-rank MLP of `predictor_rank` (hidden to
// rank to intermediate), which is assumed to predict exactly.
struct ActivationSparsity {
  double density = 1;
  std::vector<std::string> ops = {"*down_proj"};  // globs of the linears whose inputs it holds
  std::vector<std::string> outputs;               // globs of the linears whose output neurons are predicted
  uint64_t predictor_rank = 0;                    // with outputs: the predictor's rank (at least 1)

  // "inputs of *down_proj 10% nonzero; outputs of *gate_up_proj predicted (a rank 1024 predictor)"
  std::string text() const;
  // Whether a predictor picks the output neurons of the linear `op_name`.
  bool predicts(const std::string& op_name) const;
};

// A linear's weight of `elements` (k along its reduction) as stored: its kept values in
// `format` (or `compute` when not quantized), their scales, and the sparsity's metadata.
uint64_t stored_weight_bytes(uint64_t elements, uint64_t k, arch::DType compute,
                             const std::optional<StoredFormat>& format, const std::optional<WeightSparsity>& sparsity);
// The same per element of a k × n weight.
double stored_weight_bytes_per_element(uint64_t k, uint64_t n, arch::DType compute,
                                       const std::optional<StoredFormat>& format,
                                       const std::optional<WeightSparsity>& sparsity);

// What a recipe does to a model. Weights and activations apply to the linears with weights of
// their own, except those whose name matches a `keep` glob and those of the `keep_layers`; the KV
// cache applies to every layer's cache.
struct QuantRecipe {
  std::string name;                     // the presets or the file it came from
  std::optional<StoredFormat> weights;  // nothing: in the format the linear computes in
  // The format the quantized linears multiply in (int8 for W8A8, fp8); nothing: the run's.
  std::optional<arch::DType> activations;
  // The width the activations must have when the run's format is kept: 16 for W4A16 (fp16 or
  // bf16); 0: any.
  uint32_t activation_bits = 0;
  std::optional<StoredFormat> kv_cache;
  std::optional<WeightSparsity> sparsity;  // of the same linears' weights (pruned to it)
  // By default the LM head (GPTQ, AWQ and SmoothQuant keep it in 16 bits) and a mixture of
  // experts' router and shared gate (vLLM's quantized MoE layers keep the gate unquantized).
  std::vector<std::string> keep = {"lm_head", "moe.router", "moe.shared_gate"};
  // Layers whose linears stay in the run's format as well (by index, negative from the end: -1 is
  // the last), as mixed-precision schemes keep the first and last layers wide (llama.cpp's
  // k-quants); their KV cache is the recipe's all the same.
  std::vector<int64_t> keep_layers;
  ShapePruning prune;  // applied to the model's config, not its ops (with_recipe)
  std::optional<ActivationSparsity> activation_sparsity;  // of every matching linear, kept ones too

  bool empty() const { return !quantizes_linears() && !kv_cache && prune.empty() && !activation_sparsity; }
  // Whether it changes how the linears it covers store or multiply their weights.
  bool quantizes_linears() const { return weights || activations || sparsity; }
  // Whether layer `layer` of a model of `layers` is among keep_layers; throws InputError when an
  // entry names no layer of it.
  bool keeps_layer(uint64_t layer, uint64_t layers) const;
  // The recipe as a kept layer takes it: its KV cache and activation sparsity alone (a layer is
  // kept wide, its data stay what they are).
  QuantRecipe for_kept_layer() const;
};

// Presets joined by commas ("w4a16-g128,kv-int8"), or a YAML file (a path ending in .yaml or
// .yml). Throws InputError naming the preset, or arch::ConfigError naming the file, line and key.
QuantRecipe parse_quant(const std::string& spec);
// The presets, for --help: "w4a16-g128", "w8a16", "w8a8", "fp8", "kv-int8", "kv-fp8", ...
std::string quant_presets_text();

// Sets the weight and KV formats of the ops that the recipe covers, and the format of the quantized
// linears when it sets the activations'. Per-token KV scales run along `head_dim`.
void apply_quant(std::vector<Op>& ops, const QuantRecipe& recipe, uint64_t head_dim);
// The same on every op of a graph (keep_layers aside: the transformer builder applies them), its
// head_dim that of its KV cache ops.
void apply_quant(OpGraph& graph, const QuantRecipe& recipe);

// Throws InputError when the recipe cannot run with activations in `run_format` (the run's
// resolved --dtype): W4A16 beside an 8-bit run, or a stored format wider than the one that
// computes on it, or as wide but another (fp8 weights for int8 linears).
void check_quant(const QuantRecipe& recipe, arch::DType run_format);

// e.g. "weights int4, a scale per 128 along K with zero points; KV cache int8, one scale".
std::string describe(const QuantRecipe& recipe);

}  // namespace tessel::workloads
