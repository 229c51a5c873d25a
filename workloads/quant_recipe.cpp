#include "workloads/quant_recipe.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <regex>
#include <sstream>

#include "arch/config_error.h"
#include "arch/yaml_fields.h"
#include "workloads/input_error.h"
#include "workloads/op_graph.h"

namespace tessel::workloads {

namespace {

using arch::DType;

constexpr uint64_t kScaleBytes = 2;  // fp16 scales, as GPTQ, AWQ and SmoothQuant store them
constexpr uint64_t kRunBits = 4;     // a run-length code's count of zeros (SparseFormat::RunLength)

// Digits a pattern matched, as a number; nothing past 2^32 (no group or percentage is that large).
std::optional<uint64_t> small_number(const std::string& digits) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc() || end != digits.data() + digits.size() || value > (uint64_t{1} << 32)) return std::nullopt;
  return value;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "w4a16-g128", "w8a16", "w8a8", "fp8", "kv-int8", "kv-fp8", "kv-int4-g64": one part of a recipe.
void apply_preset(const std::string& preset, QuantRecipe& recipe) {
  const auto set_weights = [&](StoredFormat format) {
    if (recipe.weights) throw InputError("--quant " + recipe.name + ": '" + preset + "' sets the weights again");
    recipe.weights = format;
  };
  const auto set_kv = [&](StoredFormat format) {
    if (recipe.kv_cache) throw InputError("--quant " + recipe.name + ": '" + preset + "' sets the KV cache again");
    recipe.kv_cache = format;
  };
  std::smatch match;
  const auto number = [&](size_t index) {
    const std::optional<uint64_t> value = small_number(match[index].str());
    if (!value || *value == 0) throw InputError("--quant " + preset + ": " + match[index].str() + " is not a size of 1 or more");
    return *value;
  };
  // A percentage of 1-99 the pattern matched, as a fraction; `what` names it in the error.
  const auto fraction = [&](size_t index, const std::string& what) {
    const uint64_t percent = number(index);
    if (percent >= 100) throw InputError("--quant " + preset + ": the " + what + " is a percentage in 1-99");
    return static_cast<double>(percent) / 100;
  };
  // Weight-only: packed weights dequantized to the run's 16-bit format, per group of K with
  // zero points (AWQ's and GPTQ's asymmetric default) or per output channel without.
  static const std::regex weight_only("w(4|8)a16(?:-g([0-9]+))?");
  static const std::regex kv_cache("kv-(int8|fp8|int4)(?:-g([0-9]+))?");
  static const std::regex unstructured("sparse-d([0-9]+)(?:-(bitmask|csr|rle))?");
  static const std::regex pruned("prune-(heads|mlp)-([0-9]+)");
  static const std::regex sparse_inputs("act-sparse-d([0-9]+)");
  static const std::regex predicted_neurons("neuron-sparse-d([0-9]+)-r([0-9]+)");
  if (std::regex_match(preset, match, weight_only)) {
    StoredFormat format{match[1] == "4" ? DType::Int4 : DType::Int8, ScaleGranularity::Channel, 0, false};
    if (match[2].matched) {
      format.scales = ScaleGranularity::Group;
      format.group = number(2);
      format.zero_points = true;
    }
    set_weights(format);
    recipe.activation_bits = 16;
  } else if (preset == "w8a8") {
    // SmoothQuant as TensorRT-LLM runs it: int8 weights with a scale per output channel, int8
    // activations with one per token (fused into the op that writes them).
    set_weights({DType::Int8, ScaleGranularity::Channel, 0, false});
    recipe.activations = DType::Int8;
  } else if (preset == "w4a4") {
    // QuaRot's and Atom's W4A4: int4 weights with a scale per output channel, int4 activations
    // with one per token, multiplied on int4 MACs (their outlier handling, a rotation or a few
    // channels kept in int8, is not modelled).
    set_weights({DType::Int4, ScaleGranularity::Channel, 0, false});
    recipe.activations = DType::Int4;
  } else if (preset == "fp8") {
    // fp8 E4M3 weights and activations with one scale each (vLLM's and TensorRT-LLM's fp8).
    set_weights({DType::Fp8, ScaleGranularity::Tensor, 0, false});
    recipe.activations = DType::Fp8;
  } else if (std::regex_match(preset, match, kv_cache)) {
    StoredFormat format{*arch::parse_dtype(match[1].str()), ScaleGranularity::Tensor, 0, false};
    if (format.format == DType::Int4 || match[2].matched) {
      // 4-bit caches need finer scales (KIVI, vLLM's int4 cache): per token by default.
      format.scales = match[2].matched ? ScaleGranularity::Group : ScaleGranularity::Token;
      format.group = match[2].matched ? number(2) : 0;
      format.zero_points = format.format == DType::Int4;
    }
    set_kv(format);
  } else if (preset == "sparse-2:4" || std::regex_match(preset, match, unstructured)) {
    if (recipe.sparsity) throw InputError("--quant " + recipe.name + ": '" + preset + "' sets the sparsity again");
    WeightSparsity sparsity{2, 4, 0.5};
    if (preset != "sparse-2:4") {
      sparsity = WeightSparsity{0, 0, fraction(1, "density")};
      if (match[2].matched) sparsity.format = *parse_sparse_format(match[2].str());
    }
    recipe.sparsity = sparsity;
  } else if (const bool predicted = std::regex_match(preset, match, predicted_neurons);
             predicted || std::regex_match(preset, match, sparse_inputs)) {
    ActivationSparsity sparsity;
    sparsity.density = fraction(1, "density");
    if (recipe.activation_sparsity) {
      throw InputError("--quant " + recipe.name + ": '" + preset + "' sets the activation sparsity again");
    }
    if (predicted) {
      // The dense MLP's and each expert's, which their predictors serve.
      sparsity.outputs = {"mlp.gate_up_proj", "mlp.up_proj", "moe.*.gate_up_proj"};
      sparsity.predictor_rank = number(2);
    }
    recipe.activation_sparsity = sparsity;
  } else if (std::regex_match(preset, match, pruned)) {
    const double removed = fraction(2, "share removed");
    double& share = match[1] == "heads" ? recipe.prune.heads : recipe.prune.mlp_channels;
    if (share > 0) {
      throw InputError("--quant " + recipe.name + ": '" + preset + "' prunes the " + match[1].str() + " again");
    }
    share = removed;
  } else {
    throw InputError("--quant '" + preset + "': not a preset (" + quant_presets_text() +
                     ") nor a .yaml recipe file");
  }
}

std::optional<ScaleGranularity> parse_granularity(std::string_view text) {
  for (ScaleGranularity g : {ScaleGranularity::Tensor, ScaleGranularity::Channel, ScaleGranularity::Group,
                             ScaleGranularity::Token}) {
    if (text == to_string(g)) return g;
  }
  return std::nullopt;
}

std::optional<DType> parse_stored(std::string_view text) {
  const std::optional<DType> format = arch::parse_dtype(text);
  return format && *format != DType::Fp32 ? format : std::nullopt;
}

std::optional<DType> parse_activation(std::string_view text) {
  const std::optional<DType> format = arch::parse_dtype(text);
  return format && (*format == DType::Int4 || *format == DType::Int8 || *format == DType::Fp8) ? format : std::nullopt;
}

// {format, scales, group, zero_points}; `allowed` are the granularities the tensor can have.
StoredFormat read_stored(const arch::yaml::Reader& reader, const arch::yaml::Field& field,
                         const std::vector<ScaleGranularity>& allowed) {
  const arch::yaml::Mapping mapping(reader, field, {"format", "scales", "group", "zero_points"});
  StoredFormat format;
  format.format = reader.choice(mapping.required("format"), parse_stored, "int4, int8, fp8, fp16, bf16");
  std::string names;
  for (ScaleGranularity g : allowed) names += (names.empty() ? "" : ", ") + to_string(g);
  const arch::yaml::Field scales = mapping.required("scales");
  format.scales = reader.choice(scales, parse_granularity, names);
  if (std::find(allowed.begin(), allowed.end(), format.scales) == allowed.end()) {
    reader.fail(scales, "must be one of " + names + " here");
  }
  const std::optional<arch::yaml::Field> group = mapping.optional("group");
  if (format.scales == ScaleGranularity::Group) {
    if (!group) reader.fail(mapping.self(), "scales: group needs a group size");
    format.group = reader.count(*group);
  } else if (group) {
    reader.fail(*group, "is for scales: group only");
  }
  if (const std::optional<arch::yaml::Field> zeros = mapping.optional("zero_points")) {
    format.zero_points = reader.boolean(*zeros);
  }
  return format;
}

QuantRecipe load_recipe_file(const std::string& path) {
  if (!std::filesystem::exists(path)) throw arch::ConfigError(path, "no such file");
  const YAML::Node root = arch::yaml::parse_file(path);
  if (!root.IsMap()) throw arch::ConfigError(path, 1, "the file must be a YAML mapping of keys");
  const arch::yaml::Reader reader(path);
  const arch::yaml::Mapping top(reader, {root, "", root.Mark().line + 1},
                                {"name", "description", "weights", "activations", "kv_cache", "sparsity", "keep",
                                 "keep_layers", "prune", "activation_sparsity"});
  QuantRecipe recipe;
  recipe.name = arch::yaml::read_name(reader, top);
  if (const std::optional<arch::yaml::Field> weights = top.optional("weights")) {
    recipe.weights =
        read_stored(reader, *weights, {ScaleGranularity::Tensor, ScaleGranularity::Channel, ScaleGranularity::Group});
  }
  if (const std::optional<arch::yaml::Field> activations = top.optional("activations")) {
    // 16-bit: the run's 16-bit format, as the weight-only presets keep it.
    if (activations->node.IsScalar() && activations->node.Scalar() == "16-bit") {
      recipe.activation_bits = 16;
    } else {
      recipe.activations = reader.choice(*activations, parse_activation, "int4, int8, fp8, 16-bit");
    }
  }
  if (const std::optional<arch::yaml::Field> kv = top.optional("kv_cache")) {
    recipe.kv_cache =
        read_stored(reader, *kv, {ScaleGranularity::Tensor, ScaleGranularity::Token, ScaleGranularity::Group});
  }
  if (const std::optional<arch::yaml::Field> field = top.optional("sparsity")) {
    const arch::yaml::Mapping sparsity(reader, *field, {"pattern", "density", "format"});
    const std::optional<arch::yaml::Field> pattern = sparsity.optional("pattern");
    const std::optional<arch::yaml::Field> density = sparsity.optional("density");
    if (pattern.has_value() == density.has_value()) reader.fail(*field, "must give one of pattern and density");
    if (pattern && sparsity.optional("format")) {
      reader.fail(*sparsity.optional("format"), "is for a density: an N:M pattern stores an index a kept value");
    }
    if (pattern) {
      std::smatch match;
      const std::string text = reader.text(*pattern);
      static const std::regex n_of_m("([0-9]+):([0-9]+)");
      const bool matched = std::regex_match(text, match, n_of_m);
      const std::optional<uint64_t> keep = matched ? small_number(match[1].str()) : std::nullopt;
      const std::optional<uint64_t> group = matched ? small_number(match[2].str()) : std::nullopt;
      if (!keep || !group || *keep == 0 || *keep >= *group || *group > 64) {
        reader.fail(*pattern, "must be N:M with 0 < N < M <= 64, e.g. 2:4");
      }
      recipe.sparsity = WeightSparsity{static_cast<uint32_t>(*keep), static_cast<uint32_t>(*group), 0};
      recipe.sparsity->density = recipe.sparsity->kept();
    } else {
      const double kept = reader.fraction(*density);
      if (kept >= 1) reader.fail(*density, "must be below 1 (1 is dense)");
      recipe.sparsity = WeightSparsity{0, 0, kept};
      if (const std::optional<arch::yaml::Field> format = sparsity.optional("format")) {
        recipe.sparsity->format = reader.choice(*format, parse_sparse_format, "bitmask, csr, rle");
      }
    }
  }
  if (const std::optional<arch::yaml::Field> keep = top.optional("keep")) {
    recipe.keep.clear();
    for (const arch::yaml::Field& pattern : reader.list(*keep)) {
      recipe.keep.push_back(reader.text(pattern));
      if (recipe.keep.back().empty()) reader.fail(pattern, "must be a glob of op names");
    }
  }
  if (const std::optional<arch::yaml::Field> field = top.optional("prune")) {
    const arch::yaml::Mapping prune(reader, *field, {"heads", "mlp_channels"});
    const auto share = [&](const char* key, double& removed) {
      if (const std::optional<arch::yaml::Field> value = prune.optional(key)) {
        removed = reader.fraction(*value);
        if (removed >= 1) reader.fail(*value, "must be below 1 (the share removed)");
      }
    };
    share("heads", recipe.prune.heads);
    share("mlp_channels", recipe.prune.mlp_channels);
    if (recipe.prune.empty()) reader.fail(*field, "must give heads or mlp_channels, the share removed");
  }
  if (const std::optional<arch::yaml::Field> field = top.optional("activation_sparsity")) {
    const arch::yaml::Mapping inputs(reader, *field, {"density", "ops", "outputs", "predictor_rank"});
    ActivationSparsity sparsity;
    sparsity.density = reader.fraction(inputs.required("density"));
    if (sparsity.density >= 1) reader.fail(inputs.required("density"), "must be below 1 (1 is dense)");
    if (const std::optional<arch::yaml::Field> ops = inputs.optional("ops")) {
      sparsity.ops.clear();
      for (const arch::yaml::Field& pattern : reader.list(*ops)) {
        sparsity.ops.push_back(reader.text(pattern));
        if (sparsity.ops.back().empty()) reader.fail(pattern, "must be a glob of op names");
      }
    }
    if (const std::optional<arch::yaml::Field> outputs = inputs.optional("outputs")) {
      for (const arch::yaml::Field& pattern : reader.list(*outputs)) {
        sparsity.outputs.push_back(reader.text(pattern));
        if (sparsity.outputs.back().empty()) reader.fail(pattern, "must be a glob of op names");
      }
      // The predictor's cost comes with the outputs it predicts.
      sparsity.predictor_rank = reader.count(inputs.required("predictor_rank"));
    } else if (const std::optional<arch::yaml::Field> rank = inputs.optional("predictor_rank")) {
      reader.fail(*rank, "predicts outputs, but the sparsity lists none (outputs: [globs of linears])");
    }
    recipe.activation_sparsity = sparsity;
  }
  if (const std::optional<arch::yaml::Field> layers = top.optional("keep_layers")) {
    for (const arch::yaml::Field& layer : reader.list(*layers)) recipe.keep_layers.push_back(reader.integer(layer));
    if (!recipe.quantizes_linears()) {
      reader.fail(*layers, "keeps layers' linears, but the recipe sets no weights, activations or sparsity");
    }
  }
  if (recipe.empty()) {
    reader.fail(top.self(), "must set weights, activations, kv_cache, sparsity, prune or activation_sparsity");
  }
  return recipe;
}

bool kept(const std::vector<std::string>& keep, const std::string& name) {
  return std::any_of(keep.begin(), keep.end(),
                     [&](const std::string& glob) { return fnmatch(glob.c_str(), name.c_str(), 0) == 0; });
}

// The elementwise activations an MLP applies to its up (and gate) projection's output.
bool activates(OpKind kind) {
  return kind == OpKind::SiluMul || kind == OpKind::GeluMul || kind == OpKind::Gelu || kind == OpKind::Relu;
}

bool reads_cache(const Op& op) {
  return op.kind == OpKind::KvCacheAppend || op.kind == OpKind::KvCacheRead || cache_elements(op) > 0;
}

}  // namespace

