// Precision recipes: the bytes of packed formats and their scales, which ops a recipe reaches,
// what weights and caches stored narrower cost on each kind, and the errors of bad recipes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "cli_runner.h"
#include "mapper/gpu_mapper.h"
#include "mapper/systolic_mapper.h"
#include "run_helpers.h"
#include "sim/step_runner.h"
#include "test_files.h"
#include "workloads/hf_config.h"
#include "workloads/input_error.h"
#include "workloads/quant_recipe.h"
#include "workloads/transformer.h"

namespace tessel {
namespace {

using arch::DType;
using workloads::Op;
using workloads::OpKind;
using workloads::QuantRecipe;
using workloads::ScaleGranularity;
using workloads::StoredFormat;

arch::ArchSpec spec_of(const std::string& file) {
  return arch::load_arch(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/" + file);
}

Op linear(uint64_t m, uint64_t n, uint64_t k, std::optional<StoredFormat> weights = std::nullopt) {
  Op op("proj", OpKind::Linear, workloads::LinearShape{m, n, k});
  op.weight_storage = weights;
  return op;
}

const StoredFormat kInt4G128{DType::Int4, ScaleGranularity::Group, 128, true};

// AWQ's layout, counted by hand: 4096 x 4096 int4 values are 8 MiB; 32 groups along K of each
// of the 4096 columns hold an fp16 scale (256 KiB) and a 4-bit zero point (64 KiB).
TEST(Quant, PackedWeightBytesCountValuesScalesAndZeroPoints) {
  EXPECT_EQ(kInt4G128.bytes(4096ull * 4096, 4096), 8388608u + 262144u + 65536u);
  const StoredFormat channel{DType::Int8, ScaleGranularity::Channel, 0, false};
  EXPECT_EQ(channel.bytes(4096ull * 11008, 4096), 4096ull * 11008 + 11008 * 2);  // a scale per column
  const StoredFormat tensor{DType::Fp8, ScaleGranularity::Tensor, 0, false};
  EXPECT_EQ(tensor.bytes(1000, 10), 1000u);
  // A group straddling no vector: K = 200 holds two groups of 128 per column.
  EXPECT_EQ(kInt4G128.bytes(200 * 3, 200), 300u + 6 * 2 + 3);
  EXPECT_DOUBLE_EQ(workloads::stored_weight_bytes_per_element(4096, 4096, DType::Fp16, kInt4G128, std::nullopt),
                   0.5 + 2.5 / 128);
}

// The presets say what they set, and the LM head and routers stay in the run's format.
TEST(Quant, PresetsSetTheirTensorsAndKeepTheLmHead) {
  const QuantRecipe recipe = workloads::parse_quant("w4a16-g128,kv-int8");
  ASSERT_TRUE(recipe.weights && recipe.kv_cache);
  EXPECT_EQ(recipe.weights->format, DType::Int4);
  EXPECT_EQ(recipe.weights->group, 128u);
  EXPECT_EQ(recipe.kv_cache->format, DType::Int8);
  EXPECT_FALSE(recipe.activations);
  EXPECT_EQ(workloads::parse_quant("w8a8").activations, DType::Int8);
  EXPECT_EQ(workloads::parse_quant("w8a16").weights->scales, ScaleGranularity::Channel);

  const workloads::ModelConfig model = [&] {
    workloads::ModelConfig m = workloads::model_preset("llama2-7b");
    m.quant = recipe;
    return m;
  }();
  const workloads::OpGraph graph = workloads::build_model(model, workloads::Phase::decode(1, 64),
                                                          workloads::AttentionImpl::Fused, 1);
  size_t quantized = 0, caches = 0;
  graph.for_each_op([&](const Op& op, uint64_t) {
    if (op.weight_storage) ++quantized;
    if (op.kv_storage) ++caches;
    if (op.name == "lm_head" || op.kind == OpKind::Embedding) {
      EXPECT_FALSE(op.weight_storage) << op.name;
    }
  });
  EXPECT_EQ(quantized, 4u);  // qkv, o, gate_up, down
  EXPECT_EQ(caches, 3u);     // the append, the read, attention
}

TEST(Quant, BadPresetsAndMismatchedFormatsAreRefused) {
  EXPECT_THROW(workloads::parse_quant("w3a16"), workloads::InputError);
  EXPECT_THROW(workloads::parse_quant("w4a16-g128,w8a8"), workloads::InputError);  // weights twice
  EXPECT_THROW(workloads::parse_quant("w4a16-g0"), workloads::InputError);
  EXPECT_THROW(workloads::parse_quant("w4a16-g99999999999999999999999"), workloads::InputError);
  EXPECT_THROW(workloads::parse_quant("kv-int4-g0"), workloads::InputError);
  try {
    workloads::check_quant(workloads::parse_quant("w4a16-g128"), DType::Int8);
    FAIL() << "a 16-bit-activation recipe ran in int8";
  } catch (const workloads::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("--dtype fp16 or bf16"), std::string::npos) << error.what();
  }
  EXPECT_THROW(workloads::check_quant(workloads::parse_quant("kv-fp8"), DType::Int8), workloads::InputError);
  EXPECT_NO_THROW(workloads::check_quant(workloads::parse_quant("w4a16-g128,kv-int8"), DType::Bf16));
}

TEST(Quant, RecipeFilesReadAndNameTheLineAndKeyOfAMistake) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessel_quant_test";
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.yaml").string();
  std::ofstream(good) << "name: mixed\nweights: {format: int4, scales: group, group: 64, zero_points: true}\n"
                         "kv_cache: {format: int8, scales: token}\nkeep: [lm_head, \"attn.*\"]\nactivations: 16-bit\n";
  const QuantRecipe recipe = workloads::parse_quant(good);
  EXPECT_EQ(recipe.name, "mixed");
  EXPECT_EQ(recipe.activation_bits, 16u);
  EXPECT_FALSE(recipe.activations);
  EXPECT_THROW(workloads::check_quant(recipe, DType::Int8), workloads::InputError);
  EXPECT_EQ(recipe.weights->group, 64u);
  EXPECT_EQ(recipe.kv_cache->scales, ScaleGranularity::Token);
  EXPECT_EQ(recipe.keep.size(), 2u);

