#include "workloads/hf_config.h"

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

using nlohmann::json;

// What a model_type fixes that config.json does not say, following the HF modelling code.
struct Family {
  const char* model_type;
  bool gated_mlp;
  Norm norm;
  NormPlacement norm_placement;
  Positional positional;
  bool causal;
  const char* default_activation;  // HF's default when the file has none
  bool default_tied;               // likewise for tie_word_embeddings
  uint64_t position_offset;        // extra rows of the position table
};

const Family kFamilies[] = {
    {"bert", false, Norm::LayerNorm, NormPlacement::Post, Positional::Learned, false, "gelu", true,
     0},
    {"gpt2", false, Norm::LayerNorm, NormPlacement::Pre, Positional::Learned, true, "gelu_new",
     true, 0},
    {"llama", true, Norm::RmsNorm, NormPlacement::Pre, Positional::Rope, true, "silu", false, 0},
    {"mistral", true, Norm::RmsNorm, NormPlacement::Pre, Positional::Rope, true, "silu", false, 0},
    {"mixtral", true, Norm::RmsNorm, NormPlacement::Pre, Positional::Rope, true, "silu", false, 0},
    // DeepSeek-MoE (the first version: multi-head attention; V2's latent attention is another).
    {"deepseek", true, Norm::RmsNorm, NormPlacement::Pre, Positional::Rope, true, "silu", false, 0},
    // OPTLearnedPositionalEmbedding offsets positions by 2; do_layer_norm_before may make an
    // OPT model post-norm.
    {"opt", false, Norm::LayerNorm, NormPlacement::Pre, Positional::Learned, true, "relu", true, 2},
};

bool is(const Family& family, const char* model_type) {
  return std::string(family.model_type) == model_type;
}

std::string known_model_types() {
  std::string known;
  for (const Family& family : kFamilies) {
    known += (known.empty() ? "" : ", ") + std::string(family.model_type);
  }
  return known;
}

std::string model_name(const std::string& path) {
  const std::filesystem::path file(path);
  if (file.filename() == "config.json" && file.has_parent_path()) {
    const std::string directory = file.parent_path().filename().string();
    if (!directory.empty() && directory != "." && directory != "..") return directory;
  }
  return file.stem().string();
}

// The parsed file, for messages that name it and the field.
class ConfigFile {
 public:
  ConfigFile(std::string path, json root) : path_(std::move(path)), root_(std::move(root)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw InputError(path_ + ": field '" + key + "': " + problem);
  }

  // The value under the first of `keys` that is present and not null, or nullptr. Any other
  // of the keys present must hold the same value. Remembers the key read for `field`.
  const json* find(const std::string& field, std::initializer_list<const char*> keys) {
    const json* found = nullptr;
    for (const char* key : keys) {
      const auto entry = root_.find(key);
      if (entry == root_.end() || entry->is_null()) continue;
      if (!found) {
        found = &*entry;
        keys_read_[field] = key;
      } else if (*entry != *found) {
        fail(key,
             entry->dump() + " contradicts '" + keys_read_[field] + "' (" + found->dump() + ")");
      }
    }
    return found;
  }

  std::optional<uint64_t> size(const std::string& field, std::initializer_list<const char*> keys) {
    const json* value = find(field, keys);
    if (!value) return std::nullopt;
    if (!value->is_number_unsigned() || value->get<uint64_t>() == 0) {
      fail(key_read(field), "must be a positive integer, got " + value->dump());
    }
    return value->get<uint64_t>();
  }

  uint64_t required_size(const std::string& field, std::initializer_list<const char*> keys) {
    if (const auto value = size(field, keys)) return *value;
    fail_missing(keys);
  }

  // Names the first key and the others it may be read as.
  [[noreturn]] void fail_missing(std::initializer_list<const char*> keys) const {
    std::string others;
    for (auto key = keys.begin() + 1; key != keys.end(); ++key) {
      others += (others.empty() ? " (also read as '" : "', '") + std::string(*key);
    }
    fail(*keys.begin(), "missing" + (others.empty() ? "" : others + "')"));
  }