std::string_view to_string(SparseFormat format) {
  switch (format) {
    case SparseFormat::Bitmask: return "bitmask";
    case SparseFormat::Csr: return "csr";
    case SparseFormat::RunLength: return "rle";
  }
  return "?";
}

std::optional<SparseFormat> parse_sparse_format(std::string_view text) {
  for (SparseFormat format : {SparseFormat::Bitmask, SparseFormat::Csr, SparseFormat::RunLength}) {
    if (text == to_string(format)) return format;
  }
  return std::nullopt;
}

std::string to_string(ScaleGranularity granularity) {
  switch (granularity) {
    case ScaleGranularity::Tensor: return "tensor";
    case ScaleGranularity::Channel: return "channel";
    case ScaleGranularity::Group: return "group";
    case ScaleGranularity::Token: return "token";
  }
  return "?";
}

uint64_t StoredFormat::bytes(uint64_t elements, uint64_t run) const {
  const uint64_t values = arch::ceil_div(elements * arch::bits_of(format), 8);
  const uint64_t vectors = run == 0 ? 1 : arch::ceil_div(elements, run);
  uint64_t scales_held = 0;
  switch (this->scales) {
    case ScaleGranularity::Tensor: return values;
    case ScaleGranularity::Channel:
    case ScaleGranularity::Token: scales_held = vectors; break;
    case ScaleGranularity::Group:
      // Groups do not straddle vectors: a vector of `run` holds ceil(run / group) of them.
      scales_held = run == 0 ? arch::ceil_div(elements, group) : vectors * arch::ceil_div(run, group);
      break;
  }
  // Zero points are in the element's format (4-bit ones pack two to a byte).
  const uint64_t zero_bits = zero_points ? arch::bits_of(format) : 0;
  return values + scales_held * kScaleBytes + arch::ceil_div(scales_held * zero_bits, 8);
}