  const std::string bad = (dir / "bad.yaml").string();
  std::ofstream(bad) << "name: bad\nkv_cache:\n  format: int8\n  scales: channel\n";
  try {
    workloads::parse_quant(bad);
    FAIL() << "a per-channel KV cache was accepted";
  } catch (const arch::ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("bad.yaml:4"), std::string::npos) << message;
    EXPECT_NE(message.find("kv_cache.scales"), std::string::npos) << message;
  }
  std::filesystem::remove_all(dir);
}

// keep_layers keeps the first and last layers' linears in fp16: the weights grow by exactly 2 of the
// 32 layers' savings (every layer of Llama-2-7B is alike), the KV cache stays int8 in every layer,
// and the kept layers run as blocks of their own.
TEST(Quant, KeptLayersHoldTheirLinearsInTheRunsFormat) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessel_quant_keep_layers";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "ends.yaml").string();
  std::ofstream(file) << "name: ends\nweights: {format: int4, scales: group, group: 128, zero_points: true}\n"
                         "kv_cache: {format: int8, scales: tensor}\nkeep_layers: [0, -1]\n";
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const auto run_under = [&](const std::string& quant) {
    workloads::ModelConfig model = workloads::model_preset("llama2-7b");
    if (!quant.empty()) model.quant = workloads::parse_quant(quant);
    return testing::run_model(a100, model, testing::decode_request(1, 16), testing::timing_only(DType::Fp16));
  };
  const sim::RunResult dense = run_under("");
  const sim::RunResult all = run_under("w4a16-g128,kv-int8");
  const sim::RunResult ends = run_under(file);
  EXPECT_EQ((ends.weight_bytes - all.weight_bytes) * 16, dense.weight_bytes - all.weight_bytes);
  EXPECT_EQ(ends.kv_cache_bytes, all.kv_cache_bytes);

  workloads::ModelConfig model = workloads::model_preset("llama2-7b");
  model.quant = workloads::parse_quant(file);
  const workloads::OpGraph graph = workloads::build_model(model, workloads::Phase::decode(1, 16), workloads::AttentionImpl::Fused);
  ASSERT_EQ(graph.layers.size(), 3u);
  EXPECT_EQ(graph.layers[1].repeats, 30u);
  for (size_t block = 0; block < 3; ++block) {
    for (const Op& op : graph.layers[block].ops) {
      if (op.kind == OpKind::Linear) {
        EXPECT_EQ(op.weight_storage.has_value(), block == 1) << block << " " << op.name;
      }
      if (op.kind == OpKind::KvCacheAppend) {
        EXPECT_TRUE(op.kv_storage) << block;
      }
    }
  }

  std::ofstream(file) << "name: past\nweights: {format: int8, scales: channel}\nkeep_layers: [32]\n";
  model.quant = workloads::parse_quant(file);
  try {
    workloads::build_model(model, workloads::Phase::decode(1, 16), workloads::AttentionImpl::Fused);
    FAIL() << "layer 32 of 32 was accepted";
  } catch (const workloads::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("keep_layers names layer 32"), std::string::npos) << error.what();
  }
  std::ofstream(file) << "name: alone\nkv_cache: {format: int8, scales: token}\nkeep_layers: [0]\n";
  EXPECT_THROW(workloads::parse_quant(file), arch::ConfigError);
  std::filesystem::remove_all(dir);
}

