#include "workloads/hf_config.h"

#include <filesystem>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "workloads/hf_config_file.h"
#include "workloads/hf_families.h"
#include "workloads/hf_quantization.h"

namespace tessel::workloads {

namespace {

using nlohmann::json;

std::string model_name(const std::string& path) {
  const std::filesystem::path file(path);
  if (file.filename() == "config.json" && file.has_parent_path()) {
    const std::string directory = file.parent_path().filename().string();
    if (!directory.empty() && directory != "." && directory != "..") return directory;
  }
  return file.stem().string();
}

bool is_gelu(const std::string& name) {
  for (const char* gelu : {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_python", "gelu_accurate"}) {
    if (name == gelu) return true;
  }
  return false;
}

Activation read_activation(ConfigFile& file, const Family& family) {
  std::optional<std::string> given;
  if (family.activation_key) {
    given = file.text("activation", {family.activation_key});
    for (const char* ignored : {"hidden_act", "activation_function"}) file.mark_read(ignored);
  } else {
    given = file.text("activation", {"hidden_act", "activation_function", "activation"});
  }
  const std::string name = given.value_or(family.default_activation);
  const std::string key = file.key_read("activation");
  const bool silu = name == "silu" || name == "swish";
  if (family.gated_mlp) {
    if (silu) return Activation::SiluGated;
    if (is_gelu(name)) return Activation::GeluGated;
    file.fail(key, "'" + name + "': a " + family.model_type +
                       " MLP is gated, and tessel models silu (or swish) and gelu gating");
  }
  if (is_gelu(name)) return Activation::Gelu;
  if (name == "relu") return Activation::Relu;
  file.fail(key, "'" + name + "' is not supported (gelu and its tanh forms, relu)");
}

// The families' names for the dropout probabilities (GPT-2's *_pdrop, BERT's *_prob, OPT's,
// Llama's and Falcon's attention_dropout and dropout or hidden_dropout); the embeddings take
// the hidden states' where the family names no probability of their own.
void read_dropout(ConfigFile& file, ModelConfig& config) {
  config.attention_dropout =
      file.probability("attention_dropout", {"attn_pdrop", "attention_dropout", "attention_probs_dropout_prob"})
          .value_or(0);
  config.hidden_dropout =
      file.probability("hidden_dropout", {"resid_pdrop", "hidden_dropout_prob", "hidden_dropout", "dropout"})
          .value_or(0);
  config.embedding_dropout = file.probability("embedding_dropout", {"embd_pdrop"}).value_or(config.hidden_dropout);
}

// RoPE rotates partial_rotary_factor (GPT-NeoX's rotary_pct) of each head. rope_scaling's
// types change only the table of rotation angles, never the work (linear and dynamic NTK
// scaling, YaRN, LongRoPE, Llama 3's): only a type tessel does not know is reported.
void read_rotary(ConfigFile& file, const Family& family, ModelConfig& config) {
  if (config.positional != Positional::Rope) return;
  config.rotary_fraction =
      file.number("rotary_fraction", {"partial_rotary_factor", "rotary_pct"}).value_or(family.default_rotary_fraction);
  const json* scaling = file.find("rope_scaling", {"rope_scaling"});
  if (!scaling) return;
  if (!scaling->is_object()) file.fail("rope_scaling", "must be an object or null, got " + scaling->dump());
  const json type = scaling->contains("rope_type") ? scaling->at("rope_type") : scaling->value("type", json());
  for (const char* known : {"default", "linear", "dynamic", "yarn", "longrope", "su", "llama3"}) {
    if (type == known) return;
  }
  file.warn("rope_scaling", "type " + type.dump() +
                                " is not known to tessel; RoPE is costed as plain rotary embeddings, which may not "
                                "be this scaling's work");
}

// Keys that change nothing tessel computes: ids, provenance, initialisation, epsilons, RoPE's
// base and trained context, settings of heads and losses tessel does not build.
constexpr const char* kSilentKeys[] = {
    "_name_or_path", "architectures", "auto_map", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
    "decoder_start_token_id", "torch_dtype", "dtype", "transformers_version", "use_cache", "initializer_range",
    "init_std", "tokenizer_class", "prefix", "id2label", "label2id", "problem_type", "return_dict",
    "output_attentions", "output_hidden_states", "torchscript", "task_specific_params", "finetuning_task",
    "max_position_embeddings", "n_ctx", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "rope_theta",
    "rotary_emb_base", "original_max_position_embeddings", "pretraining_tp", "classifier_dropout", "summary_type",
    "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
    "gradient_checkpointing", "output_router_logits", "router_aux_loss_coef", "aux_loss_alpha", "seq_aux",
    "norm_topk_prob", "scale_attn_weights", "scale_attn_by_inverse_layer_idx", "query_pre_attn_scalar",
    "cache_implementation", "use_bfloat16", "chunk_size_feed_forward",
};

// Keys that change the computation away from their usual value, and how.
struct UnmodelledKey {
  const char* key;
  json usual;  // null: any value changes it
  const char* what;
};

const UnmodelledKey kUnmodelledKeys[] = {
    {"attn_implementation", json(), "the attention kernel is the one --attention asks for (fused or unfused), "
                                    "not the file's"},
    {"_attn_implementation", json(), "the attention kernel is the one --attention asks for (fused or unfused), "
                                     "not the file's"},
    {"layerdrop", 0.0, "training skips whole layers at random; tessel trains every layer"},
    {"activation_dropout", 0.0, "dropout after the MLP's activation is not modelled"},
    {"router_jitter_noise", 0.0, "the noise training adds to the router's input is not modelled"},
    {"_remove_final_layer_norm", false, "the final norm is modelled all the same"},
    {"layer_norm_elementwise_affine", true, "norms without gains and shifts are not modelled: their parameters "
                                            "are counted"},
    {"reorder_and_upcast_attn", false, "attention scores upcast to fp32 are not modelled"},
    {"position_embedding_type", "absolute", "relative position embeddings are not modelled: positions are "
                                            "costed as an absolute table"},
    {"scoring_func", "softmax", "the router is costed as a softmax"},
    {"topk_method", "greedy", "group-limited routing is costed as a plain top-k"},
    {"use_mrope", false, "multimodal rotary embeddings (M-RoPE) are costed as plain RoPE"},
};

bool is_silent(const std::string& key) {
  for (const char* silent : kSilentKeys) {
    if (key == silent) return true;
  }
  return false;
}

// Every key read_hf_config left unread is silent, known to change the computation (a warning
// saying how, unless at its usual value), or unknown to tessel (a warning: it may change it).
void warn_unread(ConfigFile& file) {
  for (const std::string& key : file.unread_keys()) {
    const json& value = file.value(key);
    if (value.is_null() || is_silent(key)) continue;
    bool known = false;
    for (const UnmodelledKey& unmodelled : kUnmodelledKeys) {
      if (key != unmodelled.key) continue;
      known = true;
      const bool usual = !unmodelled.usual.is_null() && value == unmodelled.usual;
      if (!usual) file.warn(key, value.dump() + ": " + unmodelled.what);
    }
    if (!known) file.warn(key, "not read: tessel does not know whether it changes the computation");
  }
}

}  // namespace

ModelConfig read_hf_config(const std::string& path) {
  ConfigFile file(path);
  const Family& family = read_family(file);

  ModelConfig config;
  config.name = model_name(path);
  config.hidden_size = file.required_size("hidden_size", {"hidden_size", "n_embd"});
  config.num_attention_heads = file.required_size("num_attention_heads", {"num_attention_heads", "n_head"});
  config.num_hidden_layers = file.required_size("num_hidden_layers", {"num_hidden_layers", "n_layer"});
  config.vocab_size = file.required_size("vocab_size", {"vocab_size"});
  config.num_key_value_heads =
      file.size("num_key_value_heads", {"num_key_value_heads"}).value_or(config.num_attention_heads);
  // GPT-2 writes n_inner null (or leaves it out) for 4 × n_embd, as Falcon does ffn_hidden_size.
  const std::initializer_list<const char*> intermediate_keys = {"intermediate_size", "n_inner", "ffn_dim",
                                                                "ffn_hidden_size"};
  const auto intermediate = file.size("intermediate_size", intermediate_keys);
  if (!intermediate && !family.four_times_hidden) file.fail_missing(intermediate_keys);
  config.intermediate_size = intermediate.value_or(4 * config.hidden_size);
  const std::optional<uint64_t> head_dim = file.size("head_dim", {"head_dim"});
  if (!head_dim && config.hidden_size % config.num_attention_heads != 0) {
    // Without head_dim the heads split the hidden size; with it they need not (Gemma's do not).
    file.fail(file.key_read("num_attention_heads"), std::to_string(config.num_attention_heads) +
                                                        " does not divide the hidden size (" +
                                                        std::to_string(config.hidden_size) + ") and no head_dim is given");
  }
  config.head_dim = head_dim.value_or(config.hidden_size / config.num_attention_heads);
  config.activation = read_activation(file, family);
  config.norm = family.norm;
  config.norm_placement = family.norm_placement;
  config.positional = family.positional;
  if (family.positional == Positional::Learned) {
    config.position_table_size =
        file.required_size("position_table_size", {"max_position_embeddings", "n_positions"}) +
        family.position_offset;
  }
  if (!family.causal) config.type_vocab_size = file.size("type_vocab_size", {"type_vocab_size"}).value_or(2);
  config.tied_embeddings = file.flag("tie_word_embeddings").value_or(family.default_tied);
  config.causal = family.causal;
  read_rotary(file, family, config);
  read_dropout(file, config);
  family.read_particulars(file, config);
  read_quantization(file, config);
  warn_unread(file);
  config.warnings = file.warnings();

  if (const auto problem = first_config_problem(config)) file.fail(file.key_read(problem->field), problem->problem);
  return config;
}

}  // namespace tessel::workloads