StoredFormat StoredFormat::along_heads(uint64_t head_dim) const {
  if (scales != ScaleGranularity::Token) return *this;
  return {format, ScaleGranularity::Group, head_dim == 0 ? 1 : head_dim, zero_points};
}

uint64_t StoredFormat::value_bytes(uint64_t elements) const { return arch::ceil_div(elements * arch::bits_of(format), 8); }

uint64_t WeightSparsity::kept_elements(uint64_t elements) const {
  if (structured()) return elements / group * keep + std::min<uint64_t>(elements % group, keep);
  return static_cast<uint64_t>(std::ceil(static_cast<double>(elements) * density));
}

uint64_t WeightSparsity::stored_values(uint64_t elements) const {
  const uint64_t kept = kept_elements(elements);
  if (structured() || format != SparseFormat::RunLength) return kept;
  const double longest = std::pow(1 - density, double{1 << kRunBits});
  return kept + static_cast<uint64_t>(std::ceil(static_cast<double>(kept) * longest / (1 - longest)));
}

uint64_t WeightSparsity::metadata_bytes(uint64_t elements, uint64_t k) const {
  if (!structured()) {
    switch (format) {
      case SparseFormat::Bitmask: return arch::ceil_div(elements, 8);
      case SparseFormat::Csr: {
        const uint64_t index_bytes = k <= 65536 ? 2 : 4;
        return stored_values(elements) * index_bytes + (arch::ceil_div(elements, k) + 1) * 4;
      }
      case SparseFormat::RunLength: return arch::ceil_div(stored_values(elements) * kRunBits, 8);
    }
  }
  uint64_t index_bits = 0;
  while ((uint64_t{1} << index_bits) < group) ++index_bits;
  return arch::ceil_div(kept_elements(elements) * index_bits, 8);
}