// The checkpoint identity: Llama-2-7B in AWQ's int4 with groups of 128 (embeddings and LM head
// in fp16) is TheBloke/Llama-2-7B-AWQ's model.safetensors, 3.89 GB. The size is printed to
// 10 MB, so 0.5% covers its rounding and the file's header.
TEST(Quant, W4A16WeightsOfLlama2_7bMatchItsAwqCheckpoint) {
  workloads::ModelConfig model = workloads::model_preset("llama2-7b");
  model.quant = workloads::parse_quant("w4a16-g128");
  const sim::RunResult run =
      testing::run_model(spec_of("a100_sxm.yaml"), model, testing::decode_request(1, 16), testing::timing_only(DType::Fp16));
  EXPECT_NEAR(static_cast<double>(run.weight_bytes), 3.89e9, 0.005 * 3.89e9);
}

// Decoding is bound by the weights' bytes: a W4A16 GEMV reads about a quarter of the fp16
// weight bytes plus its scales (the activations are 8 KB of 8 MB), and takes no less than
// those bytes at HBM's peak.
TEST(Quant, W4A16DecodeReadsAQuarterOfTheWeightBytesPlusScales) {
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Fp16);
  const sim::OpResult dense = testing::run_op(a100, linear(1, 4096, 4096), settings);
  const sim::OpResult packed = testing::run_op(a100, linear(1, 4096, 4096, kInt4G128), settings);
  const double weights = 4096.0 * 4096;
  const double expected = weights * 0.5 + 4096.0 * 32 * 2.5;
  const double activations = 4096.0 * 2;
  EXPECT_NEAR(static_cast<double>(packed.activity.dram_read_bytes), expected + activations, 0.01 * expected);
  EXPECT_NEAR(static_cast<double>(dense.activity.dram_read_bytes), 2 * weights + activations, 0.01 * weights);
  EXPECT_LT(packed.cycles, dense.cycles);
  const double hbm_floor = expected / std::get<arch::GpuSpec>(a100).hbm_peak_bytes_per_cycle();
  EXPECT_GE(static_cast<double>(packed.cycles), hbm_floor);
  EXPECT_GT(packed.activity.vector_alu_ops, 0.0);  // the unpacking is charged
}

// A large W4A16 GEMM multiplies on the same tensor cores as fp16: no faster than fp16's MACs
// at the tensor cores' peak, whatever it saves in bytes.
TEST(Quant, W4A16PrefillIsNoFasterThanTheTensorCores) {
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::OpResult packed =
      testing::run_op(a100, linear(4096, 4096, 4096, kInt4G128), testing::timing_only(DType::Fp16));
  const double floor = 4096.0 * 4096 * 4096 / std::get<arch::GpuSpec>(a100).peak_macs_per_cycle(DType::Fp16);
  EXPECT_GE(static_cast<double>(packed.cycles), floor);
}

// Unpacking B can bind: a GPU whose CUDA cores are scarce against its tensor cores and HBM
// spends its main loop dequantizing.
TEST(Quant, TheGpuMapperCostsTheUnpackingOfB) {
  arch::GpuSpec spec = std::get<arch::GpuSpec>(spec_of("a100_sxm.yaml"));
  const mapper::GpuGemm gemm{4096, 4096, 4096, DType::Fp16, kInt4G128};
  EXPECT_DOUBLE_EQ(mapper::dequant_instructions_per_element(gemm), 1.5);
  spec.fp32_ops_per_cycle_per_sm /= 64;
  EXPECT_EQ(mapper::map_gpu_gemm(spec, gemm).step_bound, "dequantizing B");
  const mapper::GpuGemm stored_as_computed{4096, 4096, 4096, DType::Int8,
                                           StoredFormat{DType::Int8, ScaleGranularity::Channel, 0, false}};
  EXPECT_EQ(mapper::dequant_instructions_per_element(stored_as_computed), 0.0);
}

