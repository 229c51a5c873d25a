// int4 as a format the linears multiply in (W4A4): packed bytes, the A100's int4 tensor cores,
// an FPGA's DSPs packing four int4 MACs, refusals where the hardware has no int4 rate, and the
// integer datapath's numerics.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "run_helpers.h"
#include "test_files.h"
#include "sim/numerics/quant_gemm_check.h"
#include "workloads/quant_recipe.h"

namespace tessel {
namespace {

using arch::DType;
using workloads::Op;
using workloads::OpKind;
using workloads::ScaleGranularity;
using workloads::StoredFormat;

const StoredFormat kInt4Channel{DType::Int4, ScaleGranularity::Channel, 0, false};
const StoredFormat kInt8Channel{DType::Int8, ScaleGranularity::Channel, 0, false};

arch::ArchSpec spec_of(const std::string& file) {
  return arch::load_arch(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/" + file);
}

// A linear as a recipe leaves it: weights stored in `weights`, multiplied in `format`.
Op quantized_linear(uint64_t m, uint64_t n, uint64_t k, DType format, const StoredFormat& weights) {
  Op op("proj", OpKind::Linear, workloads::LinearShape{m, n, k}, format);
  op.weight_storage = weights;
  return op;
}

TEST(Int4Compute, ElementsPackTwoToAByte) {
  EXPECT_DOUBLE_EQ(arch::element_bytes(DType::Int4), 0.5);
  EXPECT_EQ(arch::bytes_for(3, DType::Int4), 2u);  // rounded up to a byte
  EXPECT_EQ(arch::bytes_for(3, DType::Bf16), 6u);
  EXPECT_THROW(arch::bytes_of(DType::Int4), std::logic_error);
  // An int4 linear's activations are half an int8 one's bytes.
  const Op int4 = quantized_linear(64, 256, 512, DType::Int4, kInt4Channel);
  const Op int8 = quantized_linear(64, 256, 512, DType::Int8, kInt8Channel);
  const uint64_t int4_inputs = int4.bytes(DType::Bf16).read - workloads::stored_weight_bytes(
                                                                   256 * 512, 512, DType::Int4, kInt4Channel, std::nullopt);
  const uint64_t int8_inputs = int8.bytes(DType::Bf16).read - workloads::stored_weight_bytes(
                                                                   256 * 512, 512, DType::Int8, kInt8Channel, std::nullopt);
  EXPECT_EQ(2 * int4_inputs, int8_inputs);
}

TEST(Int4Compute, W4A4PresetMultipliesTheLinearsInInt4) {
  const workloads::QuantRecipe recipe = workloads::parse_quant("w4a4");
  ASSERT_TRUE(recipe.weights.has_value());
  EXPECT_EQ(recipe.weights->format, DType::Int4);
  EXPECT_EQ(recipe.weights->scales, ScaleGranularity::Channel);
  EXPECT_EQ(recipe.activations, DType::Int4);
  EXPECT_NO_THROW(workloads::check_quant(recipe, DType::Bf16));
  // int8 weights cannot feed int4 multipliers.
  workloads::QuantRecipe wider = recipe;
  wider.weights = kInt8Channel;
  EXPECT_THROW(workloads::check_quant(wider, DType::Bf16), std::exception);
}

// The A100's int4 tensor cores run twice int8's MACs a cycle (1,248 against 624 TOPS): a
// compute-bound GEMM takes half the int8 time, within 10% for the launch, the pipeline's fill
// and the epilogue, which do not halve; never below its MACs at the int4 peak.
TEST(Int4Compute, A100Int4TensorCoresHalveAComputeBoundGemm) {
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Bf16);
  const sim::OpResult int4 = testing::run_op(a100, quantized_linear(8192, 8192, 8192, DType::Int4, kInt4Channel), settings);
  const sim::OpResult int8 = testing::run_op(a100, quantized_linear(8192, 8192, 8192, DType::Int8, kInt8Channel), settings);
  const double ratio = static_cast<double>(int4.cycles) / static_cast<double>(int8.cycles);
  EXPECT_GE(ratio, 0.5);
  EXPECT_LE(ratio, 0.55);
  const double floor = 8192.0 * 8192 * 8192 / std::get<arch::GpuSpec>(a100).peak_macs_per_cycle(DType::Int4);
  EXPECT_GE(static_cast<double>(int4.cycles), floor);
}

// Decoding reads the weights: a W4A4 GEMV moves half the W8A8 one's bytes (a scale per channel
// each), within 1% for the activations and the output.
TEST(Int4Compute, W4A4DecodeReadsHalfTheInt8WeightBytes) {
  const arch::ArchSpec a100 = spec_of("a100_sxm.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Bf16);
  const sim::OpResult int4 = testing::run_op(a100, quantized_linear(1, 8192, 8192, DType::Int4, kInt4Channel), settings);
  const double expected = 8192.0 * 8192 * 0.5 + 8192.0 * 2;
  EXPECT_NEAR(static_cast<double>(int4.activity.dram_read_bytes), expected, 0.01 * expected);
  EXPECT_EQ(int4.activity.vector_alu_ops, 0.0);  // stored as it multiplies: nothing to unpack
}

// WP521: a DSP48E2 computes four int4 products where WP486 packs two int8 ones. On the U280
// design a compute-bound GEMM takes half the array cycles, and the array reads half the bytes
// of inputs and weights from its buffers.
TEST(Int4Compute, AnFpgaPackingFourInt4MacsADspHalvesTheArrayTime) {
  const arch::ArchSpec u280 = spec_of("u280_int8.yaml");
  const sim::RunSettings settings = testing::timing_only(DType::Int8);
  const sim::OpResult int4 = testing::run_op(u280, quantized_linear(512, 4096, 4096, DType::Int4, kInt4Channel), settings);
  const sim::OpResult int8 = testing::run_op(u280, quantized_linear(512, 4096, 4096, DType::Int8, kInt8Channel), settings);
  EXPECT_NEAR(static_cast<double>(int4.array_busy_cycles) / static_cast<double>(int8.array_busy_cycles), 0.5, 0.02);
  const auto reads = [](const sim::OpResult& r, arch::Operand operand) {
    return static_cast<double>(r.activity.buffer_read_bytes[static_cast<size_t>(operand)]);
  };
  for (arch::Operand operand : {arch::Operand::Input, arch::Operand::Weight}) {
    EXPECT_NEAR(reads(int4, operand) / reads(int8, operand), 0.5, 0.02) << arch::to_string(operand);
  }
}

// int4 is never a file's first format, which a run takes by default: the GPU file that lists it
// first is refused at its line and key.
TEST(Int4Compute, AGpuFileListingInt4FirstIsRefused) {
  const std::string a100 = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml";
  std::string text = testing::read_text(a100);
  const size_t int4 = text.find("    int4: 4096");
  ASSERT_NE(int4, std::string::npos);
  const std::string line = text.substr(int4, text.find('\n', int4) + 1 - int4);
  text.erase(int4, line.size());
  text.insert(text.find("    bf16: 1024"), line);
  const testing::TempFile file("int4_first.yaml", text);
  const std::string message =
      testing::error_message<arch::ConfigError>([&] { arch::load_gpu_spec(file.path); }, "int4 first");
  EXPECT_NE(message.find(file.path + ":16: key 'tensor_cores.macs_per_cycle_per_sm.int4': comes first"),
            std::string::npos)
      << message;
}

// Hardware without int4 MACs refuses the recipe's linears, naming its file.
TEST(Int4Compute, HardwareWithoutInt4RefusesNamingItsFile) {
  for (const char* file : {"h100_sxm.yaml", "tpu_v4_like.yaml"}) {
    const arch::ArchSpec spec = spec_of(file);
    try {
      testing::run_op(spec, quantized_linear(16, 256, 256, DType::Int4, kInt4Channel),
                      testing::timing_only(DType::Bf16));
      ADD_FAILURE() << file << " ran an int4 linear";
    } catch (const std::exception& error) {
      EXPECT_NE(std::string(error.what()).find(file), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("int4"), std::string::npos) << error.what();
    }
  }
}

// The W4A4 datapath multiplies int4 codes (-7 to 7) into int32 sums, bit-identical to Eigen's
// integer product. Against the fp64 product it loses what four fewer bits cost: each grid step
// is 127/7 times int8's, at most 20 log10(127/7) = 25.2 dB more noise when the rounding error is
// uniform over a step, less where the coarse grid rounds small values to zero (their error is
// the value, below a step): more than two bits' 12 dB all the same. The outlier channels that
// set each token's scale cost it too: W4A4 loses over 6 dB against int4 weights beside 16-bit
// activations.
TEST(Int4Compute, W4A4IsBitExactAndLosesWhatItsGridsCost) {
  const auto check = [](DType compute, const StoredFormat& weights) {
    return sim::check_quantized_gemm({{16, 64, 1024}, compute, DType::Bf16, weights, std::nullopt, 64, 7});
  };
  const sim::NumericsReport w4a4 = check(DType::Int4, kInt4Channel);
  const sim::NumericsReport w8a8 = check(DType::Int8, kInt8Channel);
  const sim::NumericsReport w4a16 = check(DType::Bf16, kInt4Channel);
  EXPECT_TRUE(w4a4.passed) << w4a4.reference;
  EXPECT_NE(w4a4.reference.find("bit-identical"), std::string::npos) << w4a4.reference;
  const double lost = w8a8.quantization_sqnr_db - w4a4.quantization_sqnr_db;
  EXPECT_GT(lost, 12.0);
  EXPECT_LT(lost, 25.2 + 0.5);  // 0.5 dB: the draw's spread about the uniform-noise figure
  EXPECT_GT(w4a16.quantization_sqnr_db, w4a4.quantization_sqnr_db + 6);
}

}  // namespace
}  // namespace tessel
