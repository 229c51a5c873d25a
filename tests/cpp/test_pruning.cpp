// Structured pruning (prune-heads-P, prune-mlp-P, a recipe's prune): which heads and channels go,
// the shapes and parameters the pruned model has, what it saves in decode, and the refusals.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "run_helpers.h"
#include "test_files.h"
#include "workloads/hf_config.h"
#include "workloads/input_error.h"
#include "workloads/model_config.h"
#include "workloads/quant_recipe.h"
#include "workloads/transformer.h"

namespace tessel {
namespace {

using workloads::ModelConfig;

ModelConfig pruned(const std::string& model, const std::string& quant) {
  return workloads::with_recipe(workloads::model_preset(model), workloads::parse_quant(quant));
}

uint64_t parameters(const ModelConfig& config) {
  return workloads::build_model(config, workloads::Phase::prefill(1, 1), workloads::AttentionImpl::Fused)
      .total_parameters();
}

// Multi-head attention loses a KV head with each query head; grouped-query attention loses query
// heads evenly from its groups and keeps its KV heads; MLPs keep whole blocks of 128 channels.
TEST(Pruning, HeadsGoByGroupAndChannelsByBlocksOf128) {
  const ModelConfig llama2 = pruned("llama2-7b", "prune-heads-25,prune-mlp-25");
  EXPECT_EQ(llama2.num_attention_heads, 24u);
  EXPECT_EQ(llama2.num_key_value_heads, 24u);
  EXPECT_EQ(llama2.head_dim, 128u);
  EXPECT_EQ(llama2.hidden_size, 4096u);
  EXPECT_EQ(llama2.intermediate_size, 64u * 128);  // 86 blocks less 22 (21.5 rounded)

  const ModelConfig llama3 = pruned("llama3-8b", "prune-heads-25");
  EXPECT_EQ(llama3.num_key_value_heads, 8u);
  EXPECT_EQ(llama3.num_attention_heads, 24u);  // 3 of each group's 4

  const ModelConfig mixtral = pruned("mixtral-8x7b", "prune-mlp-50");
  EXPECT_EQ(mixtral.expert_intermediate_size, 14336u / 2);
  EXPECT_EQ(mixtral.quant.prune.mlp_channels, 0.5);
}

// The pruned graph's weights, counted by hand from Llama-2-7B's shapes: 24 heads of 128 in each
// attention projection, 8192 channels in each MLP.
TEST(Pruning, ThePrunedModelHasThePrunedShapesParameters) {
  const uint64_t hidden = 4096, vocab = 32000, layers = 32, heads_width = 24 * 128, channels = 8192;
  const uint64_t per_layer = 4 * hidden * heads_width + 3 * hidden * channels + 2 * hidden;
  const uint64_t expected = 2 * vocab * hidden + layers * per_layer + hidden;
  EXPECT_EQ(parameters(pruned("llama2-7b", "prune-heads-25,prune-mlp-25")), expected);
}

// A memory-bound decode step reads the weights and the cache: the pruned model's step takes no
// less than the share of bytes it kept (fixed launch and sync costs only push the ratio up), less
// 2% for kernels whose efficiency moves with their shape, and is faster than the dense one.
TEST(Pruning, DecodeSavesAtMostTheBytesItRemoves) {
  const arch::ArchSpec a100 = arch::load_arch(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml");
  const auto run = [&](const ModelConfig& model) {
    return testing::run_model(a100, model, testing::decode_request(1, 512), testing::timing_only(arch::DType::Fp16));
  };
  const sim::RunResult dense = run(workloads::model_preset("llama2-7b"));
  for (const char* quant : {"prune-heads-25", "prune-mlp-40"}) {
    const sim::RunResult small = run(pruned("llama2-7b", quant));
    const double kept_bytes = static_cast<double>(small.footprint_bytes()) / static_cast<double>(dense.footprint_bytes());
    const double time_ratio = small.seconds() / dense.seconds();
    EXPECT_LT(time_ratio, 1.0) << quant;
    EXPECT_GT(time_ratio, 0.98 * kept_bytes) << quant;
  }
  const sim::RunResult heads = run(pruned("llama2-7b", "prune-heads-25"));
  EXPECT_EQ(heads.kv_cache_bytes * 4, dense.kv_cache_bytes * 3);
}

// A pruned checkpoint's config.json gives head_dim beside heads that do not divide the hidden size
// (24 heads of 128 beside 4096): it reads as the same model pruned here.
TEST(Pruning, APrunedCheckpointsConfigReads) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessel_pruned_config";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 8192, "num_attention_heads": 24, "num_key_value_heads": 24, "head_dim": 128,
             "num_hidden_layers": 32, "vocab_size": 32000})";
  const ModelConfig read = workloads::read_hf_config((dir / "config.json").string());
  EXPECT_EQ(parameters(read), parameters(pruned("llama2-7b", "prune-heads-25,prune-mlp-25")));
  std::filesystem::remove_all(dir);
}