bool ActivationSparsity::predicts(const std::string& op_name) const {
  return predictor_rank > 0 && kept(outputs, op_name);
}

std::string ActivationSparsity::text() const {
  const auto joined = [](const std::vector<std::string>& globs) {
    std::string text;
    for (const std::string& glob : globs) text += (text.empty() ? "" : ", ") + glob;
    return text;
  };
  std::string text =
      "inputs of " + joined(ops) + " " + std::to_string(static_cast<int>(std::lround(density * 100))) + "% nonzero";
  if (!outputs.empty()) {
    text += "; outputs of " + joined(outputs) + " predicted (a rank " + std::to_string(predictor_rank) + " predictor)";
  }
  return text;
}

std::string ShapePruning::text() const {
  const auto percent = [](double share) { return std::to_string(static_cast<int>(std::lround(share * 100))) + "%"; };
  std::string text;
  if (heads > 0) text = percent(heads) + " of the attention heads";
  if (mlp_channels > 0) text += (text.empty() ? "" : " and ") + percent(mlp_channels) + " of the MLP channels";
  return text + " removed";
}

std::string WeightSparsity::text() const {
  if (structured()) return std::to_string(keep) + ":" + std::to_string(group);
  std::ostringstream out;
  static const char* const kFormats[] = {"bitmask", "CSR", "run-length"};
  out << "unstructured at density " << density << " (" << kFormats[static_cast<int>(format)] << ")";
  return out.str();
}

