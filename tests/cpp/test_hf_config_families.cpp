// The families' particulars as config.json states them (Qwen's windows and experts, Gemma's
// activation, caps and windows, Falcon's and GPT-NeoX's layouts), what is refused with its key
// named, and the warnings for fields tessel does not model.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_files.h"
#include "workloads/hf_config.h"
#include "workloads/input_error.h"
#include "workloads/model_config.h"

namespace tessel::workloads {
namespace {

using tessel::testing::error_message;
using tessel::testing::TempFile;

// A small config of `model_type` with `extra` fields (a JSON fragment starting with a comma).
std::string small(const std::string& model_type, const std::string& extra = "") {
  // Falcon's MLP is ffn_hidden_size wide, 4 × hidden when absent.
  const std::string intermediate = model_type == "falcon" ? "" : R"("intermediate_size": 512, )";
  return R"({"model_type": ")" + model_type + R"(", "hidden_size": 256, )" + intermediate +
         R"("num_attention_heads": 4, "num_hidden_layers": 4, "vocab_size": 1000)" + extra + "}";
}

ModelConfig read_config(const std::string& text) {
  const TempFile file("family.json", text);
  return read_hf_config(file.path);
}

// "<path>: field '<key>': ..." for a config the reader refuses.
std::string refusal(const std::string& text) {
  const TempFile file("refused.json", text);
  const std::string message = error_message<InputError>([&] { read_hf_config(file.path); }, "read without an error");
  EXPECT_EQ(message.rfind(file.path + ": field '", 0), 0u) << message;
  return message;
}

std::vector<bool> layers(std::initializer_list<bool> sliding) { return sliding; }

// HF's Qwen2 windows the layers from max_window_layers on, and only with use_sliding_window.
TEST(HfFamilies, QwenWindowsTheLayersFromMaxWindowLayers) {
  const ModelConfig windowed =
      read_config(small("qwen2", R"(, "use_sliding_window": true, "sliding_window": 64, "max_window_layers": 2)"));
  EXPECT_TRUE(windowed.qkv_bias);
  EXPECT_FALSE(windowed.linear_bias);
  EXPECT_EQ(windowed.sliding_window, 64u);
  EXPECT_EQ(windowed.sliding_layers, layers({false, false, true, true}));
  const ModelConfig off =
      read_config(small("qwen2", R"(, "use_sliding_window": false, "sliding_window": 64, "max_window_layers": 2)"));
  EXPECT_EQ(off.sliding_window, 0u);
  EXPECT_TRUE(off.sliding_layers.empty());
  EXPECT_TRUE(off.warnings.empty());
}

TEST(HfFamilies, LayerTypesListTheWindowedLayers) {
  const ModelConfig config = read_config(small("mistral", R"(, "sliding_window": 32, "layer_types":
      ["full_attention", "sliding_attention", "sliding_attention", "full_attention"])"));
  EXPECT_EQ(config.sliding_layers, layers({false, true, true, false}));
  EXPECT_NE(refusal(small("mistral", R"(, "sliding_window": 32, "layer_types": ["full_attention"])"))
                .find("field 'layer_types': must list"),
            std::string::npos);
  // A null window is none, whatever the layers say.
  EXPECT_EQ(read_config(small("mistral", R"(, "sliding_window": null)")).sliding_window, 0u);
}

// Gemma 2: windows on every other layer from the first, its caps (null: none), four norms.
TEST(HfFamilies, Gemma2CapsAndWindows) {
  const ModelConfig defaults = read_config(small("gemma2", R"(, "head_dim": 64)"));
  EXPECT_EQ(defaults.attention_softcap, 50.0);
  EXPECT_EQ(defaults.logit_softcap, 30.0);
  EXPECT_EQ(defaults.sliding_window, 4096u);
  EXPECT_EQ(defaults.sliding_layers, layers({true, false, true, false}));
  EXPECT_TRUE(defaults.post_sublayer_norms);
  EXPECT_TRUE(defaults.tied_embeddings);
  EXPECT_EQ(defaults.activation, Activation::GeluGated);
  const ModelConfig uncapped = read_config(small("gemma2", R"(, "head_dim": 64, "attn_logit_softcapping": null,
                                                            "final_logit_softcapping": null)"));
  EXPECT_EQ(uncapped.attention_softcap, 0.0);
  EXPECT_EQ(uncapped.logit_softcap, 0.0);
  EXPECT_NE(refusal(small("gemma2", R"(, "sliding_window": 4096, "sliding_window_size": 2048)"))
                .find("field 'sliding_window_size': 2048 contradicts 'sliding_window' (4096)"),
            std::string::npos);
}

// HF's Gemma reads hidden_activation, else the tanh-form GELU, whatever hidden_act says; its
// heads are 256 wide unless head_dim says otherwise.
TEST(HfFamilies, GemmaGatesWithGeluAndHasWideHeads) {
  const ModelConfig config = read_config(small("gemma", R"(, "hidden_act": "silu")"));
  EXPECT_EQ(config.activation, Activation::GeluGated);
  EXPECT_EQ(config.head_dim, 256u);
  EXPECT_TRUE(config.warnings.empty());
  EXPECT_NE(refusal(small("gemma", R"(, "attention_bias": true)")).find("field 'attention_bias'"), std::string::npos);
}

// The old architecture: one K/V head with multi_query, attention and MLP from one norm with
// parallel_attn; the new one: num_kv_heads and a norm each (num_ln_in_parallel_attn 2).
TEST(HfFamilies, FalconLayoutsAndKeyValueHeads) {
  const ModelConfig old_parallel = read_config(small("falcon", R"(, "new_decoder_architecture": false)"));
  EXPECT_EQ(old_parallel.num_key_value_heads, 1u);
  EXPECT_EQ(old_parallel.block_layout, BlockLayout::ParallelSharedNorm);
  EXPECT_EQ(old_parallel.intermediate_size, 4u * 256);
  EXPECT_FALSE(old_parallel.linear_bias);
  const ModelConfig sequential = read_config(small("falcon", R"(, "parallel_attn": false, "multi_query": false,
                                                               "bias": true)"));
  EXPECT_EQ(sequential.block_layout, BlockLayout::Sequential);
  EXPECT_EQ(sequential.num_key_value_heads, 4u);
  EXPECT_TRUE(sequential.linear_bias);
  const ModelConfig new_architecture =
      read_config(small("falcon", R"(, "new_decoder_architecture": true, "num_kv_heads": 2)"));
  EXPECT_EQ(new_architecture.num_key_value_heads, 2u);
  EXPECT_EQ(new_architecture.block_layout, BlockLayout::Parallel);
  const ModelConfig one_norm = read_config(
      small("falcon", R"(, "new_decoder_architecture": true, "num_kv_heads": 2, "num_ln_in_parallel_attn": 1)"));
  EXPECT_EQ(one_norm.block_layout, BlockLayout::ParallelSharedNorm);
  EXPECT_NE(refusal(small("falcon", R"(, "alibi": true)")).find("field 'alibi': ALiBi"), std::string::npos);
  EXPECT_NE(refusal(small("falcon", R"(, "apply_residual_connection_post_layernorm": true)"))
                .find("field 'apply_residual_connection_post_layernorm'"),
            std::string::npos);
}

// GPT-NeoX rotates a quarter of each head unless rotary_pct says otherwise, and runs its
// sub-blocks side by side unless use_parallel_residual is false.
TEST(HfFamilies, GptNeoxRotaryShareAndLayout) {
  const ModelConfig pythia = read_config(small("gpt_neox"));
  EXPECT_EQ(pythia.rotary_fraction, 0.25);
  EXPECT_EQ(pythia.rotary_dim(), 16u);  // of 64
  EXPECT_EQ(pythia.block_layout, BlockLayout::Parallel);
  EXPECT_TRUE(pythia.linear_bias);
  EXPECT_FALSE(pythia.tied_embeddings);
  const ModelConfig sequential =
      read_config(small("gpt_neox", R"(, "use_parallel_residual": false, "rotary_pct": 0.5)"));
  EXPECT_EQ(sequential.block_layout, BlockLayout::Sequential);
  EXPECT_EQ(sequential.rotary_dim(), 32u);
  EXPECT_NE(refusal(small("gpt_neox", R"(, "attention_bias": false)")).find("field 'attention_bias'"),
            std::string::npos);
  // 64 × 0.3 = 19.2 dims: RoPE rotates pairs.
  EXPECT_NE(refusal(small("gpt_neox", R"(, "rotary_pct": 0.3)")).find("field 'rotary_pct': rotates 19 of the 64"),
            std::string::npos);
  EXPECT_EQ(read_config(small("phi3", R"(, "partial_rotary_factor": 0.75)")).rotary_dim(), 48u);
}

// Qwen-MoE's experts (HF's defaults where absent), its gated shared expert, and what it refuses.
TEST(HfFamilies, QwenMoeExperts) {
  const ModelConfig defaults = read_config(small("qwen2_moe", R"(, "moe_intermediate_size": 128,
                                                               "shared_expert_intermediate_size": 512)"));
  EXPECT_EQ(defaults.experts, 60u);
  EXPECT_EQ(defaults.experts_per_token, 4u);
  EXPECT_EQ(defaults.shared_experts, 4u);
  EXPECT_TRUE(defaults.shared_expert_gate);
  EXPECT_EQ(defaults.first_dense_layers, 0u);
  const ModelConfig leading_dense = read_config(small("qwen2_moe", R"(, "moe_intermediate_size": 128,
      "shared_expert_intermediate_size": 0, "num_experts": 8, "num_experts_per_tok": 2, "mlp_only_layers": [0, 1])"));
  EXPECT_EQ(leading_dense.first_dense_layers, 2u);
  EXPECT_EQ(leading_dense.shared_experts, 0u);
  EXPECT_FALSE(leading_dense.shared_expert_gate);
  EXPECT_NE(refusal(small("qwen2_moe", R"(, "decoder_sparse_step": 2)")).find("field 'decoder_sparse_step'"),
            std::string::npos);
  EXPECT_NE(refusal(small("qwen2_moe", R"(, "mlp_only_layers": [1])")).find("field 'mlp_only_layers'"),
            std::string::npos);
  EXPECT_NE(refusal(small("qwen2_moe", R"(, "moe_intermediate_size": 128, "shared_expert_intermediate_size": 200)"))
                .find("field 'shared_expert_intermediate_size'"),
            std::string::npos);
}

// Every warning names the file and the field, and says how the computation departs from it.
TEST(HfWarnings, FieldsTesselDoesNotModelAreWarnedOf) {
  const TempFile file("warned.json", small("llama", R"(,
      "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true},
      "rope_scaling": {"rope_type": "unheard_of", "factor": 2.0},
      "attn_implementation": "eager",
      "layerdrop": 0.1,
      "vision_config": {"hidden_size": 1024},
      "unset_field": null,
      "torch_dtype": "bfloat16", "rms_norm_eps": 1e-6, "bos_token_id": 1)"));
  const ModelConfig config = read_hf_config(file.path);
  const auto warned = [&](const std::string& field, const std::string& what) {
    for (const std::string& warning : config.warnings) {
      if (warning.rfind(file.path + ": field '" + field + "': ", 0) == 0 && warning.find(what) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(warned("quantization_config", "quant_method 'bitsandbytes' is not modelled"));
  EXPECT_TRUE(warned("rope_scaling", "type \"unheard_of\" is not known"));
  EXPECT_TRUE(warned("attn_implementation", "\"eager\": the attention kernel is the one --attention asks for"));
  EXPECT_TRUE(warned("layerdrop", "0.1: training skips whole layers"));
  EXPECT_TRUE(warned("vision_config", "not read: tessel does not know whether it changes the computation"));
  EXPECT_EQ(config.warnings.size(), 5u) << "null fields, ids, epsilons and dtypes stay silent";
}

// Scalings that only change RoPE's angles cost the same, and fields at their usual values
// change nothing.
TEST(HfWarnings, UsualValuesAndKnownScalingsAreSilent) {
  for (const char* type : {"linear", "dynamic", "yarn", "longrope", "su", "llama3"}) {
    const ModelConfig config = read_config(small("llama", std::string(R"(, "rope_scaling": {"type": ")") + type +
                                                            R"(", "factor": 4.0})"));
    EXPECT_TRUE(config.warnings.empty()) << type << ": " << config.warnings.front();
  }
  const ModelConfig usual = read_config(small("opt", R"(, "ffn_dim": 512, "max_position_embeddings": 64,
      "layerdrop": 0.0, "activation_dropout": 0.0, "_remove_final_layer_norm": false)"));
  EXPECT_TRUE(usual.warnings.empty()) << usual.warnings.front();
}

}  // namespace
}  // namespace tessel::workloads