// A CPU unpacks B on its vector units: W4A16 decode moves fewer DDR bytes and charges the
// unpacking.
TEST(Quant, ACpuDecodesW4A16FromFewerBytes) {
  const arch::ArchSpec xeon = spec_of("xeon_8480.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Bf16);
  const sim::OpResult dense = testing::run_op(xeon, linear(1, 4096, 4096), settings);
  const sim::OpResult packed = testing::run_op(xeon, linear(1, 4096, 4096, kInt4G128), settings);
  EXPECT_LT(packed.activity.dram_read_bytes, dense.activity.dram_read_bytes / 3);
  EXPECT_LT(packed.cycles, dense.cycles);
  EXPECT_GT(packed.activity.vector_alu_ops, 0.0);
}

// A systolic array keeps packed weights in DRAM and in its weight buffer and unpacks them at
// its edge: a decode GEMV moves about a quarter of the bf16 weight bytes (plus scales) from
// DRAM and from the buffer, and the unpacking is charged; its PEs' work is unchanged.
TEST(Quant, ASystolicArrayStreamsPackedWeightsAndUnpacksThemAtItsEdge) {
  for (const char* file : {"tpu_v4_like.yaml", "u280_fp16.yaml"}) {
    const arch::ArchSpec spec = spec_of(file);
    const DType dtype = std::get<arch::SystolicSpec>(spec).dtypes.front().dtype;
    const sim::RunSettings settings = testing::timing_only(dtype);
    const sim::OpResult dense = testing::run_op(spec, linear(1, 4096, 4096), settings);
    const sim::OpResult packed = testing::run_op(spec, linear(1, 4096, 4096, kInt4G128), settings);
    const double weights = 4096.0 * 4096;
    const double stored =
        weights * workloads::stored_weight_bytes_per_element(4096, 4096, dtype, kInt4G128, std::nullopt);
    // The activations and outputs are 16 KB of megabytes; 2% covers them and the rounding per block.
    EXPECT_NEAR(static_cast<double>(packed.activity.dram_read_bytes), stored, 0.02 * stored) << file;
    EXPECT_NEAR(static_cast<double>(dense.activity.dram_read_bytes), 2 * weights, 0.02 * weights) << file;
    EXPECT_LT(packed.cycles, dense.cycles) << file;
    EXPECT_EQ(packed.activity.macs, dense.activity.macs) << file;
    EXPECT_GT(packed.activity.vector_alu_ops, dense.activity.vector_alu_ops) << file;
  }
}

// An int8 KV cache halves the cache's bytes, in the footprint and in what attention reads.
TEST(Quant, AnInt8KvCacheHalvesTheCacheBytes) {
  workloads::ModelConfig model = workloads::model_preset("llama2-7b");
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Fp16);
  const sim::RunResult dense = testing::run_model(a100, model, testing::decode_request(8, 4096), settings);
  model.quant = workloads::parse_quant("kv-int8");
  const sim::RunResult int8 = testing::run_model(a100, model, testing::decode_request(8, 4096), settings);
  EXPECT_EQ(int8.kv_cache_bytes * 2, dense.kv_cache_bytes);
  EXPECT_EQ(int8.weight_bytes, dense.weight_bytes);
  EXPECT_LT(int8.seconds(), dense.seconds());
  // Per token and head, a 4-bit cache keeps an fp16 scale and a 4-bit zero point per 128 values.
  model.quant = workloads::parse_quant("kv-int4");
  const sim::RunResult int4 = testing::run_model(a100, model, testing::decode_request(8, 4096), settings);
  const double elements = static_cast<double>(dense.kv_cache_bytes) / 2;
  EXPECT_DOUBLE_EQ(static_cast<double>(int4.kv_cache_bytes), elements / 2 + elements / 128 * 2.5);
}

TEST(Quant, CommandLineReportsTheRecipe) {
  const testing::CliResult run = testing::run_tessel(
      "run --arch configs/arch/a100_sxm.yaml --model llama2-7b --phase decode --kv-len 128 --no-check "
      "--quant w4a16-g128,kv-int8");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("quant w4a16-g128,kv-int8"), std::string::npos) << run.output;
  const testing::CliResult bad = testing::run_tessel(
      "run --arch configs/arch/a100_sxm.yaml --model llama2-7b --phase decode --no-check --quant w5a16");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("w5a16"), std::string::npos) << bad.output;
  // A GEMM's B is a weight: a GEMM list runs under a recipe too; an int8 array refuses W4A16.
  const testing::CliResult gemm =
      testing::run_tessel("run --arch configs/arch/tpu_v4_like.yaml --gemm 16,256,256 --quant w4a16-g128 --quiet");
  EXPECT_EQ(gemm.exit_code, 0) << gemm.output;
  const testing::CliResult array =
      testing::run_tessel("run --arch configs/arch/u280_int8.yaml --gemm 16,256,256 --quant w4a16-g128 --quiet");
  EXPECT_EQ(array.exit_code, 1) << array.output;
  EXPECT_NE(array.output.find("16 bits"), std::string::npos) << array.output;
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

