// HF config.json files: published configs of every family read as the presets of the same
// models and without warnings, GPT-2's and OPT's own field names, defaults of absent fields,
// and bad files named with their field.
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>
#include <string>

#include "test_files.h"
#include "workloads/hf_config.h"
#include "workloads/input_error.h"
#include "workloads/model_config.h"

namespace tessel::workloads {
namespace {

namespace fs = std::filesystem;
using tessel::testing::error_message;
using tessel::testing::TempFile;

const std::string kHfDir = std::string(TESSEL_SOURCE_DIR) + "/tests/data/hf";

std::string read_error(const std::string& path) {
  return error_message<InputError>([&] { read_hf_config(path); },
                                   path + " read without an InputError");
}

void expect_same_model(const ModelConfig& read, const ModelConfig& preset) {
  EXPECT_EQ(read.hidden_size, preset.hidden_size);
  EXPECT_EQ(read.intermediate_size, preset.intermediate_size);
  EXPECT_EQ(read.num_attention_heads, preset.num_attention_heads);
  EXPECT_EQ(read.num_key_value_heads, preset.num_key_value_heads);
  EXPECT_EQ(read.num_hidden_layers, preset.num_hidden_layers);
  EXPECT_EQ(read.vocab_size, preset.vocab_size);
  EXPECT_EQ(read.head_dim, preset.head_dim);
  EXPECT_EQ(read.activation, preset.activation);
  EXPECT_EQ(read.norm, preset.norm);
  EXPECT_EQ(read.norm_placement, preset.norm_placement);
  EXPECT_EQ(read.positional, preset.positional);
  EXPECT_EQ(read.position_table_size, preset.position_table_size);
  EXPECT_EQ(read.type_vocab_size, preset.type_vocab_size);
  EXPECT_EQ(read.tied_embeddings, preset.tied_embeddings);
  EXPECT_EQ(read.linear_bias, preset.linear_bias);
  EXPECT_EQ(read.causal, preset.causal);
  EXPECT_EQ(read.attention_dropout, preset.attention_dropout);
  EXPECT_EQ(read.hidden_dropout, preset.hidden_dropout);
  EXPECT_EQ(read.embedding_dropout, preset.embedding_dropout);
  EXPECT_EQ(read.qkv_bias, preset.qkv_bias);
  EXPECT_EQ(read.rotary_fraction, preset.rotary_fraction);
  EXPECT_EQ(read.block_layout, preset.block_layout);
  EXPECT_EQ(read.post_sublayer_norms, preset.post_sublayer_norms);
  EXPECT_EQ(read.attention_softcap, preset.attention_softcap);
  EXPECT_EQ(read.logit_softcap, preset.logit_softcap);
  EXPECT_EQ(read.sliding_window, preset.sliding_window);
  EXPECT_EQ(read.sliding_layers, preset.sliding_layers);
  EXPECT_EQ(read.experts, preset.experts);
  EXPECT_EQ(read.experts_per_token, preset.experts_per_token);
  EXPECT_EQ(read.shared_experts, preset.shared_experts);
  EXPECT_EQ(read.expert_intermediate_size, preset.expert_intermediate_size);
  EXPECT_EQ(read.first_dense_layers, preset.first_dense_layers);
  EXPECT_EQ(read.shared_expert_gate, preset.shared_expert_gate);
}

struct PublishedConfig {
  const char* directory;  // in tests/data/hf
  const char* preset;
};

void PrintTo(const PublishedConfig& config, std::ostream* out) { *out << config.directory; }

class PublishedHfConfig : public ::testing::TestWithParam<PublishedConfig> {};

// The hub's config.json of each family, read as the preset of the model: every field it holds
// is either modelled or changes nothing tessel computes, so none warns.
TEST_P(PublishedHfConfig, ReadsAsItsPresetWithoutWarnings) {
  const PublishedConfig& published = GetParam();
  const ModelConfig config = read_hf_config(kHfDir + "/" + published.directory + "/config.json");
  expect_same_model(config, model_preset(published.preset));
  EXPECT_TRUE(config.warnings.empty()) << config.warnings.front();
}

INSTANTIATE_TEST_SUITE_P(
    HfConfig, PublishedHfConfig,
    ::testing::Values(PublishedConfig{"llama-2-7b", "llama2-7b"}, PublishedConfig{"mistral-7b", "mistral-7b"},
                      PublishedConfig{"mixtral-8x7b", "mixtral-8x7b"},
                      PublishedConfig{"deepseek-moe-16b", "deepseek-moe-16b"}, PublishedConfig{"gpt2", "gpt2"},
                      PublishedConfig{"opt-1.3b", "opt-1.3b"}, PublishedConfig{"bert-base", "bert-base"},
                      PublishedConfig{"qwen2-7b", "qwen2-7b"}, PublishedConfig{"qwen2.5-7b", "qwen2.5-7b"},
                      PublishedConfig{"qwen1.5-moe-a2.7b", "qwen1.5-moe-a2.7b"},
                      PublishedConfig{"gemma-7b", "gemma-7b"}, PublishedConfig{"gemma-2-9b", "gemma2-9b"},
                      PublishedConfig{"phi-3-mini-4k", "phi3-mini"}, PublishedConfig{"falcon-7b", "falcon-7b"},
                      PublishedConfig{"falcon-40b", "falcon-40b"}, PublishedConfig{"pythia-6.9b", "pythia-6.9b"},
                      PublishedConfig{"gpt-neox-20b", "gpt-neox-20b"}),
    [](const ::testing::TestParamInfo<PublishedConfig>& param_info) {
      std::string name = param_info.param.directory;
      for (char& c : name) {
        if (c == '-' || c == '.') c = '_';
      }
      return name;
    });

TEST(HfConfig, Llama2ReadsAsItsPreset) {
  const ModelConfig config = read_hf_config(kHfDir + "/llama-2-7b/config.json");
  EXPECT_EQ(config.name, "llama-2-7b");
  expect_same_model(config, model_preset("llama2-7b"));
}

// n_embd, n_head, n_layer, n_positions; n_inner null means 4 x n_embd.
TEST(HfConfig, Gpt2ReadsItsOwnFieldNames) {
  const ModelConfig config = read_hf_config(kHfDir + "/gpt2/config.json");
  EXPECT_EQ(config.name, "gpt2");
  EXPECT_EQ(config.intermediate_size, 4u * 768);
  expect_same_model(config, model_preset("gpt2"));
}

// ffn_dim, relu, and the 2 extra rows of OPT's position table.
TEST(HfConfig, OptReadsFfnDimAndOffsetsPositions) {
  const ModelConfig config = read_hf_config(kHfDir + "/opt-1.3b/config.json");
  EXPECT_EQ(config.intermediate_size, 8192u);
  EXPECT_EQ(config.position_table_size, 2048u + 2);
  expect_same_model(config, model_preset("opt-1.3b"));
}

TEST(HfConfig, BertIsAPostNormEncoder) {
  const ModelConfig config = read_hf_config(kHfDir + "/bert-base/config.json");
  EXPECT_FALSE(config.causal);
  EXPECT_EQ(config.norm_placement, NormPlacement::Post);
  expect_same_model(config, model_preset("bert-base"));
}

// Each family's names for its dropout probabilities: GPT-2's *_pdrop, BERT's *_prob, OPT's
// dropout and attention_dropout (its embeddings take dropout's); Llama has none.
TEST(HfConfig, DropoutProbabilitiesUnderEachFamilysNames) {
  const ModelConfig gpt2 = read_hf_config(kHfDir + "/gpt2/config.json");
  EXPECT_EQ(gpt2.attention_dropout, 0.1);
  EXPECT_EQ(gpt2.hidden_dropout, 0.1);
  EXPECT_EQ(gpt2.embedding_dropout, 0.1);
  const ModelConfig opt = read_hf_config(kHfDir + "/opt-1.3b/config.json");
  EXPECT_EQ(opt.attention_dropout, 0.0);
  EXPECT_EQ(opt.hidden_dropout, 0.1);
  EXPECT_EQ(opt.embedding_dropout, 0.1);
  const ModelConfig bert = read_hf_config(kHfDir + "/bert-base/config.json");
  EXPECT_EQ(bert.attention_dropout, 0.1);
  EXPECT_EQ(bert.hidden_dropout, 0.1);
  EXPECT_EQ(read_hf_config(kHfDir + "/llama-2-7b/config.json").hidden_dropout, 0.0);
  const TempFile certain("dropout_one.json", R"({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4,
                                                 "vocab_size": 100, "n_positions": 32, "resid_pdrop": 1.0})");
  EXPECT_NE(read_error(certain.path).find("field 'resid_pdrop': must be a probability in [0, 1), got 1.0"),
            std::string::npos);
}

TEST(HfConfig, AbsentKeyValueHeadsMeanMultiHeadAndHeadDimMayBeGiven) {
  const TempFile file("mha.json", R"({"model_type": "llama", "hidden_size": 1024,
      "intermediate_size": 2816, "num_attention_heads": 16, "num_hidden_layers": 4,
      "vocab_size": 1000, "head_dim": 128, "tie_word_embeddings": true})");
  const ModelConfig config = read_hf_config(file.path);
  EXPECT_EQ(config.num_key_value_heads, 16u);
  EXPECT_EQ(config.head_dim, 128u);  // not 1024 / 16
  EXPECT_TRUE(config.tied_embeddings);
  EXPECT_EQ(config.activation, Activation::SiluGated);  // HF's default hidden_act
  EXPECT_EQ(config.name, fs::path(file.path).stem().string());
}

