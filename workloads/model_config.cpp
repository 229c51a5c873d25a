#include "workloads/model_config.h"

#include <cctype>
#include <cmath>
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

// Qwen2's shape: Llama's with biases on Q, K and V only.
ModelConfig qwen2_like(std::string name, uint64_t hidden, uint64_t intermediate, uint64_t layers, uint64_t heads,
                       uint64_t kv_heads, uint64_t vocab) {
  ModelConfig config = llama_like(std::move(name), hidden, intermediate, layers, heads, kv_heads, vocab);
  config.qkv_bias = true;
  return config;
}

// Gemma's shape: Llama's with a GeGLU MLP, heads of 256 whatever the width, a 256000-token
// vocabulary and the LM head tied to it.
ModelConfig gemma_like(std::string name, uint64_t hidden, uint64_t intermediate, uint64_t layers, uint64_t heads,
                       uint64_t kv_heads, uint64_t head_dim) {
  ModelConfig config = llama_like(std::move(name), hidden, intermediate, layers, heads, kv_heads, 256000);
  config.head_dim = head_dim;
  config.activation = Activation::GeluGated;
  config.tied_embeddings = true;
  return config;
}

// Gemma 2: Gemma's with four norms a layer, scores capped at 50 and logits at 30, and a
// 4096-token window on every other layer, from the first.
ModelConfig gemma2_like(std::string name, uint64_t hidden, uint64_t intermediate, uint64_t layers, uint64_t heads,
                        uint64_t kv_heads, uint64_t head_dim) {
  ModelConfig config = gemma_like(std::move(name), hidden, intermediate, layers, heads, kv_heads, head_dim);
  config.post_sublayer_norms = true;
  config.attention_softcap = 50;
  config.logit_softcap = 30;
  config.sliding_window = 4096;
  for (uint64_t layer = 0; layer < layers; ++layer) config.sliding_layers.push_back(layer % 2 == 0);
  return config;
}

// Falcon's shape: LayerNorm, RoPE, a 4 × hidden GELU MLP beside the attention, no biases, heads
// of 64, a 65024-token vocabulary tied to the LM head.
ModelConfig falcon_like(std::string name, uint64_t hidden, uint64_t layers, uint64_t heads, uint64_t kv_heads,
                        BlockLayout layout) {
  ModelConfig config = llama_like(std::move(name), hidden, 4 * hidden, layers, heads, kv_heads, 65024);
  config.activation = Activation::Gelu;
  config.norm = Norm::LayerNorm;
  config.tied_embeddings = true;
  config.block_layout = layout;
  return config;
}

// GPT-NeoX's shape: LayerNorm, RoPE on a quarter of each head, attention and MLP in parallel
// with a norm each, biases everywhere, an untied LM head over a 50432-token vocabulary.
ModelConfig neox_like(std::string name, uint64_t hidden, uint64_t layers, uint64_t heads) {
  ModelConfig config = llama_like(std::move(name), hidden, 4 * hidden, layers, heads, heads, 50432);
  config.activation = Activation::Gelu;
  config.norm = Norm::LayerNorm;
  config.linear_bias = true;
  config.rotary_fraction = 0.25;
  config.block_layout = BlockLayout::Parallel;
  return config;
}

