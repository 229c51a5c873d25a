// The model families read_hf_config knows by model_type: what each fixes that config.json does
// not say, and how each reads its particulars, following the HF modelling code.
#pragma once

#include <cstdint>
#include <string>

#include "workloads/hf_config_file.h"
#include "workloads/model_config.h"

namespace tessel::workloads {

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
  bool four_times_hidden;          // an absent intermediate size is 4 × hidden (GPT-2's n_inner)
  double default_rotary_fraction;  // of each head's dims RoPE rotates, when the file says nothing
  // The one key HF reads the activation from, ignoring the others (Gemma's hidden_activation);
  // nullptr: hidden_act, activation_function or activation.
  const char* activation_key;
  // Biases, experts, layouts, sliding windows, soft caps: what the family reads beyond the
  // common fields, which `config` holds already.
  void (*read_particulars)(ConfigFile& file, ModelConfig& config);
};

// Throws InputError naming the file and model_type when it is missing or not known.
const Family& read_family(ConfigFile& file);

}  // namespace tessel::workloads
