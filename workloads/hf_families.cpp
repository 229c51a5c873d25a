#include "workloads/hf_families.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tessel::workloads {

namespace {

using nlohmann::json;

// ---- Shared readers -------------------------------------------------------------------------

// Llama's attention_bias and mlp_bias, which tessel models on all linears or none.
void read_gated_biases(ConfigFile& file, ModelConfig& config) {
  const bool attention_bias = file.flag("attention_bias").value_or(false);
  if (file.flag("mlp_bias").value_or(false) != attention_bias) {
    file.fail("mlp_bias", "differs from attention_bias; tessel models biases on all or none");
  }
  config.linear_bias = attention_bias;
}

// Gemma's and Phi-3's attention_bias would put biases on the attention's projections only.
void refuse_attention_bias(ConfigFile& file) {
  if (file.flag("attention_bias").value_or(false)) {
    file.fail("attention_bias", "biases on the attention's projections but not the MLP's are not modelled");
  }
}

// The sliding window and the layers it narrows: the file's layer_types where it lists them
// ("sliding_attention" or "full_attention" a layer, as newer transformers write them), else
// `windowed`. No window where the file gives none (null) and the family none by default.
void read_window(ConfigFile& file, ModelConfig& config, const std::function<bool(uint64_t)>& windowed,
                 std::optional<uint64_t> default_window = std::nullopt,
                 std::initializer_list<const char*> keys = {"sliding_window"}) {
  const json* given = file.find("sliding_window", keys);
  const std::optional<uint64_t> window = given ? file.size("sliding_window", keys) : default_window;
  const uint64_t layers = config.num_hidden_layers;
  std::vector<bool> sliding(layers);
  for (uint64_t layer = 0; layer < layers; ++layer) sliding[layer] = windowed(layer);
  if (const json* types = file.find("layer_types", {"layer_types"})) {
    if (!types->is_array() || types->size() != layers) {
      file.fail("layer_types", "must list \"sliding_attention\" or \"full_attention\" for each of the " +
                                   std::to_string(layers) + " layers");
    }
    for (uint64_t layer = 0; layer < layers; ++layer) {
      const json& type = (*types)[layer];
      if (type != "sliding_attention" && type != "full_attention") {
        file.fail("layer_types", "entry " + std::to_string(layer) + " is " + type.dump() +
                                     ", not \"sliding_attention\" or \"full_attention\"");
      }
      sliding[layer] = type == "sliding_attention";
    }
  }
  bool any = false;
  for (const bool layer_slides : sliding) any = any || layer_slides;
  if (!window || !any) return;
  config.sliding_window = *window;
  config.sliding_layers = sliding;
}

void every_layer_windowed(ConfigFile& file, ModelConfig& config) {
  read_window(file, config, [](uint64_t) { return true; });
}

// ---- Families -------------------------------------------------------------------------------

// GPT-2 and BERT: biases on every linear.
void read_biased(ConfigFile&, ModelConfig& config) { config.linear_bias = true; }

// do_layer_norm_before may make an OPT model post-norm; enable_bias, project_in/out.
void read_opt(ConfigFile& file, ModelConfig& config) {
  config.linear_bias = file.flag("enable_bias").value_or(true);
  if (!file.flag("do_layer_norm_before").value_or(true)) config.norm_placement = NormPlacement::Post;
  const auto projection = file.size("word_embed_proj_dim", {"word_embed_proj_dim"});
  if (projection && *projection != config.hidden_size) {
    file.fail("word_embed_proj_dim", "differs from hidden_size: OPT's project_in/out are not modelled");
  }
}

void read_llama(ConfigFile& file, ModelConfig& config) { read_gated_biases(file, config); }

void read_mistral(ConfigFile& file, ModelConfig& config) {
  read_gated_biases(file, config);
  every_layer_windowed(file, config);
}

// Every MLP replaced by num_local_experts experts of intermediate_size.
void read_mixtral(ConfigFile& file, ModelConfig& config) {
  read_mistral(file, config);
  config.experts = file.required_size("experts", {"num_local_experts"});
  config.experts_per_token = file.required_size("experts_per_token", {"num_experts_per_tok"});
  config.expert_intermediate_size = config.intermediate_size;
}

// DeepSeek-MoE (the first version: multi-head attention; V2's latent attention is another):
// the first first_k_dense_replace layers dense, shared experts beside the routed ones.
void read_deepseek(ConfigFile& file, ModelConfig& config) {
  read_gated_biases(file, config);
  config.experts = file.required_size("experts", {"n_routed_experts"});
  config.experts_per_token = file.required_size("experts_per_token", {"num_experts_per_tok"});
  config.expert_intermediate_size = file.required_size("expert_intermediate_size", {"moe_intermediate_size"});
  config.shared_experts = file.size("shared_experts", {"n_shared_experts"}).value_or(0);
  config.first_dense_layers = file.count("first_dense_layers", {"first_k_dense_replace"}).value_or(0);
  if (file.size("moe_layer_freq", {"moe_layer_freq"}).value_or(1) != 1) {
    file.fail("moe_layer_freq", "experts in every n-th layer only are not modelled: every layer after "
                                "first_k_dense_replace has them");
  }
}

// Qwen2: biases on Q, K and V only. With use_sliding_window, the layers from max_window_layers
// on have the window (HF's Qwen2 attention and layer_types; its docstring says the reverse).
void read_qwen2(ConfigFile& file, ModelConfig& config) {
  config.qkv_bias = true;
  const uint64_t first_windowed = file.count("max_window_layers", {"max_window_layers"}).value_or(28);
  if (file.flag("use_sliding_window").value_or(false)) {
    read_window(file, config, [&](uint64_t layer) { return layer >= first_windowed; });
  } else {
    // HF drops the window then: the keys change nothing.
    file.mark_read("sliding_window");
    file.mark_read("layer_types");
  }
}

// Qwen-MoE: Qwen2's attention; experts (HF's defaults where absent) beside a shared expert of
// shared_expert_intermediate_size behind a sigmoid gate. Leading mlp_only_layers are dense.
void read_qwen2_moe(ConfigFile& file, ModelConfig& config) {
  read_qwen2(file, config);
  config.experts = file.size("experts", {"num_experts"}).value_or(60);
  config.experts_per_token = file.size("experts_per_token", {"num_experts_per_tok"}).value_or(4);
  config.expert_intermediate_size =
      file.size("expert_intermediate_size", {"moe_intermediate_size"}).value_or(1408);
  const uint64_t shared = file.count("shared_experts", {"shared_expert_intermediate_size"}).value_or(5632);
  if (shared % config.expert_intermediate_size != 0) {
    file.fail("shared_expert_intermediate_size",
              std::to_string(shared) + " is not a whole number of experts of moe_intermediate_size (" +
                  std::to_string(config.expert_intermediate_size) + "): tessel models the shared expert so");
  }
  config.shared_experts = shared / config.expert_intermediate_size;
  config.shared_expert_gate = shared > 0;
  if (file.size("decoder_sparse_step", {"decoder_sparse_step"}).value_or(1) != 1) {
    file.fail("decoder_sparse_step", "experts in every n-th layer only are not modelled: every layer has them");
  }
  if (const json* dense = file.find("mlp_only_layers", {"mlp_only_layers"})) {
    if (!dense->is_array()) file.fail("mlp_only_layers", "must be a list of layer indices");
    for (uint64_t i = 0; i < dense->size(); ++i) {
      if ((*dense)[i] != i) {
        file.fail("mlp_only_layers", "dense layers are modelled as the leading ones only (0, 1, ...), got " +
                                         dense->dump());
      }
    }
    config.first_dense_layers = dense->size();
  }
}

// Gemma: a GeGLU MLP, heads of 256 unless head_dim says otherwise.
void read_gemma(ConfigFile& file, ModelConfig& config) {
  refuse_attention_bias(file);
  config.head_dim = file.size("head_dim", {"head_dim"}).value_or(256);
}

// Gemma 2: Gemma's, with four norms a layer, soft caps (null: none) and the window on every
// other layer from the first.
void read_gemma2(ConfigFile& file, ModelConfig& config) {
  read_gemma(file, config);
  config.post_sublayer_norms = true;
  const auto cap = [&](const char* key, double fallback) {
    if (!file.find(key, {key})) return file.has(key) ? 0.0 : fallback;  // null: no cap
    const double value = file.number(key, {key}).value();
    if (value <= 0) file.fail(key, "must be positive, or null for none");
    return value;
  };
  config.attention_softcap = cap("attn_logit_softcapping", 50);
  config.logit_softcap = cap("final_logit_softcapping", 30);
  read_window(file, config, [](uint64_t layer) { return layer % 2 == 0; }, 4096,
              {"sliding_window", "sliding_window_size"});
}

void read_phi3(ConfigFile& file, ModelConfig& config) {
  refuse_attention_bias(file);
  every_layer_windowed(file, config);
}

// Falcon: the old architecture's multi_query (one K/V head) and parallel_attn (attention and
// MLP from one norm), or new_decoder_architecture's num_kv_heads and a norm for each sub-block
// (num_ln_in_parallel_attn 2). ALiBi is refused.
void read_falcon(ConfigFile& file, ModelConfig& config) {
  if (file.flag("alibi").value_or(false)) {
    file.fail("alibi", "ALiBi's position biases are not modelled; tessel models Falcon with rotary embeddings");
  }
  if (file.flag("apply_residual_connection_post_layernorm").value_or(false)) {
    file.fail("apply_residual_connection_post_layernorm", "a residual taken after the norm is not modelled");
  }
  config.linear_bias = file.flag("bias").value_or(false);
  const bool new_architecture = file.flag("new_decoder_architecture").value_or(false);
  const bool multi_query = file.flag("multi_query").value_or(true);
  const bool parallel = file.flag("parallel_attn").value_or(true);
  const auto kv_heads = file.size("num_key_value_heads", {"num_kv_heads"});
  if (new_architecture) {
    config.num_key_value_heads = kv_heads.value_or(config.num_attention_heads);
    const uint64_t norms = file.size("num_ln_in_parallel_attn", {"num_ln_in_parallel_attn"}).value_or(2);
    if (norms > 2) file.fail("num_ln_in_parallel_attn", "must be 1 or 2");
    config.block_layout = norms == 2 ? BlockLayout::Parallel : BlockLayout::ParallelSharedNorm;
  } else {
    config.num_key_value_heads = multi_query ? 1 : config.num_attention_heads;
    config.block_layout = parallel ? BlockLayout::ParallelSharedNorm : BlockLayout::Sequential;
  }
}

// GPT-NeoX (Pythia): biases everywhere (attention_bias false would leave the MLP's only),
// use_parallel_residual's two sub-blocks from two norms.
void read_gpt_neox(ConfigFile& file, ModelConfig& config) {
  if (!file.flag("attention_bias").value_or(true)) {
    file.fail("attention_bias", "biases on the MLP's projections but not the attention's are not modelled");
  }
  config.linear_bias = true;
  if (file.flag("use_parallel_residual").value_or(true)) config.block_layout = BlockLayout::Parallel;
}

constexpr Norm kLayerNorm = Norm::LayerNorm;
constexpr Norm kRmsNorm = Norm::RmsNorm;
constexpr NormPlacement kPre = NormPlacement::Pre;
constexpr Positional kRope = Positional::Rope;
constexpr Positional kLearned = Positional::Learned;

const Family kFamilies[] = {
    // model_type, gated, norm, placement, positions, causal, activation, tied, offset, 4 × hidden,
    // rotary share, activation key, particulars
    {"bert", false, kLayerNorm, NormPlacement::Post, kLearned, false, "gelu", true, 0, false, 1, nullptr, read_biased},
    {"gpt2", false, kLayerNorm, kPre, kLearned, true, "gelu_new", true, 0, true, 1, nullptr, read_biased},
    {"llama", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_llama},
    {"mistral", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_mistral},
    {"mixtral", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_mixtral},
    {"deepseek", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_deepseek},
    // OPTLearnedPositionalEmbedding offsets positions by 2.
    {"opt", false, kLayerNorm, kPre, kLearned, true, "relu", true, 2, false, 1, nullptr, read_opt},
    {"qwen2", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_qwen2},
    {"qwen2_moe", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_qwen2_moe},
    // HF's Gemma takes hidden_activation, else the tanh-form GELU, whatever hidden_act says.
    {"gemma", true, kRmsNorm, kPre, kRope, true, "gelu_pytorch_tanh", true, 0, false, 1, "hidden_activation",
     read_gemma},
    {"gemma2", true, kRmsNorm, kPre, kRope, true, "gelu_pytorch_tanh", true, 0, false, 1, "hidden_activation",
     read_gemma2},
    {"phi3", true, kRmsNorm, kPre, kRope, true, "silu", false, 0, false, 1, nullptr, read_phi3},
    {"falcon", false, kLayerNorm, kPre, kRope, true, "gelu", true, 0, true, 1, nullptr, read_falcon},
    {"gpt_neox", false, kLayerNorm, kPre, kRope, true, "gelu", false, 0, false, 0.25, nullptr, read_gpt_neox},
};

std::string known_model_types() {
  std::string known;
  for (const Family& family : kFamilies) known += (known.empty() ? "" : ", ") + std::string(family.model_type);
  return known;
}

}  // namespace

const Family& read_family(ConfigFile& file) {
  const auto model_type = file.text("model_type", {"model_type"});
  if (!model_type) {
    file.fail("model_type", "is missing; it decides the norm, positions and MLP (known: " + known_model_types() + ")");
  }
  for (const Family& family : kFamilies) {
    if (*model_type == family.model_type) return family;
  }
  file.fail("model_type", "'" + *model_type + "' is not supported (known: " + known_model_types() + ")");
}

}  // namespace tessel::workloads
