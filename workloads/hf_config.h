// Hugging Face `config.json` files, read as the ModelConfig they describe.
#pragma once

#include <string>

#include "workloads/model_config.h"

namespace tessel::workloads {

// Reads the sizes under their HF names, or GPT-2's (n_embd, n_head, n_layer, n_inner,
// n_positions, activation_function), OPT's (ffn_dim) and Falcon's (ffn_hidden_size,
// num_kv_heads); `model_type` (hf_families.cpp: llama, mistral, mixtral, deepseek, qwen2,
// qwen2_moe, gemma, gemma2, phi3, falcon, gpt_neox, gpt2, opt, bert) decides the norm, its
// placement, the positional scheme, the gated MLP, biases, the family's particulars (experts,
// parallel sub-blocks, sliding windows, soft caps) and the defaults of absent optional fields
// as the HF modelling code has them. The model is named after the file's directory when the
// file is config.json, else after the file's stem. Throws InputError naming the file and the
// field for a missing, mistyped, contradictory or inconsistent field, or for one that asks for
// what tessel does not model and cannot approximate (Falcon's alibi). A field that changes the
// computation and that tessel does not model, or that it does not know, becomes one of the
// model's warnings, naming the file and the field; fields that change nothing tessel computes
// (token ids, torch_dtype, architectures, epsilons, rope_theta) are silent.
ModelConfig read_hf_config(const std::string& path);

}  // namespace tessel::workloads