uint64_t stored_weight_bytes(uint64_t elements, uint64_t k, DType compute, const std::optional<StoredFormat>& format,
                             const std::optional<WeightSparsity>& sparsity) {
  const uint64_t kept = sparsity ? sparsity->stored_values(elements) : elements;
  const uint64_t values = format ? format->value_bytes(kept) : arch::bytes_for(kept, compute);
  const uint64_t scales = format ? format->bytes(elements, k) - format->value_bytes(elements) : 0;
  return values + scales + (sparsity ? sparsity->metadata_bytes(elements, k) : 0);
}

double stored_weight_bytes_per_element(uint64_t k, uint64_t n, DType compute, const std::optional<StoredFormat>& format,
                                       const std::optional<WeightSparsity>& sparsity) {
  return static_cast<double>(stored_weight_bytes(k * n, k, compute, format, sparsity)) / static_cast<double>(k * n);
}

std::string StoredFormat::text() const {
  std::string text(arch::to_string(format));
  switch (scales) {
    case ScaleGranularity::Tensor: text += ", one scale"; break;
    case ScaleGranularity::Channel: text += ", a scale per output channel"; break;
    case ScaleGranularity::Group: text += ", a scale per " + std::to_string(group) + " elements"; break;
    case ScaleGranularity::Token: text += ", a scale per token and head"; break;
  }
  if (zero_points) text += " with zero points";
  return text;
}

