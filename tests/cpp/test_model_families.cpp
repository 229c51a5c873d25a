// The presets of Qwen2, Qwen-MoE, Gemma, Gemma 2, Phi-3, Falcon and GPT-NeoX: their parameter
// counts against the published ones, and each family's particulars in the layer the builder makes.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::workloads {
namespace {

uint64_t graph_parameters(const ModelConfig& config) {
  return build_model(config, Phase::prefill(1, 1), AttentionImpl::Fused).total_parameters();
}

// What publications call the embedding parameters: the token table, and the LM head when it is
// a matrix of its own.
uint64_t embedding_parameters(const ModelConfig& config) {
  return config.vocab_size * config.hidden_size * (config.tied_embeddings ? 1 : 2);
}

// Counts published to the parameter. Gemma's papers count an embedding table padded to 256128
// rows, of which config.json's vocab_size uses 256000, so theirs are checked without it.
TEST(ModelFamilies, ExactPublishedCounts) {
  const auto non_embedding = [](const char* preset) {
    const ModelConfig config = model_preset(preset);
    return graph_parameters(config) - embedding_parameters(config);
  };
  // Gemma Team 2024, "Gemma: Open Models Based on Gemini Research and Technology", Table 2.
  EXPECT_EQ(non_embedding("gemma-2b"), 1981884416u);
  EXPECT_EQ(non_embedding("gemma-7b"), 7751248896u);
  // Gemma Team 2024, "Gemma 2: Improving Open Language Models at a Practical Size", Table 2.
  EXPECT_EQ(non_embedding("gemma2-9b"), 8324201984u);
  EXPECT_EQ(non_embedding("gemma2-27b"), 26047480320u);
  // EleutherAI/pythia-6.9b's model card (Biderman et al. 2023, Table 1), and
  // EleutherAI/gpt-neox-20b's.
  EXPECT_EQ(non_embedding("pythia-6.9b"), 6444163072u);
  EXPECT_EQ(graph_parameters(model_preset("pythia-6.9b")), 6857302016u);
  EXPECT_EQ(graph_parameters(model_preset("gpt-neox-20b")), 20554567680u);
}

struct PublishedSize {
  const char* preset;
  double parameters;
  const char* source;
  bool stored_tied_head;  // the count is of a checkpoint that stores the tied LM head as a copy
};

void PrintTo(const PublishedSize& size, std::ostream* out) { *out << size.preset; }

class FamilySize : public testing::TestWithParam<PublishedSize> {};

// Within 1%: the figures are published to two or three digits (3.8B, 7.61B, 14.3B: up to 1.3%
// of rounding for 3.8B, whose count here is 0.6% above it), and anything a builder could get
// wrong in a family's shape moves the count by more: an untied head counted tied (Phi-3-mini
// 2.6%, Qwen2.5-7B 7%), Falcon-7B's single K/V head counted as 71 (19%), a GeGLU's missing gate
// (Gemma a quarter). What 1% cannot see (Qwen2's Q/K/V biases, Gemma 2's extra norms) the exact
// counts above and the layer tests below do.
TEST_P(FamilySize, ParametersWithinOnePercentOfPublished) {
  const PublishedSize& size = GetParam();
  const ModelConfig config = model_preset(size.preset);
  const uint64_t stored_copy = size.stored_tied_head ? config.vocab_size * config.hidden_size : 0;
  const double counted = static_cast<double>(graph_parameters(config) + stored_copy);
  EXPECT_NEAR(counted / size.parameters, 1.0, 0.01)
      << size.preset << ": counted " << counted << ", published " << size.parameters << " (" << size.source << ")";
}

INSTANTIATE_TEST_SUITE_P(
    Models, FamilySize,
    testing::Values(
        // Qwen/Qwen2.5-7B's model card: 7.61B, of which 6.53B are not embeddings. Qwen2-7B is
        // the same shape.
        PublishedSize{"qwen2.5-7b", 7.61e9, "Qwen/Qwen2.5-7B model card", false},
        PublishedSize{"qwen2-7b", 7.61e9, "Qwen/Qwen2.5-7B model card, the same shape", false},
        PublishedSize{"qwen1.5-moe-a2.7b", 14.3e9, "Qwen/Qwen1.5-MoE-A2.7B model card", false},
        // The Gemma papers' embedding and non-embedding counts added up.
        PublishedSize{"gemma-2b", 524550144.0 + 1981884416.0, "Gemma paper, Table 2", false},
        PublishedSize{"gemma-7b", 786825216.0 + 7751248896.0, "Gemma paper, Table 2", false},
        PublishedSize{"gemma2-9b", 917962752.0 + 8324201984.0, "Gemma 2 paper, Table 2", false},
        PublishedSize{"gemma2-27b", 1180237824.0 + 26047480320.0, "Gemma 2 paper, Table 2", false},
        PublishedSize{"phi3-mini", 3.8e9, "microsoft/Phi-3-mini-4k-instruct model card", false},
        // The hub's counts of Falcon's safetensors, which hold lm_head.weight beside the token
        // table it is tied to.
        PublishedSize{"falcon-7b", 7.22e9, "HF tiiuae/falcon-7b", true},
        PublishedSize{"falcon-40b", 41.8e9, "HF tiiuae/falcon-40b", true}),
    [](const testing::TestParamInfo<PublishedSize>& param_info) {
      std::string name = param_info.param.preset;
      for (char& c : name) {
        if (c == '-' || c == '.') c = '_';
      }
      return name;
    });

const Op& find_op(const std::vector<Op>& ops, const std::string& name) {
  const auto it = std::find_if(ops.begin(), ops.end(), [&](const Op& op) { return op.name == name; });
  EXPECT_NE(it, ops.end()) << name;
  return *it;
}

bool has_op(const std::vector<Op>& ops, const std::string& name) {
  return std::any_of(ops.begin(), ops.end(), [&](const Op& op) { return op.name == name; });
}

std::vector<std::string> names(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const Op& op : ops) out.push_back(op.name);
  return out;
}

