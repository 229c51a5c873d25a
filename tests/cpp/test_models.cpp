// Model presets: each preset's parameter count, taken from the weights of the graph the
// builders make, is within 2% of the model's published size; the config validation.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "workloads/input_error.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::workloads {
namespace {

uint64_t graph_parameters(const ModelConfig& config) {
  return build_model(config, Phase::prefill(1, 1), AttentionImpl::Fused).total_parameters();
}

struct PublishedSize {
  const char* preset;
  double parameters;
  const char* source;
};

void PrintTo(const PublishedSize& size, std::ostream* out) { *out << size.preset; }

class PresetSize : public testing::TestWithParam<PublishedSize> {};

// The graph counts every Linear weight and bias, norm scale and shift and embedding table
// (token, position, segment) once: a tied LM head adds nothing. BERT's pooler and MLM head
// are not part of the encoder graph.
TEST_P(PresetSize, ParametersWithinTwoPercentOfPublished) {
  const PublishedSize& size = GetParam();
  const double counted = static_cast<double>(graph_parameters(model_preset(size.preset)));
  EXPECT_NEAR(counted / size.parameters, 1.0, 0.02)
      << size.preset << ": counted " << counted << ", published " << size.parameters << " ("
      << size.source << ")";
}

INSTANTIATE_TEST_SUITE_P(
    Models, PresetSize,
    testing::Values(
        // GPT-2 sizes as HF's GPT2LMHeadModel counts them (embeddings included, tied head).
        PublishedSize{"gpt2", 124.4e6, "HF openai-community/gpt2"},
        PublishedSize{"gpt2-medium", 354.8e6, "HF openai-community/gpt2-medium"},
        PublishedSize{"gpt2-large", 774.0e6, "HF openai-community/gpt2-large"},
        PublishedSize{"gpt2-xl", 1557.6e6, "HF openai-community/gpt2-xl"},
        // Devlin et al. 2018: with embeddings.
        PublishedSize{"bert-base", 110e6, "BERT paper"},
        PublishedSize{"bert-large", 340e6, "BERT paper"},
        PublishedSize{"gpt3-175b", 175.0e9, "GPT-3 paper, Table 2.1"},
        PublishedSize{"opt-1.3b", 1.3e9, "OPT paper, Table 1"},
        // Llama and Mistral sizes as the hub's safetensors count them: embeddings and the
        // untied LM head both included.
        PublishedSize{"llama2-7b", 6.74e9, "HF meta-llama/Llama-2-7b-hf"},
        PublishedSize{"llama2-13b", 13.02e9, "HF meta-llama/Llama-2-13b-hf"},
        PublishedSize{"llama2-70b", 68.98e9, "HF meta-llama/Llama-2-70b-hf"},
        PublishedSize{"llama3-8b", 8.03e9, "HF meta-llama/Meta-Llama-3-8B"},
        PublishedSize{"llama3-70b", 70.55e9, "HF meta-llama/Meta-Llama-3-70B"},
        PublishedSize{"mistral-7b", 7.24e9, "HF mistralai/Mistral-7B-v0.1"}),
    [](const testing::TestParamInfo<PublishedSize>& param_info) {
      std::string name = param_info.param.preset;
      for (char& c : name) {
        if (c == '-' || c == '.') c = '_';
      }
      return name;
    });

TEST(Models, PresetNamesAreTheAskedForModelsAndValid) {
  const std::vector<std::string> expected = {
      "gpt2",       "gpt2-medium", "gpt2-large",  "gpt2-xl",      "bert-base",         "bert-large",
      "gpt3-175b",  "opt-1.3b",    "llama2-7b",   "llama2-13b",   "llama2-70b",        "llama3-8b",
      "llama3-70b", "mistral-7b",  "mixtral-8x7b", "deepseek-moe-16b", "qwen2-7b",      "qwen2.5-7b",
      "qwen1.5-moe-a2.7b", "gemma-2b", "gemma-7b", "gemma2-9b",    "gemma2-27b",        "phi3-mini",
      "falcon-7b",  "falcon-40b",  "pythia-6.9b", "gpt-neox-20b", "tiny",              "tiny-moe"};
  EXPECT_EQ(preset_names(), expected);
  for (const std::string& name : preset_names()) {
    const ModelConfig config = model_preset(name);
    EXPECT_EQ(config.name, name);
    EXPECT_NO_THROW(validate(config)) << name;
  }
}

// The counts HF's modules report, to the parameter.
TEST(Models, ExactCountsOfWellKnownModels) {
  EXPECT_EQ(graph_parameters(model_preset("gpt2")), 124439808u);
  EXPECT_EQ(graph_parameters(model_preset("llama2-7b")), 6738415616u);
  // HF's BertModel has 109,482,240, of which the pooler is 768 x 768 + 768.
  EXPECT_EQ(graph_parameters(model_preset("bert-base")), 109482240u - (768u * 768 + 768));
}

TEST(Models, TinyIsSmallAndCountedByHand) {
  const ModelConfig tiny = model_preset("tiny");
  EXPECT_EQ(tiny.num_hidden_layers, 2u);
  EXPECT_EQ(tiny.hidden_size, 64u);
  EXPECT_EQ(tiny.num_attention_heads, 4u);
  EXPECT_EQ(tiny.num_key_value_heads, 2u);
  EXPECT_EQ(tiny.intermediate_size, 128u);
  EXPECT_EQ(tiny.vocab_size, 256u);
  EXPECT_EQ(tiny.head_dim, 16u);
  EXPECT_EQ(tiny.norm, Norm::RmsNorm);
  EXPECT_EQ(tiny.activation, Activation::SiluGated);
  EXPECT_EQ(tiny.positional, Positional::Rope);
  // Per layer: QKV 64 x (4 + 2 + 2) x 16, O 64 x 64, gate/up 64 x 256, down 128 x 64, two
  // norms of 64. Plus the embedding, the final norm and the untied LM head.
  const uint64_t layer = 64 * 128 + 64 * 64 + 64 * 256 + 128 * 64 + 2 * 64;
  EXPECT_EQ(graph_parameters(tiny), 256 * 64 + 2 * layer + 64 + 64 * 256);
}

TEST(Models, PresetsFollowTheirFamilies) {
  const ModelConfig gpt2 = model_preset("gpt2");
  EXPECT_EQ(gpt2.norm_placement, NormPlacement::Pre);
  EXPECT_EQ(gpt2.positional, Positional::Learned);
  EXPECT_TRUE(gpt2.tied_embeddings);
  const ModelConfig bert = model_preset("bert-base");
  EXPECT_EQ(bert.norm_placement, NormPlacement::Post);
  EXPECT_FALSE(bert.causal);
  EXPECT_EQ(model_preset("opt-1.3b").activation, Activation::Relu);
  const ModelConfig llama = model_preset("llama2-70b");
  EXPECT_EQ(llama.num_key_value_heads, 8u);
  EXPECT_EQ(llama.head_dim, 128u);
  EXPECT_FALSE(llama.tied_embeddings);
}

TEST(Models, PresetNamesIgnoreCaseHyphensAndUnderscores) {
  EXPECT_EQ(model_preset("Llama-2-70B").name, "llama2-70b");
  EXPECT_EQ(model_preset("llama_3_8b").name, "llama3-8b");
  EXPECT_EQ(model_preset("GPT2").name, "gpt2");
  EXPECT_THROW(model_preset("llama2-70"), InputError);
}

TEST(Models, UnknownPresetListsTheKnownNames) {
  try {
    model_preset("llama9");
    ADD_FAILURE() << "no exception";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'llama9'"), std::string::npos) << message;
    for (const std::string& name : preset_names()) {
      EXPECT_NE(message.find(name), std::string::npos) << name << " missing from " << message;
    }
  }
}

std::string validation_error(const ModelConfig& config) {
  try {
    validate(config);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

TEST(Models, ValidationNamesTheField) {
  ModelConfig config = model_preset("llama2-7b");
  config.head_dim = 0;
  EXPECT_EQ(validation_error(config), "llama2-7b: field 'head_dim': must be positive");

  config = model_preset("llama2-7b");
  config.num_key_value_heads = 5;
  EXPECT_EQ(validation_error(config),
            "llama2-7b: field 'num_key_value_heads': 5 does not divide the number of attention "
            "heads (32)");

  config = model_preset("llama2-7b");
  config.vocab_size = 0;
  EXPECT_EQ(validation_error(config), "llama2-7b: field 'vocab_size': must be positive");

  config = model_preset("gpt2");
  config.position_table_size = 0;
  EXPECT_NE(validation_error(config).find("field 'position_table_size'"), std::string::npos);

  config = model_preset("mistral-7b");
  config.sliding_layers.pop_back();
  EXPECT_EQ(validation_error(config), "mistral-7b: field 'sliding_layers': has 31 entries; it needs one a layer with "
                                      "a sliding window, none without");

  config = model_preset("pythia-6.9b");
  config.rotary_fraction = 0.2;  // 25.6 of 128 dims
  EXPECT_EQ(validation_error(config), "pythia-6.9b: field 'rotary_fraction': rotates 25 of the 128 dims of a head; "
                                      "RoPE rotates pairs, an even number of at least 2");
  config.rotary_fraction = 0.5;
  config.norm_placement = NormPlacement::Post;
  EXPECT_NE(validation_error(config).find("field 'norm_placement': parallel sub-blocks"), std::string::npos);

  config = model_preset("qwen1.5-moe-a2.7b");
  config.shared_experts = 0;
  EXPECT_NE(validation_error(config).find("field 'shared_expert_gate'"), std::string::npos);
}

}  // namespace
}  // namespace tessel::workloads
