#include "workloads/model_config.h"

#include <cctype>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

// GPT-2's shape: pre-LayerNorm, learned positions, a tanh-GELU MLP of 4 × hidden, biases
// everywhere, the LM head tied to the 50257-token BPE embedding table.
ModelConfig gpt2_like(std::string name, uint64_t hidden, uint64_t layers, uint64_t heads,
                      uint64_t positions) {
  ModelConfig config;
  config.name = std::move(name);
  config.hidden_size = hidden;
  config.intermediate_size = 4 * hidden;
  config.num_attention_heads = heads;
  config.num_key_value_heads = heads;
  config.num_hidden_layers = layers;
  config.vocab_size = 50257;
  config.head_dim = hidden / heads;
  config.activation = Activation::Gelu;
  config.norm = Norm::LayerNorm;
  config.norm_placement = NormPlacement::Pre;
  config.positional = Positional::Learned;
  config.position_table_size = positions;
  config.tied_embeddings = true;
  config.linear_bias = true;
  // GPT-2's attn_pdrop, resid_pdrop and embd_pdrop (BERT's dropout probabilities are the same).
  config.attention_dropout = 0.1;
  config.hidden_dropout = 0.1;
  config.embedding_dropout = 0.1;
  return config;
}

// BERT's shape: an encoder, post-LayerNorm, learned positions plus 2 segment types, GELU,
// biases, a 30522-token WordPiece vocabulary, 512 positions.
ModelConfig bert_like(std::string name, uint64_t hidden, uint64_t intermediate, uint64_t layers,
                      uint64_t heads) {
  ModelConfig config = gpt2_like(std::move(name), hidden, layers, heads, 512);
  config.intermediate_size = intermediate;
  config.vocab_size = 30522;
  config.norm_placement = NormPlacement::Post;
  config.type_vocab_size = 2;
  config.causal = false;
  return config;
}

// Llama's shape: pre-RMSNorm, RoPE, a SwiGLU MLP, no biases, an untied LM head.
ModelConfig llama_like(std::string name, uint64_t hidden, uint64_t intermediate, uint64_t layers,
                       uint64_t heads, uint64_t kv_heads, uint64_t vocab) {
  ModelConfig config;
  config.name = std::move(name);
  config.hidden_size = hidden;
  config.intermediate_size = intermediate;
  config.num_attention_heads = heads;
  config.num_key_value_heads = kv_heads;
  config.num_hidden_layers = layers;
  config.vocab_size = vocab;
  config.head_dim = hidden / heads;
  config.activation = Activation::SiluGated;
  config.norm = Norm::RmsNorm;
  config.norm_placement = NormPlacement::Pre;
  config.positional = Positional::Rope;
  config.tied_embeddings = false;
  config.linear_bias = false;
  return config;
}

std::vector<ModelConfig> make_presets() {
  // Hub addresses are huggingface.co/<repo>/blob/main/config.json.
  std::vector<ModelConfig> presets;
  // openai-community/gpt2, gpt2-medium, gpt2-large, gpt2-xl: n_embd, n_layer, n_head,
  // n_positions 1024, vocab_size 50257, n_inner null (4 × n_embd), gelu_new.
  presets.push_back(gpt2_like("gpt2", 768, 12, 12, 1024));
  presets.push_back(gpt2_like("gpt2-medium", 1024, 24, 16, 1024));
  presets.push_back(gpt2_like("gpt2-large", 1280, 36, 20, 1024));
  presets.push_back(gpt2_like("gpt2-xl", 1600, 48, 25, 1024));
  // google-bert/bert-base-uncased and bert-large-uncased (Devlin et al. 2018, table of
  // BERT_BASE L=12 H=768 A=12 and BERT_LARGE L=24 H=1024 A=16; intermediate 4H).
  presets.push_back(bert_like("bert-base", 768, 3072, 12, 12));
  presets.push_back(bert_like("bert-large", 1024, 4096, 24, 16));
  // Brown et al. 2020 ("Language Models are Few-Shot Learners"), Table 2.1: 96 layers,
  // d_model 12288, 96 heads of 128, d_ff = 4 × d_model, 2048-token context, GPT-2's
  // tokenizer and architecture (so tied embeddings). The alternating locally banded sparse
  // attention layers are modelled as dense.
  presets.push_back(gpt2_like("gpt3-175b", 12288, 96, 96, 2048));
  // facebook/opt-1.3b: hidden_size 2048, ffn_dim 8192, 24 layers, 32 heads, vocab_size 50272,
  // relu, do_layer_norm_before true, tied; the position table has max_position_embeddings
  // 2048 + 2 rows (OPTLearnedPositionalEmbedding's offset).
  // dropout 0.1 (on the embeddings and each residual branch), attention_dropout 0.
  ModelConfig opt = gpt2_like("opt-1.3b", 2048, 24, 32, 2048 + 2);
  opt.attention_dropout = 0;
  opt.intermediate_size = 8192;
  opt.vocab_size = 50272;
  opt.activation = Activation::Relu;
  presets.push_back(opt);
  // meta-llama/Llama-2-7b-hf, Llama-2-13b-hf, Llama-2-70b-hf.
  presets.push_back(llama_like("llama2-7b", 4096, 11008, 32, 32, 32, 32000));
  presets.push_back(llama_like("llama2-13b", 5120, 13824, 40, 40, 40, 32000));
  presets.push_back(llama_like("llama2-70b", 8192, 28672, 80, 64, 8, 32000));
  // meta-llama/Meta-Llama-3-8B, Meta-Llama-3-70B: a 128256-token vocabulary, GQA with 8 KV
  // heads.
  presets.push_back(llama_like("llama3-8b", 4096, 14336, 32, 32, 8, 128256));
  presets.push_back(llama_like("llama3-70b", 8192, 28672, 80, 64, 8, 128256));
  // mistralai/Mistral-7B-v0.1: Llama's shape with GQA. Its 4096-token sliding window is not
  // modelled: attention spans the whole context.
  presets.push_back(llama_like("mistral-7b", 4096, 14336, 32, 32, 8, 32000));
  // mistralai/Mixtral-8x7B-v0.1: Mistral's shape with every MLP replaced by 8 experts of
  // 14336, 2 a token (num_local_experts, num_experts_per_tok).
  ModelConfig mixtral = llama_like("mixtral-8x7b", 4096, 14336, 32, 32, 8, 32000);
  mixtral.experts = 8;
  mixtral.experts_per_token = 2;
  mixtral.expert_intermediate_size = 14336;
  presets.push_back(mixtral);
  // deepseek-ai/deepseek-moe-16b-base: the first layer dense (intermediate_size 10944,
  // first_k_dense_replace 1), the others 64 routed experts of 1408 (moe_intermediate_size),
  // 6 a token, and 2 shared experts; 16 heads of 128, a 102400-token vocabulary.
  ModelConfig deepseek = llama_like("deepseek-moe-16b", 2048, 10944, 28, 16, 16, 102400);
  deepseek.experts = 64;
  deepseek.experts_per_token = 6;
  deepseek.shared_experts = 2;
  deepseek.expert_intermediate_size = 1408;
  deepseek.first_dense_layers = 1;
  presets.push_back(deepseek);
  // Not a published model: small enough to run every op through the numerics check.
  presets.push_back(llama_like("tiny", 64, 128, 2, 4, 2, 256));
  // A tiny mixture of experts: 4 experts of 32, 2 a token, one shared, the first layer dense.
  ModelConfig tiny_moe = llama_like("tiny-moe", 64, 128, 3, 4, 2, 256);
  tiny_moe.experts = 4;
  tiny_moe.experts_per_token = 2;
  tiny_moe.shared_experts = 1;
  tiny_moe.expert_intermediate_size = 32;
  tiny_moe.first_dense_layers = 1;
  presets.push_back(tiny_moe);
  return presets;
}