std::vector<Op> layer_ops(const char* preset, const Phase& phase, AttentionImpl impl = AttentionImpl::Fused,
                          uint64_t tp = 1) {
  return build_layer(model_preset(preset), phase, impl, tp).layers.at(0).ops;
}

TEST(ModelFamilies, QwenBiasesOnlyQueriesKeysAndValues) {
  const std::vector<Op> ops = layer_ops("qwen2-7b", Phase::prefill(1, 16));
  EXPECT_TRUE(find_op(ops, "attn.qkv_proj").shape_as<LinearShape>().bias);
  EXPECT_FALSE(find_op(ops, "attn.o_proj").shape_as<LinearShape>().bias);
  EXPECT_FALSE(find_op(ops, "mlp.gate_up_proj").shape_as<LinearShape>().bias);
}

// Every layer's experts and a shared expert of 4 experts' width, gated by a hidden × 1 linear.
TEST(ModelFamilies, QwenMoeGatesItsSharedExpert) {
  const OpGraph graph = build_model(model_preset("qwen1.5-moe-a2.7b"), Phase::prefill(1, 64), AttentionImpl::Fused);
  ASSERT_EQ(graph.layers.size(), 1u);
  const std::vector<Op>& ops = graph.layers[0].ops;
  EXPECT_EQ(find_op(ops, "moe.shared.gate_up_proj").shape_as<LinearShape>().n, 2u * 5632);
  const auto& gate = find_op(ops, "moe.shared_gate").shape_as<LinearShape>();
  EXPECT_EQ(gate.n, 1u);
  EXPECT_EQ(gate.k, 2048u);
}

TEST(ModelFamilies, GemmaGatesItsMlpWithGelu) {
  const std::vector<Op> ops = layer_ops("gemma-7b", Phase::prefill(1, 16));
  EXPECT_EQ(find_op(ops, "mlp.gate_up_proj").shape_as<LinearShape>().n, 2u * 24576);
  const Op& gelu_mul = find_op(ops, "mlp.gelu_mul");
  EXPECT_EQ(gelu_mul.kind, OpKind::GeluMul);
  EXPECT_EQ(gelu_mul.shape_as<RowsShape>().cols, 24576u);
  // 16 heads of 256 project from and back to 3072.
  EXPECT_EQ(find_op(ops, "attn.o_proj").shape_as<LinearShape>().k, 16u * 256);
}