TEST(Pruning, RecipesThatPruneNothingOrEverythingAreRefused) {
  EXPECT_THROW(pruned("tiny", "prune-heads-10"), workloads::InputError);  // 10% of 2 heads a group
  EXPECT_THROW(pruned("llama2-7b", "prune-heads-99"), workloads::InputError);  // 31.7 of 32 leaves none
  EXPECT_THROW(workloads::parse_quant("prune-heads-100"), workloads::InputError);
  EXPECT_THROW(workloads::parse_quant("prune-mlp-20,prune-mlp-30"), workloads::InputError);
  try {
    pruned("llama2-7b", "prune-heads-1");
    FAIL() << "1% of 32 heads was accepted";
  } catch (const workloads::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("removes none"), std::string::npos) << error.what();
  }
}

TEST(Pruning, RecipeFilesPruneAndNameTheLineAndKeyOfAMistake) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessel_pruning_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "prune.yaml").string();
  std::ofstream(file) << "name: slim\nprune: {heads: 0.25, mlp_channels: 0.3}\n";
  const workloads::QuantRecipe recipe = workloads::parse_quant(file);
  EXPECT_EQ(recipe.prune.heads, 0.25);
  EXPECT_EQ(recipe.prune.mlp_channels, 0.3);
  EXPECT_FALSE(recipe.empty());

  std::ofstream(file) << "name: all\nprune:\n  heads: 1\n";
  try {
    workloads::parse_quant(file);
    FAIL() << "removing every head was accepted";
  } catch (const arch::ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("prune.yaml:3"), std::string::npos) << message;
    EXPECT_NE(message.find("prune.heads"), std::string::npos) << message;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

// Llama-2-7B's linear `name` (m x n x k) as the recipe `quant` leaves it.
workloads::Op linear(const std::string& name, uint64_t m, uint64_t n, uint64_t k, const std::string& quant) {
  workloads::OpGraph graph;
  graph.prologue.emplace_back(name, workloads::OpKind::Linear, workloads::LinearShape{m, n, k});
  workloads::apply_quant(graph, workloads::parse_quant(quant));
  return graph.prologue.front();
}

workloads::Op down_proj(uint64_t m, const std::string& quant) { return linear("mlp.down_proj", m, 4096, 11008, quant); }

// A token's inputs 10% nonzero leave 1,101 of 11,008 rows (1,152: 9 whole groups of 128 under
// group scales); 16 tokens' union leaves 1 - 0.9^16 = 81.5%; a prefill's, all of them.
TEST(ActivationSparsity, TheGatheredKIsTheUnionOfTheTokensNonzeroInputs) {
  EXPECT_EQ(workloads::active_k(down_proj(1, "act-sparse-d10")), 1101u);
  EXPECT_EQ(workloads::active_k(down_proj(1, "act-sparse-d10,w4a16-g128")), 1152u);
  EXPECT_EQ(workloads::active_k(down_proj(16, "act-sparse-d10")),
            static_cast<uint64_t>(std::ceil(11008 * (1 - std::pow(0.9, 16)))));
  EXPECT_EQ(workloads::active_k(down_proj(512, "act-sparse-d10")), 11008u);
  EXPECT_EQ(workloads::active_k(down_proj(1, "w8a16")), 11008u);
  EXPECT_FALSE(down_proj(1, "w8a16").input_density);
}