  std::optional<std::string> text(const std::string& field,
                                  std::initializer_list<const char*> keys) {
    const json* value = find(field, keys);
    if (!value) return std::nullopt;
    if (!value->is_string()) fail(key_read(field), "must be a string, got " + value->dump());
    return value->get<std::string>();
  }

  // A probability in [0, 1), or nothing when no key is present.
  std::optional<double> probability(const std::string& field, std::initializer_list<const char*> keys) {
    const json* value = find(field, keys);
    if (!value) return std::nullopt;
    if (!value->is_number() || value->get<double>() < 0 || value->get<double>() >= 1) {
      fail(key_read(field), "must be a probability in [0, 1), got " + value->dump());
    }
    return value->get<double>();
  }

  std::optional<bool> flag(const char* key) {
    const json* value = find(key, {key});
    if (!value) return std::nullopt;
    if (!value->is_boolean()) fail(key, "must be true or false, got " + value->dump());
    return value->get<bool>();
  }

  // The key `field` was read from; the field's own name when it was not read.
  std::string key_read(const std::string& field) const {
    const auto entry = keys_read_.find(field);
    return entry == keys_read_.end() ? field : entry->second;
  }

 private:
  std::string path_;
  json root_;
  std::map<std::string, std::string> keys_read_;  // ModelConfig field -> key in the file
};

json parse_file(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) throw InputError(path + ": cannot open the file");
  json root;
  try {
    root = json::parse(stream);
  } catch (const json::parse_error& error) {
    throw InputError(path + ": not valid JSON: " + error.what());
  }
  if (!root.is_object()) throw InputError(path + ": the top level must be a JSON object");
  return root;
}

const Family& read_family(ConfigFile& file) {
  const auto model_type = file.text("model_type", {"model_type"});
  if (!model_type) {
    file.fail("model_type", "is missing; it decides the norm, positions and MLP (known: " +
                                known_model_types() + ")");
  }
  for (const Family& family : kFamilies) {
    if (*model_type == family.model_type) return family;
  }
  file.fail("model_type",
            "'" + *model_type + "' is not supported (known: " + known_model_types() + ")");
}