QuantRecipe parse_quant(const std::string& spec) {
  if (spec.empty()) throw InputError("--quant: give presets (" + quant_presets_text() + ") or a .yaml file");
  if (ends_with(spec, ".yaml") || ends_with(spec, ".yml")) return load_recipe_file(spec);
  QuantRecipe recipe;
  recipe.name = spec;
  std::stringstream parts(spec);
  for (std::string preset; std::getline(parts, preset, ',');) apply_preset(preset, recipe);
  if (recipe.activations && recipe.activation_bits != 0) {
    throw InputError("--quant " + spec + ": the weight-only preset keeps 16-bit activations");
  }
  return recipe;
}

std::string quant_presets_text() {
  return "w4a16-gG (int4 weights, a scale and zero point per G along K), w4a16, w8a16 (a scale per channel), "
         "w8a8, w4a4 (int4 weights and activations, on int4 MACs), fp8, kv-int8, kv-fp8, kv-int4[-gG], sparse-2:4 "
         "(weights pruned 2 of 4 along K), sparse-dP[-csr|-rle] "
         "(unstructured, P% kept, with a bitmask, CSR or run-length codes), prune-heads-P, prune-mlp-P (P% of the "
         "attention heads or MLP channels removed), act-sparse-dP (P% of each token's down-projection inputs nonzero, "
         "as a ReLU MLP's; the rows of the rest skipped), neuron-sparse-dP-rR (the same, and the up and gate projections "
         "compute only the P% of neurons a rank-R predictor picks, one a layer and one an expert, as Deja Vu and "
         "PowerInfer do)";
}

void apply_quant(std::vector<Op>& ops, const QuantRecipe& recipe, uint64_t head_dim) {
  if (recipe.empty()) return;
  const std::optional<StoredFormat> kv =
      recipe.kv_cache ? std::optional<StoredFormat>(recipe.kv_cache->along_heads(head_dim)) : std::nullopt;
  const Op* previous = nullptr;
  for (Op& op : ops) {
    if (op.kind == OpKind::Linear && op.shape_as<LinearShape>().weight == WeightRole::Own && !op.format &&
        !kept(recipe.keep, op.name) && recipe.quantizes_linears()) {
      const uint64_t k = op.shape_as<LinearShape>().k;
      if (recipe.weights && recipe.weights->scales == ScaleGranularity::Group && k % recipe.weights->group != 0) {
        // Kernels (and checkpoints) lay whole groups along K.
        throw InputError("--quant " + recipe.name + ": op '" + op.name + "' has K = " + std::to_string(k) +
                         ", not a whole number of groups of " + std::to_string(recipe.weights->group));
      }
      if (recipe.sparsity && recipe.sparsity->structured() && k % recipe.sparsity->group != 0) {
        throw InputError("--quant " + recipe.name + ": op '" + op.name + "' has K = " + std::to_string(k) +
                         ", not a whole number of groups of " + std::to_string(recipe.sparsity->group));
      }
      op.weight_storage = recipe.weights;
      op.weight_sparsity = recipe.sparsity;
      op.format = recipe.activations;
    }
    if (kv && reads_cache(op)) op.kv_storage = kv;
    const std::optional<ActivationSparsity>& inputs = recipe.activation_sparsity;
    if (inputs && op.kind == OpKind::Linear && kept(inputs->ops, op.name)) op.input_density = inputs->density;
    if (inputs && op.kind == OpKind::Linear && inputs->predicts(op.name)) op.output_density = inputs->density;
    // The activation of the predicted neurons runs over the columns their linear computed.
    if (previous && previous->kind == OpKind::Linear && previous->output_density && activates(op.kind)) {
      op.output_density = previous->output_density;
    }
    previous = &op;
  }
}

