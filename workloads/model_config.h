// The hyper-parameters of a transformer model, and presets of published models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tessel::workloads {

enum class Activation {
  Gelu,       // up, GELU, down
  Relu,       // up, ReLU, down (OPT)
  SiluGated,  // SwiGLU: silu(gate)·up, down (Llama, Mistral)
};

enum class Norm { LayerNorm, RmsNorm };

// Pre-norm (GPT-2, Llama): each sub-block normalises its input and the stack ends with a
// final norm. Post-norm (BERT): each sub-block normalises after its residual add.
enum class NormPlacement { Pre, Post };

enum class Positional {
  Learned,  // a position table added to the token embeddings
  Rope,     // rotary embedding of Q and K in each layer
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
  bool causal = true;                // a decoder; false: an encoder (BERT), no KV cache
  // Mixture of experts: the layers from first_dense_layers on replace their MLP by `experts`
  // routed experts (gated MLPs of expert_intermediate_size), of which each token takes
  // experts_per_token, beside shared_experts of that size every token takes. 0: dense.
  uint64_t experts = 0;
  uint64_t experts_per_token = 0;
  uint64_t shared_experts = 0;
  uint64_t expert_intermediate_size = 0;
  uint64_t first_dense_layers = 0;
  // Dropout probabilities, which only training applies: of the attention probabilities, of each
  // sub-block's output before its residual add, and of the embeddings.
  double attention_dropout = 0;
  double hidden_dropout = 0;
  double embedding_dropout = 0;

  bool mixture_of_experts() const { return experts > 0; }
};

// Why a config is unusable: the field and the problem.
struct ConfigProblem {
  std::string field;
  std::string problem;
};

// The first problem of the config, if any: a size of zero, heads not dividing hidden_size,
// KV heads not dividing heads, learned positions without a table.
std::optional<ConfigProblem> first_config_problem(const ModelConfig& config);

// Throws InputError "<name>: field '<field>': <problem>" for the first problem.
void validate(const ModelConfig& config);

// A published model by name (see preset_names()); throws InputError listing the known names.
// Case, '-' and '_' do not matter: "Llama-2-70B" is llama2-70b.
ModelConfig model_preset(const std::string& name);
std::vector<std::string> preset_names();

}  // namespace tessel::workloads