ModelConfig with_window(ModelConfig config, uint64_t window) {
  config.sliding_window = window;
  config.sliding_layers.assign(config.num_hidden_layers, true);
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
  // mistralai/Mistral-7B-v0.1: Llama's shape with GQA and a 4096-token sliding window on every
  // layer.
  presets.push_back(with_window(llama_like("mistral-7b", 4096, 14336, 32, 32, 8, 32000), 4096));
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
  // Qwen/Qwen2-7B and Qwen/Qwen2.5-7B, the same shape: 28 heads of 128 with 4 K/V heads, a
  // 152064-token vocabulary, untied; use_sliding_window false.
  presets.push_back(qwen2_like("qwen2-7b", 3584, 18944, 28, 28, 4, 152064));
  presets.push_back(qwen2_like("qwen2.5-7b", 3584, 18944, 28, 28, 4, 152064));
  // Qwen/Qwen1.5-MoE-A2.7B: every layer 60 experts of 1408 (moe_intermediate_size), 4 a token,
  // beside a gated shared expert of 5632 (shared_expert_intermediate_size: 4 experts' width).
  ModelConfig qwen_moe = qwen2_like("qwen1.5-moe-a2.7b", 2048, 5632, 24, 16, 16, 151936);
  qwen_moe.experts = 60;
  qwen_moe.experts_per_token = 4;
  qwen_moe.expert_intermediate_size = 1408;
  qwen_moe.shared_experts = 4;
  qwen_moe.shared_expert_gate = true;
  presets.push_back(qwen_moe);
  // google/gemma-2b (multi-query) and gemma-7b.
  presets.push_back(gemma_like("gemma-2b", 2048, 16384, 18, 8, 1, 256));
  presets.push_back(gemma_like("gemma-7b", 3072, 24576, 28, 16, 16, 256));
  // google/gemma-2-9b and gemma-2-27b.
  presets.push_back(gemma2_like("gemma2-9b", 3584, 14336, 42, 16, 8, 256));
  presets.push_back(gemma2_like("gemma2-27b", 4608, 36864, 46, 32, 16, 128));
  // microsoft/Phi-3-mini-4k-instruct: Llama's shape over a 32064-token vocabulary, with a
  // 2047-token sliding window on every layer.
  presets.push_back(with_window(llama_like("phi3-mini", 3072, 8192, 32, 32, 32, 32064), 2047));
  // tiiuae/falcon-7b: 71 heads sharing one K/V head, one norm feeding attention and MLP.
  // tiiuae/falcon-40b: the new decoder architecture, 8 K/V heads and a norm each.
  presets.push_back(falcon_like("falcon-7b", 4544, 32, 71, 1, BlockLayout::ParallelSharedNorm));
  presets.push_back(falcon_like("falcon-40b", 8192, 60, 128, 8, BlockLayout::Parallel));
  // EleutherAI/pythia-6.9b and gpt-neox-20b.
  presets.push_back(neox_like("pythia-6.9b", 4096, 32, 32));
  presets.push_back(neox_like("gpt-neox-20b", 6144, 44, 64));
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
  if (config.rotary_fraction <= 0 || config.rotary_fraction > 1) {
    return ConfigProblem{"rotary_fraction", "must be in (0, 1]"};
  }
  if (config.positional == Positional::Rope && (config.rotary_dim() < 2 || config.rotary_dim() % 2 != 0)) {
    return ConfigProblem{"rotary_fraction", "rotates " + std::to_string(config.rotary_dim()) + " of the " +
                                                std::to_string(config.head_dim) +
                                                " dims of a head; RoPE rotates pairs, an even number of at least 2"};
  }
  if (config.norm_placement == NormPlacement::Post &&
      (config.block_layout != BlockLayout::Sequential || config.post_sublayer_norms)) {
    return ConfigProblem{"norm_placement", "parallel sub-blocks and post-sub-block norms are modelled pre-norm"};
  }
  if (config.attention_softcap < 0) return ConfigProblem{"attention_softcap", "must be positive, or 0 for none"};
  if (config.logit_softcap < 0) return ConfigProblem{"logit_softcap", "must be positive, or 0 for none"};
  if (config.sliding_window > 0 && !config.causal) {
    return ConfigProblem{"sliding_window", "a sliding window narrows a decoder's causal mask; this is an encoder"};
  }
  const uint64_t windowed_entries = config.sliding_window > 0 ? config.num_hidden_layers : 0;
  if (config.sliding_layers.size() != windowed_entries) {
    return ConfigProblem{"sliding_layers", "has " + std::to_string(config.sliding_layers.size()) +
                                               " entries; it needs one a layer with a sliding window, none without"};
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
  if (config.mixture_of_experts() && config.block_layout != BlockLayout::Sequential) {
    return ConfigProblem{"block_layout", "experts are modelled in sequential layers, not beside the attention"};
  }
  if (config.shared_expert_gate && config.shared_experts == 0) {
    return ConfigProblem{"shared_expert_gate", "gates shared experts, and there are none"};
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

namespace {

// `count` less its `share`, rounded to the nearest; at least one left, at least one gone.
uint64_t after_removing(uint64_t count, double share, const std::string& what, const ModelConfig& model,
                        const QuantRecipe& recipe) {
  const auto removed = static_cast<uint64_t>(std::llround(static_cast<double>(count) * share));
  if (removed == 0 || removed >= count) {
    throw InputError("--quant " + recipe.name + ": removing " + std::to_string(std::lround(share * 100)) + "% of " +
                     model.name + "'s " + std::to_string(count) + " " + what + " removes " +
                     (removed == 0 ? "none" : "all") + " of them");
  }
  return count - removed;
}

uint64_t pruned_mlp(uint64_t channels, double share, const ModelConfig& model, const QuantRecipe& recipe) {
  const uint64_t granule = channels >= 1024 ? 128 : 8;
  return granule * after_removing(channels / granule, share, "MLP channels in blocks of " + std::to_string(granule),
                                   model, recipe);
}

}  // namespace

ModelConfig with_recipe(ModelConfig model, QuantRecipe recipe) {
  const ShapePruning prune = recipe.prune;
  if (prune.heads > 0) {
    const uint64_t per_group = model.num_attention_heads / model.num_key_value_heads;
    if (per_group == 1) {
      model.num_attention_heads = after_removing(model.num_attention_heads, prune.heads, "attention heads", model, recipe);
      model.num_key_value_heads = model.num_attention_heads;
    } else {
      const uint64_t kept = after_removing(per_group, prune.heads, "query heads of each KV group", model, recipe);
      model.num_attention_heads = kept * model.num_key_value_heads;
    }
  }
  if (prune.mlp_channels > 0) {
    if (!model.mixture_of_experts() || model.first_dense_layers > 0) {
      model.intermediate_size = pruned_mlp(model.intermediate_size, prune.mlp_channels, model, recipe);
    }
    if (model.mixture_of_experts()) {
      model.expert_intermediate_size = pruned_mlp(model.expert_intermediate_size, prune.mlp_channels, model, recipe);
    }
  }
  model.quant = std::move(recipe);
  validate(model);
  return model;
}

}  // namespace tessel::workloads