// `model_name` under the precision recipe `quant` (none when empty) on the A100, timing only.
sim::RunResult run_on_a100(const std::string& model_name, const std::string& quant, const sim::ModelRequest& request) {
  static const arch::ArchSpec a100 = arch::load_arch(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml");
  const ModelConfig model = quant.empty() ? workloads::model_preset(model_name) : pruned(model_name, quant);
  return testing::run_model(a100, model, request, testing::timing_only(arch::DType::Fp16));
}

// The bytes a run's first step reads from DRAM.
double first_step_dram(const sim::RunResult& run) {
  return static_cast<double>(run.steps.front().activity.dram_read_bytes);
}

// A decode step reads a tenth of the down projections' weights: the step's DRAM bytes fall by
// 90% of theirs (the gathered rows at the same bytes each; 1% for the rounding of 1,101 rows and
// the activations' bytes), its time falls, and a long prefill is untouched.
TEST(ActivationSparsity, DecodeReadsOnlyTheNonzeroInputsRows) {
  const auto run = [](const std::string& quant, const sim::ModelRequest& request) {
    return run_on_a100("llama2-7b", quant, request);
  };
  const sim::RunResult dense = run("", testing::decode_request(1, 64));
  const sim::RunResult sparse = run("act-sparse-d10", testing::decode_request(1, 64));
  const double down_proj_bytes = 32.0 * 4096 * 11008 * 2;
  EXPECT_NEAR(first_step_dram(dense) - first_step_dram(sparse), 0.9 * down_proj_bytes, 0.01 * down_proj_bytes);
  EXPECT_LT(sparse.seconds(), 0.9 * dense.seconds());
  EXPECT_EQ(sparse.weight_bytes, dense.weight_bytes);  // every weight is still held
  EXPECT_EQ(run("act-sparse-d10", testing::prefill_request(1, 512)).cycles(),
            run("", testing::prefill_request(1, 512)).cycles());
}

TEST(ActivationSparsity, PresetsAndFilesSetIt) {
  EXPECT_THROW(workloads::parse_quant("act-sparse-d100"), workloads::InputError);
  EXPECT_THROW(workloads::parse_quant("act-sparse-d10,act-sparse-d20"), workloads::InputError);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessel_activation_sparsity";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "relu.yaml").string();
  std::ofstream(file) << "name: relu\nactivation_sparsity: {density: 0.2, ops: [\"mlp.*\"]}\n";
  const workloads::QuantRecipe recipe = workloads::parse_quant(file);
  ASSERT_TRUE(recipe.activation_sparsity);
  EXPECT_EQ(recipe.activation_sparsity->density, 0.2);
  EXPECT_EQ(recipe.activation_sparsity->ops, std::vector<std::string>{"mlp.*"});
  std::ofstream(file) << "name: dense\nactivation_sparsity:\n  density: 1\n";
  try {
    workloads::parse_quant(file);
    FAIL() << "a density of 1 was accepted";
  } catch (const arch::ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("relu.yaml:3"), std::string::npos) << error.what();
  }
  std::filesystem::remove_all(dir);
}

workloads::Op gate_up_proj(uint64_t m, const std::string& quant) {
  return linear("mlp.gate_up_proj", m, 22016, 4096, quant);
}

// Predicted neurons: a token's 10% of 22,016 gate and up columns is 2,202; 16 tokens' union
// 1 - 0.9^16; a prefill's, all of them. The down projection's K follows as with act-sparse.
TEST(ActivationSparsity, PredictedNeuronsGatherTheGateAndUpColumns) {
  EXPECT_EQ(workloads::active_n(gate_up_proj(1, "neuron-sparse-d10-r1024")), 2202u);
  EXPECT_EQ(workloads::active_n(gate_up_proj(16, "neuron-sparse-d10-r1024")),
            static_cast<uint64_t>(std::ceil(22016 * (1 - std::pow(0.9, 16)))));
  EXPECT_EQ(workloads::active_n(gate_up_proj(512, "neuron-sparse-d10-r1024")), 22016u);
  EXPECT_EQ(workloads::active_n(gate_up_proj(1, "act-sparse-d10")), 22016u);  // inputs only
  EXPECT_EQ(workloads::active_k(down_proj(1, "neuron-sparse-d10-r1024")), 1101u);
  const workloads::QuantRecipe recipe = workloads::parse_quant("neuron-sparse-d10-r1024");
  ASSERT_TRUE(recipe.activation_sparsity);
  EXPECT_EQ(recipe.activation_sparsity->predictor_rank, 1024u);
  EXPECT_NE(workloads::describe(recipe).find("a rank 1024 predictor"), std::string::npos);
  EXPECT_THROW(workloads::parse_quant("neuron-sparse-d10-r1024,act-sparse-d10"), workloads::InputError);
}