const std::vector<ModelConfig>& presets() {
  static const std::vector<ModelConfig> all = make_presets();
  return all;
}

}  // namespace

std::optional<ConfigProblem> first_config_problem(const ModelConfig& config) {
  const std::pair<const char*, uint64_t> sizes[] = {
      {"hidden_size", config.hidden_size},
      {"intermediate_size", config.intermediate_size},
      {"num_attention_heads", config.num_attention_heads},
      {"num_key_value_heads", config.num_key_value_heads},
      {"num_hidden_layers", config.num_hidden_layers},
      {"vocab_size", config.vocab_size},
  };
  for (const auto& [field, size] : sizes) {
    if (size == 0) return ConfigProblem{field, "must be positive"};
  }
  if (config.hidden_size % config.num_attention_heads != 0) {
    return ConfigProblem{"num_attention_heads", std::to_string(config.num_attention_heads) +
                                                    " does not divide the hidden size (" +
                                                    std::to_string(config.hidden_size) + ")"};
  }
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    return ConfigProblem{"num_key_value_heads",
                         std::to_string(config.num_key_value_heads) +
                             " does not divide the number of attention heads (" +
                             std::to_string(config.num_attention_heads) + ")"};
  }
  if (config.head_dim == 0) return ConfigProblem{"head_dim", "must be positive"};
  if (config.positional == Positional::Learned && config.position_table_size == 0) {
    return ConfigProblem{"position_table_size", "learned positions need a table of some rows"};
  }
  if (config.mixture_of_experts()) {
    if (config.experts_per_token == 0 || config.experts_per_token > config.experts) {
      return ConfigProblem{"experts_per_token", "must be between 1 and the " + std::to_string(config.experts) +
                                                    " experts"};
    }
    if (config.expert_intermediate_size == 0) return ConfigProblem{"expert_intermediate_size", "must be positive"};
    if (config.first_dense_layers >= config.num_hidden_layers) {
      return ConfigProblem{"first_dense_layers", "leaves no layer to the experts"};
    }
    if (config.activation != Activation::SiluGated) {
      return ConfigProblem{"activation", "experts are modelled as gated (SwiGLU) MLPs"};
    }
  }
  return std::nullopt;
}

void validate(const ModelConfig& config) {
  if (const auto problem = first_config_problem(config)) {
    throw InputError(config.name + ": field '" + problem->field + "': " + problem->problem);
  }
}

ModelConfig model_preset(const std::string& name) {
  // Users write the published spellings too: Llama-2-70B, llama_2_70b, Mistral-7B.
  const auto folded = [](const std::string& text) {
    std::string key;
    for (const char c : text) {
      if (c != '-' && c != '_') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return key;
  };
  for (const ModelConfig& preset : presets()) {
    if (folded(preset.name) == folded(name)) return preset;
  }
  std::string known;
  for (const std::string& preset : preset_names()) known += (known.empty() ? "" : ", ") + preset;
  throw InputError("unknown model preset '" + name + "' (known: " + known + ")");
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const ModelConfig& preset : presets()) names.push_back(preset.name);
  return names;
}

}  // namespace tessel::workloads