// Four norms a layer, capped scores inside attention (or as an op of their own unfused), and
// capped logits.
TEST(ModelFamilies, Gemma2NormsAndSoftCaps) {
  const std::vector<Op> ops = layer_ops("gemma2-9b", Phase::prefill(1, 16));
  EXPECT_EQ(names(ops), (std::vector<std::string>{"attn.norm", "attn.qkv_proj", "attn.rope", "attn.kv_cache_append",
                                                  "attn.attention", "attn.o_proj", "attn.post_norm", "attn.residual",
                                                  "mlp.norm", "mlp.gate_up_proj", "mlp.gelu_mul", "mlp.down_proj",
                                                  "mlp.post_norm", "mlp.residual"}));
  EXPECT_EQ(find_op(ops, "attn.attention").shape_as<AttentionShape>().softcap, 50.0);
  const std::vector<Op> unfused = layer_ops("gemma2-9b", Phase::prefill(2, 16), AttentionImpl::Unfused);
  const auto& cap = find_op(unfused, "attn.softcap").shape_as<SoftcapShape>();
  EXPECT_EQ(cap.rows, 2u * 16 * 16);  // batch × heads × queries
  EXPECT_EQ(cap.cols, 16u);
  EXPECT_EQ(cap.cap, 50.0);
  const OpGraph graph = build_model(model_preset("gemma2-9b"), Phase::decode(2, 10), AttentionImpl::Fused, 2);
  const auto& logits = find_op(graph.epilogue, "lm_head.softcap").shape_as<SoftcapShape>();
  EXPECT_EQ(logits.cols, 128000u);  // each of 2 GPUs caps its half of the vocabulary
  EXPECT_EQ(logits.cap, 30.0);
}

// RoPE rotates a quarter of each 128-dim head: a quarter of the full rotation's work.
TEST(ModelFamilies, PartialRotaryRotatesAShareOfEachHead) {
  const std::vector<Op> partial = layer_ops("pythia-6.9b", Phase::prefill(1, 32));
  const Op& rope = find_op(partial, "attn.rope");
  EXPECT_EQ(rope.shape_as<RopeShape>().rotary_dim, 32u);
  ModelConfig full = model_preset("pythia-6.9b");
  full.rotary_fraction = 1;
  const std::vector<Op> rotated = build_layer(full, Phase::prefill(1, 32), AttentionImpl::Fused).layers.at(0).ops;
  const Op& whole = find_op(rotated, "attn.rope");
  EXPECT_EQ(4 * rope.flops(), whole.flops());
  EXPECT_EQ(4 * rope.elements().written, whole.elements().written);
}

// Attention and MLP read the same input and meet the residual together; under tensor
// parallelism one all-reduce completes both.
TEST(ModelFamilies, ParallelSubBlocksShareOneAllReduce) {
  const std::vector<Op> neox = layer_ops("pythia-6.9b", Phase::prefill(1, 16), AttentionImpl::Fused, 4);
  EXPECT_EQ(names(neox), (std::vector<std::string>{"attn.norm", "attn.qkv_proj", "attn.rope", "attn.kv_cache_append",
                                                   "attn.attention", "attn.o_proj", "mlp.norm", "mlp.up_proj",
                                                   "mlp.gelu", "mlp.down_proj", "mlp.attn_sum", "mlp.all_reduce",
                                                   "mlp.residual"}));
  // Falcon-7B: one norm feeds both.
  const std::vector<Op> falcon = layer_ops("falcon-7b", Phase::prefill(1, 16));
  EXPECT_FALSE(has_op(falcon, "mlp.norm"));
  EXPECT_EQ(std::count_if(falcon.begin(), falcon.end(), [](const Op& op) { return op.kind == OpKind::LayerNorm; }),
            1);
  EXPECT_EQ(find_op(falcon, "attn.qkv_proj").shape_as<LinearShape>().n, (71u + 2) * 64);  // one K/V head
}

}  // namespace
}  // namespace tessel::workloads