TEST(HfConfig, AgreeingAliasesAreAccepted) {
  const TempFile file("aliases.json", R"({"model_type": "gpt2", "n_embd": 64, "hidden_size": 64,
      "n_head": 4, "n_layer": 2, "vocab_size": 100, "n_positions": 128, "n_inner": 256})");
  const ModelConfig config = read_hf_config(file.path);
  EXPECT_EQ(config.hidden_size, 64u);
  EXPECT_EQ(config.intermediate_size, 256u);
}

struct BadFile {
  const char* file;   // in tests/data/hf/bad
  const char* field;  // the field the message names
  const char* problem;
};

void PrintTo(const BadFile& bad, std::ostream* out) { *out << bad.file; }

class BadHfConfig : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadHfConfig, NamesFileAndField) {
  const BadFile& bad = GetParam();
  const std::string path = kHfDir + "/bad/" + bad.file;
  const std::string message = read_error(path);
  const std::string where = path + ": field '" + bad.field + "': ";
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(bad.problem, where.size()), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    HfConfig, BadHfConfig,
    ::testing::Values(
        BadFile{"heads_not_dividing_hidden.json", "num_attention_heads",
                "30 does not divide the hidden size (4096)"},
        BadFile{"kv_heads_not_dividing_heads.json", "num_key_value_heads",
                "5 does not divide the number of attention heads (32)"},
        BadFile{"gpt2_conflicting_width.json", "n_embd", "768 contradicts 'hidden_size' (1024)"},
        BadFile{"missing_layers.json", "num_hidden_layers", "missing (also read as 'n_layer')"},
        BadFile{"opt_missing_ffn_dim.json", "intermediate_size",
                "missing (also read as 'n_inner', 'ffn_dim', 'ffn_hidden_size')"},
        BadFile{"missing_model_type.json", "model_type", "missing"},
        BadFile{"unknown_model_type.json", "model_type", "'t5' is not supported"},
        BadFile{"size_as_text.json", "hidden_size", "must be a positive integer, got \"4096\""},
        BadFile{"negative_vocab.json", "vocab_size", "must be a positive integer, got -32000"},
        BadFile{"fractional_heads.json", "num_attention_heads",
                "must be a positive integer, got 32.5"},
        BadFile{"zero_kv_heads.json", "num_key_value_heads", "must be a positive integer, got 0"},
        // Fuzzing found it: a list of 2^64 - 1 layers' attention kinds was allocated and crashed.
        BadFile{"huge_layers.json", "num_hidden_layers",
                "18446744073709551615 is beyond any model: at most 2^24 (16777216)"},
        BadFile{"gated_relu.json", "hidden_act", "'relu': a llama MLP is gated"},
        BadFile{"tie_as_text.json", "tie_word_embeddings", "must be true or false"}),
    [](const ::testing::TestParamInfo<BadFile>& param_info) {
      const std::string file = param_info.param.file;
      return file.substr(0, file.find('.'));
    });

TEST(HfConfig, MalformedFilesNameTheFile) {
  const std::string truncated = kHfDir + "/bad/truncated.json";
  EXPECT_EQ(read_error(truncated).rfind(truncated + ": not valid JSON: ", 0), 0u)
      << read_error(truncated);
  const std::string not_object = kHfDir + "/bad/not_an_object.json";
  EXPECT_EQ(read_error(not_object), not_object + ": the top level must be a JSON object");
  // Fuzzing found it: a number past a double's range left the parser without the file's name.
  const TempFile overflow("overflow.json", R"({"model_type": "llama", "hidden_size": 3E522})");
  EXPECT_EQ(read_error(overflow.path).rfind(overflow.path + ": not valid JSON: ", 0), 0u)
      << read_error(overflow.path);
  const std::string missing = kHfDir + "/no_such/config.json";
  EXPECT_EQ(read_error(missing), missing + ": cannot open the file");
}

}  // namespace
}  // namespace tessel::workloads