// Every linear of the tiny model is checked under a scheme, and the summary's worst figures
// come from them; a K that is not a whole number of groups is refused by name.
TEST(Quant, ATinyModelRunsCheckedUnderEachScheme) {
  for (const char* scheme : {"w4a16-g32", "w8a16", "w8a8", "kv-int8"}) {
    workloads::ModelConfig model = workloads::model_preset("tiny");
    model.quant = workloads::parse_quant(scheme);
    sim::RunSettings settings;
    settings.dtype = arch::DType::Fp16;
    const sim::RunResult run =
        testing::run_model(spec_of("a100_sxm.yaml"), model, testing::prefill_request(2, 16), settings);
    EXPECT_TRUE(run.numerics_passed()) << scheme;
    const std::optional<sim::NumericsReport> worst = run.scheme_numerics();
    if (std::string(scheme) == "kv-int8") {
      EXPECT_FALSE(worst) << "no linear is quantized";
      continue;
    }
    ASSERT_TRUE(worst) << scheme;
    EXPECT_LT(worst->quantization_sqnr_db, worst->format_sqnr_db) << scheme;
  }
  workloads::ModelConfig model = workloads::model_preset("tiny");
  model.quant = workloads::parse_quant("w4a16-g128");
  try {
    testing::run_model(spec_of("a100_sxm.yaml"), model, testing::prefill_request(1, 8),
                       testing::timing_only(arch::DType::Fp16));
    FAIL() << "groups of 128 along a K of 64 were accepted";
  } catch (const workloads::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("K = 64"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

std::string write_config(const std::string& name, const std::string& quantization) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("tessel_quant_" + name);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256,
             "intermediate_size": 512, "num_attention_heads": 4, "num_hidden_layers": 2,
             "vocab_size": 1000, "quantization_config": )"
      << quantization << "}";
  return (dir / "config.json").string();
}

// A checkpoint's quantization_config becomes its recipe: AWQ's zero points and groups, GPTQ's
// symmetric per-channel int8, fp8's fp8 products; a method tessel cannot store only warns.
TEST(Quant, AConfigJsonsQuantizationConfigIsItsRecipe) {
  const workloads::ModelConfig awq = workloads::read_hf_config(
      write_config("awq", R"({"quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": true})"));
  ASSERT_TRUE(awq.quant.weights);
  EXPECT_EQ(awq.quant.weights->format, DType::Int4);
  EXPECT_EQ(awq.quant.weights->group, 64u);
  EXPECT_TRUE(awq.quant.weights->zero_points);
  EXPECT_TRUE(awq.warnings.empty());

  const workloads::ModelConfig gptq = workloads::read_hf_config(
      write_config("gptq", R"({"quant_method": "gptq", "bits": 8, "group_size": -1, "sym": true})"));
  EXPECT_EQ(gptq.quant.weights->format, DType::Int8);
  EXPECT_EQ(gptq.quant.weights->scales, ScaleGranularity::Channel);
  EXPECT_FALSE(gptq.quant.weights->zero_points);

  const workloads::ModelConfig fp8 =
      workloads::read_hf_config(write_config("fp8", R"({"quant_method": "fp8", "activation_scheme": "dynamic"})"));
  EXPECT_EQ(fp8.quant.activations, DType::Fp8);

  const workloads::ModelConfig nf4 = workloads::read_hf_config(
      write_config("bnb", R"({"quant_method": "bitsandbytes", "load_in_4bit": true})"));
  EXPECT_TRUE(nf4.quant.empty());
  ASSERT_EQ(nf4.warnings.size(), 1u);
  EXPECT_NE(nf4.warnings.front().find("bitsandbytes"), std::string::npos) << nf4.warnings.front();

  EXPECT_THROW(workloads::read_hf_config(write_config("bits", R"({"quant_method": "gptq", "bits": 3})")),
               workloads::InputError);

  // A quantized checkpoint runs quantized, and training refuses it.
  const std::string awq32 = write_config("awq32", R"({"quant_method": "awq", "bits": 4, "group_size": 32})");
  const testing::CliResult run =
      testing::run_tessel("run --arch configs/arch/a100_sxm.yaml --model " + awq32 + " --phase decode --kv-len 8");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("quant config.json (awq, int4, groups of 32)"), std::string::npos) << run.output;
  const testing::CliResult train = testing::run_tessel(
      "train --system tests/data/systems/ideal_links_x8.yaml --model " + awq32 + " --global-batch 2 --seq 16 --quiet");
  EXPECT_EQ(train.exit_code, 1) << train.output;
  EXPECT_NE(train.output.find("is quantized"), std::string::npos) << train.output;
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

const workloads::WeightSparsity k2of4{2, 4, 0.5};

Op pruned_linear(uint64_t m, uint64_t n, uint64_t k, const workloads::WeightSparsity& sparsity) {
  Op op = linear(m, n, k);
  op.weight_sparsity = sparsity;
  return op;
}

// 2:4 keeps half the values with a 2-bit index each; a bitmask costs a bit an element.
TEST(Sparsity, PrunedWeightsStoreTheirKeptValuesAndMetadata) {
  EXPECT_EQ(workloads::stored_weight_bytes(4096, 4096, DType::Fp16, std::nullopt, k2of4), 2048u * 2 + 2048 * 2 / 8);
  const workloads::WeightSparsity density30{0, 0, 0.3};
  EXPECT_EQ(workloads::stored_weight_bytes(1000, 1000, DType::Fp16, std::nullopt, density30), 300u * 2 + 125);
  // With int4 values the scales stay whole: a scale and zero point per 128 along K.
  EXPECT_EQ(workloads::stored_weight_bytes(4096ull * 128, 4096, DType::Fp16, kInt4G128, k2of4),
            4096u * 64 / 2 + 128 * 32 * 2 + 128 * 32 / 2 + 4096 * 64 * 2 / 8);
}

// Sparse tensor cores skip the pruned half: never faster than half the dense time, and below
// 2x since their loop sustains less of its rate; their busy cycles at least half the dense ones.
// The other unstructured formats, counted by hand on a 4096 x 1024 fp16 weight (fibers of K = 4096):
// CSR stores a 16-bit index a kept value and a 32-bit offset a channel; run-length a 4-bit count a
// stored value, with explicit zeros for runs of 16 or more (at 10% kept, q^16 = 0.9^16 = 0.185:
// 0.227 of them a kept value). Which is cheapest depends on the density, as Sparseloop shows.
TEST(Sparsity, CsrAndRunLengthCountTheirIndicesOffsetsAndExplicitZeros) {
  const uint64_t k = 4096, n = 1024, elements = k * n;
  const uint64_t kept = static_cast<uint64_t>(std::ceil(elements * 0.1));
  workloads::WeightSparsity csr{0, 0, 0.1, workloads::SparseFormat::Csr};
  EXPECT_EQ(workloads::stored_weight_bytes(elements, k, DType::Fp16, std::nullopt, csr), kept * 2 + kept * 2 + (n + 1) * 4);
  workloads::WeightSparsity rle{0, 0, 0.1, workloads::SparseFormat::RunLength};
  const double q16 = std::pow(0.9, 16);
  const auto values = kept + static_cast<uint64_t>(std::ceil(static_cast<double>(kept) * q16 / (1 - q16)));
  EXPECT_EQ(rle.stored_values(elements), values);
  EXPECT_EQ(workloads::stored_weight_bytes(elements, k, DType::Fp16, std::nullopt, rle), values * 2 + (values * 4 + 7) / 8);
  // At 10% run-length's codes and zeros cost less than a bitmask; at 50% (2 bits of codes an element) more.
  const auto bytes = [&](double density, workloads::SparseFormat format) {
    return workloads::stored_weight_bytes(elements, k, DType::Fp16, std::nullopt,
                                          workloads::WeightSparsity{0, 0, density, format});
  };
  EXPECT_LT(bytes(0.1, workloads::SparseFormat::RunLength), bytes(0.1, workloads::SparseFormat::Bitmask));
  EXPECT_GT(bytes(0.5, workloads::SparseFormat::RunLength), bytes(0.5, workloads::SparseFormat::Bitmask));
  EXPECT_EQ(workloads::parse_quant("sparse-d30-csr").sparsity->format, workloads::SparseFormat::Csr);
  EXPECT_EQ(workloads::parse_quant("sparse-d30-rle").sparsity->format, workloads::SparseFormat::RunLength);
  EXPECT_EQ(workloads::parse_quant("sparse-d30").sparsity->format, workloads::SparseFormat::Bitmask);
  EXPECT_THROW(workloads::parse_quant("sparse-d30-coo"), workloads::InputError);
}

TEST(Sparsity, TwoOfFourNeverBeatsHalfTheDenseTime) {
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Fp16);
  for (const auto& [m, n, k] : {std::tuple{4096, 4096, 4096}, {16384, 3584, 3584}, {64, 3584, 3584}, {1, 8192, 8192}}) {
    const sim::OpResult dense = testing::run_op(a100, linear(m, n, k), settings);
    const sim::OpResult sparse = testing::run_op(a100, pruned_linear(m, n, k, k2of4), settings);
    EXPECT_GE(2 * sparse.cycles, dense.cycles) << m;
    EXPECT_LT(sparse.cycles, dense.cycles) << m;
    EXPECT_GE(2 * sparse.array_busy_cycles, dense.array_busy_cycles) << m;
    EXPECT_EQ(2 * sparse.activity.macs, dense.activity.macs) << m;  // the zeros' MACs are skipped
  }
  // A GPU without sparse tensor cores refuses 2:4 rather than running it dense.
  arch::GpuSpec plain = std::get<arch::GpuSpec>(a100);
  plain.sparse_2_4 = false;
  EXPECT_THROW(mapper::rank_gpu_gemm(plain, {64, 256, 256, DType::Fp16, std::nullopt, k2of4}), std::invalid_argument);
}

