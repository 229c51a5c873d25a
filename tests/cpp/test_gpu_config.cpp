// The `kind: gpu` reader: the shipped A100 and H100 files give their specifications' peaks,
// and a mistake names file, line and key.
#include <gtest/gtest.h>

#include <string>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "arch/load_arch.h"
#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

const std::string kA100 = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml";
const std::string kH100 = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/h100_sxm.yaml";

double dense_tflops(const arch::GpuSpec& spec, arch::DType dtype) {
  return 2 * *spec.tensor_macs_per_cycle_per_sm(dtype) * spec.sms * spec.clock_hz / 1e12;
}

TEST(GpuConfig, A100MatchesItsSpecification) {
  const arch::GpuSpec spec = arch::load_gpu_spec(kA100);
  EXPECT_EQ(spec.sms, 108u);
  EXPECT_NEAR(dense_tflops(spec, arch::DType::Bf16), 312.0, 0.5);  // whitepaper: 312 TFLOP/s
  EXPECT_NEAR(dense_tflops(spec, arch::DType::Int8), 624.0, 1.0);
  EXPECT_DOUBLE_EQ(spec.hbm_bytes_per_second, 2039e9);
  EXPECT_EQ(spec.l2_bytes, 40960u * 1024);
  EXPECT_EQ(spec.shared_memory_bytes_per_sm, 164u * 1024);
  EXPECT_EQ(spec.default_dtype(), arch::DType::Bf16);
  EXPECT_EQ(spec.hbm_capacity_bytes, 80ull << 30);
  ASSERT_TRUE(spec.nvlink.has_value());
  EXPECT_DOUBLE_EQ(spec.nvlink->bytes_per_second, 300e9);  // 12 NVLink3 links x 25 GB/s a direction
}

TEST(GpuConfig, H100MatchesItsSpecificationAndTheA100Constants) {
  const arch::GpuSpec h100 = arch::load_gpu_spec(kH100);
  const arch::GpuSpec a100 = arch::load_gpu_spec(kA100);
  EXPECT_EQ(h100.sms, 132u);
  EXPECT_NEAR(dense_tflops(h100, arch::DType::Bf16), 989.4, 1.0);
  EXPECT_NEAR(dense_tflops(h100, arch::DType::Fp8), 1979.0, 2.0);
  EXPECT_DOUBLE_EQ(h100.hbm_bytes_per_second, 3350e9);
  // Calibrated on A100 data only and carried over unchanged, but for HBM.
  EXPECT_EQ(h100.tensor_efficiency, a100.tensor_efficiency);
  EXPECT_EQ(h100.attention_efficiency, a100.attention_efficiency);
  // HBM3 streams a larger share of its peak: the A100's calibrated fraction x 0.887 / 0.834 (the
  // BabelStream Triad fractions of the two in one harness), to two places.
  EXPECT_NEAR(h100.hbm_achievable_fraction, a100.hbm_achievable_fraction * 0.887 / 0.834, 0.005);
  EXPECT_EQ(h100.launch_overhead_s, a100.launch_overhead_s);
  ASSERT_TRUE(h100.nvlink.has_value());
  EXPECT_DOUBLE_EQ(h100.nvlink->bytes_per_second, 450e9);  // 18 NVLink4 links x 25 GB/s a direction
  EXPECT_EQ(h100.nvlink->achievable_fraction, a100.nvlink->achievable_fraction);
  EXPECT_EQ(h100.nvlink->collective_latency_s, a100.nvlink->collective_latency_s);
  EXPECT_EQ(h100.nvlink->step_latency_s, a100.nvlink->step_latency_s);
}

// A GPU without an nvlink section is a single GPU: it loads, and runs no collectives.
TEST(GpuConfig, NvlinkIsOptional) {
  std::string text = testing::read_text(kA100);
  const size_t from = text.find("nvlink:");
  text.erase(from, text.find("energy:") - from);
  const testing::TempFile file("no_nvlink.yaml", text);
  EXPECT_FALSE(arch::load_gpu_spec(file.path).nvlink.has_value());
}

struct BadGpuCase {
  std::string name;
  std::string from;
  std::string to;
  std::string expected;  // file:line: key '...': problem, without the file
};