Activation read_activation(ConfigFile& file, const Family& family) {
  const std::string name = file.text("activation", {"hidden_act", "activation_function"})
                               .value_or(family.default_activation);
  const std::string key = file.key_read("activation");
  const bool silu = name == "silu" || name == "swish";
  if (family.gated_mlp) {
    if (silu) return Activation::SiluGated;
    file.fail(key, "'" + name + "': a " + family.model_type +
                       " MLP is gated, and tessel models only silu (or swish) gating");
  }
  if (name == "gelu" || name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::Gelu;
  if (name == "relu") return Activation::Relu;
  file.fail(key, "'" + name + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

// Llama's attention_bias and mlp_bias, OPT's enable_bias; GPT-2 and BERT always have biases.
// Mixtral's experts replace every MLP and are intermediate_size wide; DeepSeek-MoE keeps its
// first first_k_dense_replace layers dense and adds shared experts beside the routed ones.
void read_experts(ConfigFile& file, const Family& family, ModelConfig& config) {
  if (is(family, "mixtral")) {
    config.experts = file.required_size("experts", {"num_local_experts"});
    config.experts_per_token = file.required_size("experts_per_token", {"num_experts_per_tok"});
    config.expert_intermediate_size = config.intermediate_size;
  } else if (is(family, "deepseek")) {
    config.experts = file.required_size("experts", {"n_routed_experts"});
    config.experts_per_token = file.required_size("experts_per_token", {"num_experts_per_tok"});
    config.expert_intermediate_size = file.required_size("expert_intermediate_size", {"moe_intermediate_size"});
    config.shared_experts = file.size("shared_experts", {"n_shared_experts"}).value_or(0);
    const json* dense = file.find("first_dense_layers", {"first_k_dense_replace"});
    if (dense && !dense->is_number_unsigned()) file.fail("first_k_dense_replace", "must be an integer >= 0");
    config.first_dense_layers = dense ? dense->get<uint64_t>() : 0;
    if (file.size("moe_layer_freq", {"moe_layer_freq"}).value_or(1) != 1) {
      file.fail("moe_layer_freq", "experts in every n-th layer only are not modelled: every layer after "
                                  "first_k_dense_replace has them");
    }
  }
}

// The families' names for the dropout probabilities (GPT-2's *_pdrop, BERT's *_prob, OPT's and
// Llama's attention_dropout and dropout); the embeddings take the hidden states' where the
// family names no probability of their own.
void read_dropout(ConfigFile& file, ModelConfig& config) {
  config.attention_dropout =
      file.probability("attention_dropout", {"attn_pdrop", "attention_dropout", "attention_probs_dropout_prob"})
          .value_or(0);
  config.hidden_dropout =
      file.probability("hidden_dropout", {"resid_pdrop", "hidden_dropout_prob", "hidden_dropout", "dropout"})
          .value_or(0);
  config.embedding_dropout = file.probability("embedding_dropout", {"embd_pdrop"}).value_or(config.hidden_dropout);
}

bool read_linear_bias(ConfigFile& file, const Family& family) {
  if (family.gated_mlp) {
    const bool attention_bias = file.flag("attention_bias").value_or(false);
    if (file.flag("mlp_bias").value_or(false) != attention_bias) {
      file.fail("mlp_bias", "differs from attention_bias; tessel models biases on all or none");
    }
    return attention_bias;
  }
  if (is(family, "opt")) return file.flag("enable_bias").value_or(true);
  return true;
}

}  // namespace

ModelConfig read_hf_config(const std::string& path) {
  ConfigFile file(path, parse_file(path));
  const Family& family = read_family(file);

  ModelConfig config;
  config.name = model_name(path);
  config.hidden_size = file.required_size("hidden_size", {"hidden_size", "n_embd"});
  config.num_attention_heads =
      file.required_size("num_attention_heads", {"num_attention_heads", "n_head"});
  config.num_hidden_layers =
      file.required_size("num_hidden_layers", {"num_hidden_layers", "n_layer"});
  config.vocab_size = file.required_size("vocab_size", {"vocab_size"});
  config.num_key_value_heads = file.size("num_key_value_heads", {"num_key_value_heads"})
                                   .value_or(config.num_attention_heads);
  // GPT-2 writes n_inner null (or leaves it out) for 4 × n_embd.
  const std::initializer_list<const char*> intermediate_keys = {"intermediate_size", "n_inner",
                                                                "ffn_dim"};
  const auto intermediate = file.size("intermediate_size", intermediate_keys);
  if (!intermediate && !is(family, "gpt2")) file.fail_missing(intermediate_keys);
  config.intermediate_size = intermediate.value_or(4 * config.hidden_size);
  config.head_dim =
      file.size("head_dim", {"head_dim"}).value_or(config.hidden_size / config.num_attention_heads);
  config.activation = read_activation(file, family);
  config.norm = family.norm;
  config.norm_placement = family.norm_placement;
  if (is(family, "opt") && !file.flag("do_layer_norm_before").value_or(true)) {
    config.norm_placement = NormPlacement::Post;
  }
  config.positional = family.positional;
  if (family.positional == Positional::Learned) {
    config.position_table_size =
        file.required_size("position_table_size", {"max_position_embeddings", "n_positions"}) +
        family.position_offset;
  }
  if (!family.causal) {
    config.type_vocab_size = file.size("type_vocab_size", {"type_vocab_size"}).value_or(2);
  }
  config.tied_embeddings = file.flag("tie_word_embeddings").value_or(family.default_tied);
  config.linear_bias = read_linear_bias(file, family);
  config.causal = family.causal;
  read_experts(file, family, config);
  read_dropout(file, config);
  if (is(family, "opt")) {
    const auto projection = file.size("word_embed_proj_dim", {"word_embed_proj_dim"});
    if (projection && *projection != config.hidden_size) {
      file.fail("word_embed_proj_dim",
                "differs from hidden_size: OPT's project_in/out are not modelled");
    }
  }

  if (const auto problem = first_config_problem(config)) {
    file.fail(file.key_read(problem->field), problem->problem);
  }
  return config;
}

}  // namespace tessel::workloads
