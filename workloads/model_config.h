// The hyper-parameters of a transformer model, and presets of published models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "workloads/quant_recipe.h"

namespace tessel::workloads {

enum class Activation {
  Gelu,       // up, GELU, down
  Relu,       // up, ReLU, down (OPT)
  SiluGated,  // SwiGLU: silu(gate)·up, down (Llama, Mistral)
  GeluGated,  // GeGLU: gelu(gate)·up, down (Gemma), costed and checked in GELU's tanh form
};

enum class Norm { LayerNorm, RmsNorm };

// Pre-norm (GPT-2, Llama): each sub-block normalises its input and the stack ends with a
// final norm. Post-norm (BERT): each sub-block normalises after its residual add.
enum class NormPlacement { Pre, Post };

enum class Positional {
  Learned,  // a position table added to the token embeddings
  Rope,     // rotary embedding of Q and K in each layer
};

// How a pre-norm layer's attention and MLP meet the residual stream. The parallel layouts
// add both sub-blocks' outputs to the residual together; under tensor parallelism their
// partial sums are added first and one all-reduce completes both (Megatron's GPT-NeoX).
enum class BlockLayout {
  Sequential,          // x += attn(norm(x)); then x += mlp(norm(x))
  Parallel,            // x += attn(norm(x)) + mlp(norm'(x)) (GPT-NeoX, Falcon-40B)
  ParallelSharedNorm,  // x += attn(n) + mlp(n), n = norm(x) (Falcon-7B)
};

struct ModelConfig {
  std::string name;
  uint64_t hidden_size = 0;
  uint64_t intermediate_size = 0;
  uint64_t num_attention_heads = 0;
  uint64_t num_key_value_heads = 0;  // = heads: MHA; fewer: GQA; 1: MQA
  uint64_t num_hidden_layers = 0;
  uint64_t vocab_size = 0;
  uint64_t head_dim = 0;
  Activation activation = Activation::Gelu;
  Norm norm = Norm::LayerNorm;
  NormPlacement norm_placement = NormPlacement::Pre;
  Positional positional = Positional::Learned;
  uint64_t position_table_size = 0;  // rows of the learned position table; 0 with Rope
  uint64_t type_vocab_size = 0;      // BERT's segment embeddings; 0 for none
  bool tied_embeddings = false;      // the LM head reuses the token embedding table
  bool linear_bias = false;          // every Linear has a bias
  bool qkv_bias = false;             // Q, K and V have biases where the other linears have none (Qwen2)
  bool causal = true;                // a decoder; false: an encoder (BERT), no KV cache
  // The share of each head's dims RoPE rotates (GPT-NeoX's rotary_pct, partial_rotary_factor);
  // the rest pass through.
  double rotary_fraction = 1.0;
  BlockLayout block_layout = BlockLayout::Sequential;
  // Gemma 2: each sub-block's output is normalised again before its residual add, four norms a
  // layer.
  bool post_sublayer_norms = false;
  // Gemma 2's soft caps, c·tanh(x/c): of the attention scores before the softmax, and of the LM
  // head's logits. 0: none.
  double attention_softcap = 0;
  double logit_softcap = 0;
  // Sliding-window attention (Mistral, Gemma 2's local layers): a query of a windowed layer
  // sees the sliding_window latest positions up to its own, and the layer's KV cache keeps
  // only those. sliding_layers says which layers have the window, one entry a layer; both are
  // empty (0) without a window.
  uint64_t sliding_window = 0;
  std::vector<bool> sliding_layers;
  // Mixture of experts: the layers from first_dense_layers on replace their MLP by `experts`
  // routed experts (gated MLPs of expert_intermediate_size), of which each token takes
  // experts_per_token, beside shared_experts of that size every token takes. 0: dense.
  uint64_t experts = 0;
  uint64_t experts_per_token = 0;
  uint64_t shared_experts = 0;
  uint64_t expert_intermediate_size = 0;
  uint64_t first_dense_layers = 0;
  // Qwen-MoE scales the shared experts' output by sigmoid(x·w), w a hidden-size vector.
  bool shared_expert_gate = false;
  // Dropout probabilities, which only training applies: of the attention probabilities, of each
  // sub-block's output before its residual add, and of the embeddings.
  double attention_dropout = 0;
  double hidden_dropout = 0;
  double embedding_dropout = 0;
  // What the config asked for that tessel does not model and that may change the computation,
  // each a sentence naming the field; every report of a run of the model repeats them.
  std::vector<std::string> warnings;
  // How its weights, the activations of its linears and its KV cache are held and multiplied
  // (--quant, or a config.json's quantization_config); empty: all in the run's format.
  QuantRecipe quant;

  bool mixture_of_experts() const { return experts > 0; }
  bool expert_layer(uint64_t layer) const { return mixture_of_experts() && layer >= first_dense_layers; }
  bool sliding(uint64_t layer) const { return sliding_window > 0 && sliding_layers.at(layer); }
  // HF's int(head_dim × partial_rotary_factor).
  uint64_t rotary_dim() const { return static_cast<uint64_t>(static_cast<double>(head_dim) * rotary_fraction); }
};

// Why a config is unusable: the field and the problem.
struct ConfigProblem {
  std::string field;
  std::string problem;
};

// The first problem of the config, if any: a size of zero, heads not dividing hidden_size,
// KV heads not dividing heads, learned positions without a table, an odd or empty rotary
// share, a window without its layers, a layout or norm a post-norm model cannot have.
std::optional<ConfigProblem> first_config_problem(const ModelConfig& config);

// Throws InputError "<name>: field '<field>': <problem>" for the first problem.
void validate(const ModelConfig& config);

// A published model by name (see preset_names()); throws InputError listing the known names.
// Case, '-' and '_' do not matter: "Llama-2-70B" is llama2-70b.
ModelConfig model_preset(const std::string& name);

// `model` under `recipe`: the recipe replaces its own, and the recipe's pruning shrinks its shapes.
// Heads go in equal numbers from each KV group (a KV head with its query heads, as Minitron prunes
// grouped-query models); where each query head has its own KV head (multi-head attention) the KV
// head goes with it. Each MLP keeps a multiple of 128 channels (of 8 below 1,024), so that its
// down projection's K stays whole quantization groups and tensor-core tiles. Throws InputError
// when the pruning removes nothing or everything.
ModelConfig with_recipe(ModelConfig model, QuantRecipe recipe);
std::vector<std::string> preset_names();

}  // namespace tessel::workloads