void apply_quant(OpGraph& graph, const QuantRecipe& recipe) {
  uint64_t head_dim = 0;
  graph.for_each_op([&](const Op& op, uint64_t) {
    if (op.kind == OpKind::KvCacheAppend) head_dim = op.shape_as<KvCacheShape>().head_dim;
  });
  apply_quant(graph.prologue, recipe, head_dim);
  for (LayerBlock& block : graph.layers) apply_quant(block.ops, recipe, head_dim);
  apply_quant(graph.epilogue, recipe, head_dim);
}

bool QuantRecipe::keeps_layer(uint64_t layer, uint64_t layers) const {
  bool keeps = false;
  for (int64_t entry : keep_layers) {
    const int64_t count = static_cast<int64_t>(layers);
    if (entry >= count || entry < -count) {
      throw InputError("--quant " + name + ": keep_layers names layer " + std::to_string(entry) +
                       ", but the model has " +
                       std::to_string(layers) + " (0 to " + std::to_string(layers - 1) + ", or -1 for the last)");
    }
    keeps = keeps || static_cast<uint64_t>(entry < 0 ? entry + count : entry) == layer;
  }
  return keeps;
}

QuantRecipe QuantRecipe::for_kept_layer() const {
  QuantRecipe recipe;
  recipe.name = name;
  recipe.kv_cache = kv_cache;
  recipe.activation_sparsity = activation_sparsity;
  return recipe;
}

void check_quant(const QuantRecipe& recipe, DType run_format) {
  const std::string flag = "--quant " + recipe.name + ": ";
  if (recipe.activation_bits != 0 && arch::bits_of(run_format) != recipe.activation_bits) {
    throw InputError(flag + "keeps activations in " + std::to_string(recipe.activation_bits) + " bits, but the run "
                     "computes in " + std::string(arch::to_string(run_format)) + "; give --dtype fp16 or bf16");
  }
  const DType linear_format = recipe.activations.value_or(run_format);
  // A stored format must be the computing one or narrower: a conversion never widens the data.
  const auto unfit = [](DType stored, DType computed) {
    return arch::bits_of(stored) > arch::bits_of(computed) ||
           (arch::bits_of(stored) == arch::bits_of(computed) && stored != computed);
  };
  if (recipe.weights && unfit(recipe.weights->format, linear_format)) {
    throw InputError(flag + "weights in " + std::string(arch::to_string(recipe.weights->format)) +
                     " cannot feed linears that multiply in " + std::string(arch::to_string(linear_format)));
  }
  if (recipe.weights && recipe.weights->scales == ScaleGranularity::Group && recipe.weights->format == linear_format) {
    // A kernel applies a scale per group only while it dequantizes; an integer datapath's sums
    // over K take one scale per row and column.
    throw InputError(flag + "scales per group need weights narrower than the " +
                     std::string(arch::to_string(linear_format)) + " the linears multiply in");
  }
  if (recipe.kv_cache && unfit(recipe.kv_cache->format, run_format)) {
    throw InputError(flag + "a KV cache in " + std::string(arch::to_string(recipe.kv_cache->format)) +
                     " cannot feed attention that computes in " + std::string(arch::to_string(run_format)));
  }
}

std::string describe(const QuantRecipe& recipe) {
  std::string text;
  const auto add = [&](const std::string& part) { text += (text.empty() ? "" : "; ") + part; };
  if (recipe.weights) add("weights " + recipe.weights->text());
  if (recipe.sparsity) add("weights pruned " + recipe.sparsity->text());
  if (recipe.activations) add("linears multiply in " + std::string(arch::to_string(*recipe.activations)));
  if (recipe.kv_cache) add("KV cache " + recipe.kv_cache->text());
  if (!recipe.prune.empty()) add(recipe.prune.text());
  if (recipe.activation_sparsity) add(recipe.activation_sparsity->text());
  if (!recipe.keep.empty() && recipe.quantizes_linears()) {
    std::string kept;
    for (const std::string& glob : recipe.keep) kept += (kept.empty() ? "" : ", ") + glob;
    add("kept in the run's format: " + kept);
  }
  if (!recipe.keep_layers.empty()) {
    std::string layers;
    for (int64_t layer : recipe.keep_layers) layers += (layers.empty() ? "" : ", ") + std::to_string(layer);
    add("linears of layers " + layers + " kept in the run's format");
  }
  return text;
}

}  // namespace tessel::workloads