class BadGpuConfig : public ::testing::TestWithParam<BadGpuCase> {};

TEST_P(BadGpuConfig, NamesLineAndKey) {
  const BadGpuCase& c = GetParam();
  std::string text = testing::read_text(kA100);
  const size_t at = text.find(c.from);
  ASSERT_NE(at, std::string::npos) << c.from;
  text.replace(at, c.from.size(), c.to);
  const testing::TempFile file(c.name + ".yaml", text);
  const std::string message =
      testing::error_message<arch::ConfigError>([&] { arch::load_gpu_spec(file.path); }, c.name);
  EXPECT_EQ(message, file.path + c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, BadGpuConfig,
    ::testing::Values(
        BadGpuCase{"fraction_over_one", "achievable_fraction: 0.78", "achievable_fraction: 1.5",
                   ":38: key 'hbm.achievable_fraction': must be at most 1, got 1.5"},
        BadGpuCase{"unknown_key", "  latency_ns: 500", "  latency_nz: 500",
                   ":36: key 'hbm.latency_nz': unknown key (allowed here: bandwidth_gb_s, latency_ns, "
                   "achievable_fraction, capacity_gib)"},
        BadGpuCase{"zero_sms", "sms: 108", "sms: 0", ":13: key 'sms': must be a positive integer, got 0"},
        BadGpuCase{"missing_l2_bandwidth", "  bytes_per_cycle: 5120", "",
                   ":31: key 'l2.bytes_per_cycle': missing (required)"},
        BadGpuCase{"nvlink_fraction_over_one", "achievable_fraction: 0.68", "achievable_fraction: 1.2",
                   ":43: key 'nvlink.achievable_fraction': must be at most 1, got 1.2"},
        BadGpuCase{"mac_energy_of_a_format_without_a_rate", "    int8: 1.28", "    fp8: 1.28",
                   ":51: key 'energy.tensor_mac_pj.fp8': is a format tensor_cores.macs_per_cycle_per_sm gives no "
                   "rate for"},
        BadGpuCase{"static_below_idle", "static_w: 85", "static_w: 40",
                   ":59: key 'power.static_w': must be at least idle_w (a running board draws more)"},
        BadGpuCase{"sparse_pattern_the_tensor_cores_lack", "sparse: \"2:4\"", "sparse: \"1:4\"",
                   ":21: key 'tensor_cores.sparse': must be \"2:4\", the pattern sparse tensor cores take"},
        BadGpuCase{"limit_below_static", "limit_w: 400", "limit_w: 80",
                   ":60: key 'power.limit_w': must be above static_w, or nothing could run"}),
    [](const ::testing::TestParamInfo<BadGpuCase>& param) { return param.param.name; });

// One reader for every kind: the file's `kind` picks the spec; a caller that needs one kind
// is told the file describes another.
TEST(GpuConfig, TheKindPicksTheSpec) {
  EXPECT_TRUE(std::holds_alternative<arch::GpuSpec>(arch::load_arch(kA100)));
  EXPECT_TRUE(std::holds_alternative<arch::SystolicSpec>(
      arch::load_arch(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/tpu_v1.yaml")));
  const std::string message = testing::error_message<arch::ConfigError>([] { arch::load_systolic_spec(kA100); },
                                                                         "load_systolic_spec of a GPU file");
  EXPECT_EQ(message, kA100 + ": describes another kind of hardware: expected a systolic array or an FPGA design");
}

// The published peaks, from the file's SMs, rates and clock: A100 108 SMs x 1024 fp16 MACs a
// cycle x 2 x 1.41 GHz = 311.9 TFLOP/s; 2,039 GB/s HBM, 78% of it achievable = 1,590 GB/s.
TEST(GpuConfig, DescribePrintsTheGpusFigures) {
  const testing::CliResult result = testing::run_tessel("describe --arch configs/arch/a100_sxm.yaml");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("108 SMs"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("tensor-core peak 311.9 TFLOP/s"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("2039 GB/s peak, 1590 GB/s achievable"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("NVLink: 8 GPUs a node, 300 GB/s each way, 204 GB/s achievable"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("power: idle 62 W, static 85 W, limit 400 W"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tessel
