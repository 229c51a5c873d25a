// A Hugging Face config.json's quantization_config as a precision recipe: the weight-only
// checkpoints of AutoAWQ and GPTQ and fp8 checkpoints. Others (bitsandbytes, compressed-tensors)
// leave the model unquantized with a warning that says so.
#pragma once

#include "workloads/hf_config_file.h"
#include "workloads/model_config.h"

namespace tessel::workloads {

// Reads the file's quantization_config (if any) into config.quant; throws InputError naming
// the key for a value of the wrong type or a size tessel cannot store.
void read_quantization(ConfigFile& file, ModelConfig& config);

}  // namespace tessel::workloads
