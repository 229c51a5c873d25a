// Hugging Face `config.json` files, read as the ModelConfig they describe.
#pragma once

#include <string>

#include "workloads/model_config.h"

namespace tessel::workloads {

// Reads the sizes under their HF names, or GPT-2's (n_embd, n_head, n_layer, n_inner,
// n_positions, activation_function) and OPT's (ffn_dim); `model_type` (llama, mistral, gpt2,
// opt, bert) decides the norm, its placement, the positional scheme, the gated MLP, biases and
// the defaults of absent optional fields (num_key_value_heads = heads, head_dim =
// hidden / heads, GPT-2's n_inner = 4 × n_embd, tie_word_embeddings). The model is named after
// the file's directory when the file is config.json, else after the file's stem. Throws
// InputError naming the file and the field for a missing, mistyped, contradictory or
// inconsistent field.
ModelConfig read_hf_config(const std::string& path);

}  // namespace tessel::workloads