// Decoding reads 2:4 weights at 1.125 bytes an fp16 element; unstructured zeros save bytes
// only, the tensor cores multiplying the decompressed dense tile.
TEST(Sparsity, DecodeReadsThePrunedBytesAndUnstructuredZerosComputeDense) {
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Fp16);
  const double weights = 4096.0 * 4096;
  const sim::OpResult sparse = testing::run_op(a100, pruned_linear(1, 4096, 4096, k2of4), settings);
  EXPECT_NEAR(static_cast<double>(sparse.activity.dram_read_bytes), 1.125 * weights, 0.01 * weights);
  const sim::OpResult dense = testing::run_op(a100, linear(4096, 4096, 4096), settings);
  const sim::OpResult unstructured =
      testing::run_op(a100, pruned_linear(4096, 4096, 4096, {0, 0, 0.3}), settings);
  EXPECT_EQ(unstructured.activity.macs, dense.activity.macs);
  EXPECT_GE(unstructured.cycles, dense.cycles * 99 / 100);
  EXPECT_GT(unstructured.activity.vector_alu_ops, 0.0);  // the decompression
}

TEST(Sparsity, PresetsAndFilesSetTheSparsity) {
  EXPECT_TRUE(workloads::parse_quant("sparse-2:4").sparsity->structured());
  EXPECT_DOUBLE_EQ(workloads::parse_quant("w4a16-g128,sparse-d30").sparsity->density, 0.3);
  EXPECT_THROW(workloads::parse_quant("sparse-d0"), workloads::InputError);
  EXPECT_THROW(workloads::parse_quant("sparse-2:4,sparse-d50"), workloads::InputError);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "tessel_sparsity_test";
  std::filesystem::create_directories(dir);
  for (const char* pattern : {"4:2", "99999999999999999999999:4"}) {
    const std::string bad = (dir / "bad.yaml").string();
    std::ofstream(bad) << "name: bad\nsparsity:\n  pattern: \"" << pattern << "\"\n";
    try {
      workloads::parse_quant(bad);
      FAIL() << pattern << " was accepted";
    } catch (const arch::ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find("sparsity.pattern"), std::string::npos) << error.what();
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

// Sparseloop's identities on an array: a skipped zero saves its cycle and its MAC energy, a gated
// one only the energy, and an array that does neither spends both as if dense. A compute-bound
// 2048-cube GEMM with 30% of its weights kept: skipping takes about 30% of the array's cycles (the
// mapper may pick another tile once compute is cheaper: 30-40%, never below 30% of the dense
// mapping's less 5%).
// PEs that take 2:4 natively (array.sparse) stream the kept half of K: the array works as on the
// dense GEMM of half the K, exactly (the same folds, fills and drains), multiplying the kept
// values only, while the whole A still arrives (each PE's multiplexer picks from a group's four);
// the weights arrive compressed with their indices. Never faster than half the dense time.
TEST(Sparsity, PesThatTakeTwoOfFourStreamHalfTheK) {
  arch::SystolicSpec spec = std::get<arch::SystolicSpec>(spec_of("tpu_v4_like.yaml"));
  spec.array.sparse_keep = 2;
  spec.array.sparse_group = 4;
  const sim::RunSettings settings = testing::timing_only(DType::Bf16);
  const uint64_t m = 1024, n = 2048, k = 4096;
  const sim::OpResult sparse = testing::run_op(spec, pruned_linear(m, n, k, {2, 4, 0.5}), settings);
  const sim::OpResult dense = testing::run_op(spec, linear(m, n, k), settings);
  // The same tiles for both: the mapper, seeing A's blocks twice as large, may pick others.
  mapper::MapperOptions options;
  options.dtype = DType::Bf16;
  options.input_bytes = 4;
  sim::RunSettings pinned = settings;
  pinned.pinned = mapper::MappingCache(spec).map({"half", m, n, k / 2}, options).mapping;
  EXPECT_EQ(testing::run_op(spec, pruned_linear(m, n, k, {2, 4, 0.5}), pinned).array_busy_cycles,
            testing::run_op(spec, linear(m, n, k / 2), pinned).array_busy_cycles);
  const sim::OpResult half = testing::run_op(spec, linear(m, n, k / 2), settings);
  EXPECT_EQ(sparse.activity.macs, m * n * k / 2);
  EXPECT_GE(2 * sparse.array_busy_cycles, dense.array_busy_cycles);
  EXPECT_LT(sparse.cycles, dense.cycles);
  // DRAM: A whole (m·k in bf16) and B's kept values with a 2-bit index each, all read at least once.
  const double compulsory = 2.0 * m * k + (2.0 + 0.25) * k / 2 * n;
  EXPECT_GE(static_cast<double>(sparse.activity.dram_read_bytes), compulsory);
  EXPECT_GT(sparse.activity.dram_read_bytes, half.activity.dram_read_bytes);
  // Another pattern than the PEs' runs as the array's weight_zeros says: the zeros multiplied.
  const sim::OpResult other = testing::run_op(spec, pruned_linear(m, n, k, {1, 4, 0.25}), settings);
  EXPECT_EQ(other.activity.macs, m * n * k);
}

TEST(Sparsity, ASkippedZeroSavesItsCycleAGatedOneOnlyEnergy) {
  arch::SystolicSpec spec = std::get<arch::SystolicSpec>(spec_of("tpu_v4_like.yaml"));
  const sim::RunSettings settings = testing::timing_only(DType::Bf16);
  const workloads::WeightSparsity density30{0, 0, 0.3};
  const auto run = [&](arch::ZeroHandling zeros, bool pruned) {
    spec.array.weight_zeros = zeros;
    return testing::run_op(spec, pruned ? pruned_linear(2048, 2048, 2048, density30) : linear(2048, 2048, 2048),
                           settings);
  };
  const sim::OpResult dense = run(arch::ZeroHandling::None, false);
  const sim::OpResult none = run(arch::ZeroHandling::None, true);
  const sim::OpResult gate = run(arch::ZeroHandling::Gate, true);
  const sim::OpResult skip = run(arch::ZeroHandling::Skip, true);
  EXPECT_EQ(none.activity.macs, dense.activity.macs);
  EXPECT_DOUBLE_EQ(none.energy.mac_pj, dense.energy.mac_pj);
  EXPECT_EQ(gate.array_busy_cycles, none.array_busy_cycles);
  EXPECT_NEAR(gate.energy.mac_pj, 0.3 * none.energy.mac_pj, 1e-6 * none.energy.mac_pj);  // each tile's MACs rounded
  const double busy = static_cast<double>(none.array_busy_cycles);
  EXPECT_GE(static_cast<double>(skip.array_busy_cycles), 0.3 * 0.95 * busy);
  EXPECT_LE(static_cast<double>(skip.array_busy_cycles), 0.4 * busy);
  EXPECT_NEAR(skip.energy.mac_pj, gate.energy.mac_pj, 1e-6 * gate.energy.mac_pj);
  EXPECT_LT(skip.cycles, gate.cycles);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

// A result is reused only for an op stored the same way: a sweep over --quant (one device, one
// cache of op costs) must not hand a quantized op the dense one's cost.
TEST(Quant, OpsStoredDifferentlyAreNotReusedForEachOther) {
  const Op dense = linear(1, 4096, 4096);
  const Op packed = linear(1, 4096, 4096, kInt4G128);
  Op pruned = dense;
  pruned.weight_sparsity = workloads::WeightSparsity{2, 4, 0.5};
  Op cache("attn.attention", OpKind::KvCacheRead, workloads::KvCacheShape{1, 64, 8, 128});
  Op int8_cache = cache;
  int8_cache.kv_storage = StoredFormat{DType::Int8, ScaleGranularity::Tensor, 0, false};
  EXPECT_NE(sim::op_identity(dense), sim::op_identity(packed));
  EXPECT_NE(sim::op_identity(dense), sim::op_identity(pruned));
  EXPECT_NE(sim::op_identity(cache), sim::op_identity(int8_cache));
  const testing::TempFile spec("quant_axis_sweep.yaml",
                               "arch: " + std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml\n"
                               "vary:\n  run.quant: [w4a16-g32, w8a16]\nrun:\n  model: tiny\n  phase: decode\n"
                               "  kv-len: 16\n  no-check: true\n");
  const testing::CliResult sweep = testing::run_tessel(
      "sweep --quiet --spec " + spec.path + " --out " +
      (std::filesystem::temp_directory_path() / "tessel_quant_sweep").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const std::string table = testing::read_text(std::filesystem::temp_directory_path() / "tessel_quant_sweep" / "sweep.csv");
  std::istringstream rows(table);
  std::string header, first, second;
  std::getline(rows, header);
  std::getline(rows, first);
  std::getline(rows, second);
  const auto seconds = [](const std::string& row) { return row.substr(row.find(',', row.find(',') + 1)); };
  EXPECT_NE(seconds(first), seconds(second)) << table;
  std::filesystem::remove_all(std::filesystem::temp_directory_path() / "tessel_quant_sweep");
}

}  // namespace
}  // namespace tessel