// The gated activation after predicted gate and up columns runs over the same columns: a token's
// 1,101 of 11,008, 16 tokens' union; without a prediction (act-sparse predicts no outputs), all.
TEST(ActivationSparsity, TheActivationOfPredictedNeuronsRunsOverTheirColumns) {
  const auto silu_mul = [](uint64_t rows, const std::string& quant) {
    std::vector<workloads::Op> ops;
    ops.emplace_back("mlp.gate_up_proj", workloads::OpKind::Linear, workloads::LinearShape{rows, 22016, 4096});
    ops.emplace_back("mlp.silu_mul", workloads::OpKind::SiluMul, workloads::RowsShape{rows, 11008});
    workloads::apply_quant(ops, workloads::parse_quant(quant), 128);
    return ops.back();
  };
  const workloads::Op one = silu_mul(1, "neuron-sparse-d10-r1024");
  EXPECT_EQ(workloads::active_cols(one), 1101u);
  EXPECT_EQ(one.elements().read, 2u * 1101);
  EXPECT_EQ(one.elements().written, 1101u);
  EXPECT_EQ(one.vector_work()->elements, 1101u);
  const auto union_of_16 = static_cast<uint64_t>(std::ceil(11008 * (1 - std::pow(0.9, 16))));
  EXPECT_EQ(workloads::active_cols(silu_mul(16, "neuron-sparse-d10-r1024")), union_of_16);
  EXPECT_EQ(silu_mul(16, "neuron-sparse-d10-r1024").vector_work()->elements, 16 * union_of_16);
  EXPECT_EQ(workloads::active_cols(silu_mul(1, "act-sparse-d10")), 11008u);
  EXPECT_EQ(silu_mul(1, "act-sparse-d10").vector_work()->elements, 11008u);
}

// A decode step with predicted neurons reads a tenth of the gate and up weights (and of the
// down projection's) and pays for its predictor: the step's DRAM bytes fall by 90% of the three
// projections' and rise by the predictor's hidden x rank + rank x intermediate weights (1% for
// the rounding of the gathered columns and the activations), and the step is faster. The
// predictor's weights are held beside the model's.
TEST(ActivationSparsity, PredictedNeuronsSkipTheirWeightsAndPayForThePredictor) {
  const auto run = [](const std::string& quant) {
    return run_on_a100("llama2-7b", quant, testing::decode_request(1, 64));
  };
  const sim::RunResult dense = run("");
  const sim::RunResult sparse = run("neuron-sparse-d10-r512");
  const double mlp_bytes = 32.0 * 3 * 4096 * 11008 * 2;
  const double predictor_bytes = 32.0 * (4096 * 512 + 512 * 11008) * 2;
  EXPECT_NEAR(first_step_dram(dense) - first_step_dram(sparse), 0.9 * mlp_bytes - predictor_bytes, 0.01 * mlp_bytes);
  EXPECT_LT(sparse.seconds(), 0.75 * dense.seconds());
  EXPECT_NEAR(static_cast<double>(sparse.weight_bytes - dense.weight_bytes), predictor_bytes, 1e-9 * predictor_bytes);
}

// Each expert of a mixture of experts gets its own predictor (Mixtral has no dense MLP): its
// parameters grow by exactly 32 layers x 8 experts x (4096 x 256 + 256 x 14336); the experts'
// gate and up columns and their activation are the predicted ones over each expert's tokens.
// DeepSeek-MoE's decode step on the A100 then reads fewer bytes (not less time: its experts are
// 1,408 wide, and the predictors' kernels, a launch per expert as a grouped linear's groups run
// in turn, cost what the gathered columns save).
TEST(ActivationSparsity, EachExpertGetsItsOwnPredictor) {
  const auto graph = [](const std::string& quant) {
    const ModelConfig model = quant.empty() ? workloads::model_preset("mixtral-8x7b") : pruned("mixtral-8x7b", quant);
    return workloads::build_model(model, workloads::Phase::decode(1, 64), workloads::AttentionImpl::Fused);
  };
  const workloads::OpGraph dense = graph("");
  const workloads::OpGraph sparse = graph("neuron-sparse-d10-r256");
  EXPECT_EQ(sparse.total_parameters() - dense.total_parameters(), 32ull * 8 * (4096 * 256 + 256 * 14336));
  const auto find = [&](const std::string& name) {
    const workloads::Op* found = nullptr;
    sparse.for_each_op([&](const workloads::Op& op, uint64_t) {
      if (op.name == name && !found) found = &op;
    });
    return found;
  };
  const workloads::Op* predictor = find("moe.experts.predictor_out");
  const workloads::Op* gate_up = find("moe.experts.gate_up_proj");
  const workloads::Op* silu_mul = find("moe.experts.silu_mul");
  ASSERT_TRUE(predictor && gate_up && silu_mul);
  EXPECT_EQ(predictor->shape_as<workloads::LinearShape>().groups, gate_up->shape_as<workloads::LinearShape>().groups);
  const auto& shape = gate_up->shape_as<workloads::LinearShape>();
  EXPECT_EQ(workloads::active_n(*gate_up),
            static_cast<uint64_t>(std::ceil(2.0 * 14336 * (1 - std::pow(0.9, static_cast<double>(shape.m))))));
  EXPECT_EQ(silu_mul->output_density, 0.1);
  EXPECT_FALSE(find("mlp.predictor_in"));
  // A recipe whose outputs name only the dense MLP's projection gives the experts no predictor.
  const testing::TempFile dense_only(
      "dense_only.yaml",
      "name: dense_only\nactivation_sparsity: {density: 0.1, outputs: [mlp.gate_up_proj], predictor_rank: 256}\n");
  EXPECT_EQ(graph(dense_only.path).total_parameters(), dense.total_parameters());

  const sim::ModelRequest step = testing::decode_request(1, 64);
  const sim::RunResult dense_run = run_on_a100("deepseek-moe-16b", "", step);
  const sim::RunResult sparse_run = run_on_a100("deepseek-moe-16b", "neuron-sparse-d10-r128", step);
  EXPECT_LT(first_step_dram(sparse_run), first_step_dram(dense_run));
}

// In a recipe file the predicted outputs need the predictor's rank, and a rank needs outputs.
TEST(ActivationSparsity, FilesPairPredictedOutputsWithTheirPredictor) {
  const testing::TempFile file("dejavu_good.yaml",
                               "name: dejavu\nactivation_sparsity:\n  density: 0.2\n  outputs: [mlp.gate_up_proj]\n"
                               "  predictor_rank: 256\n");
  const workloads::QuantRecipe recipe = workloads::parse_quant(file.path);
  ASSERT_TRUE(recipe.activation_sparsity);
  EXPECT_EQ(recipe.activation_sparsity->outputs, std::vector<std::string>{"mlp.gate_up_proj"});
  EXPECT_EQ(recipe.activation_sparsity->predictor_rank, 256u);
  const auto error_of = [](const std::string& text) {
    const testing::TempFile bad("dejavu.yaml", text);
    return testing::error_message<arch::ConfigError>([&] { workloads::parse_quant(bad.path); },
                                                     "a predictor rank without outputs, or outputs without one");
  };
  const std::string no_rank = error_of("name: d\nactivation_sparsity:\n  density: 0.2\n  outputs: [mlp.up_proj]\n");
  EXPECT_NE(no_rank.find("dejavu.yaml:2: key 'activation_sparsity.predictor_rank': missing"), std::string::npos)
      << no_rank;
  const std::string no_outputs = error_of("name: d\nactivation_sparsity:\n  density: 0.2\n  predictor_rank: 8\n");
  EXPECT_NE(no_outputs.find("dejavu.yaml:4: key 'activation_sparsity.predictor_rank'"), std::string::npos)
      << no_outputs;
}

}  // namespace
}  // namespace tessel
