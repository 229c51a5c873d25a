// The `kind: cpu` reader: the shipped Xeon and EPYC files give their specifications' peaks,
// and a mistake names file, line and key.
#include <gtest/gtest.h>

#include <string>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

const std::string kXeon = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/xeon_8480.yaml";
const std::string kEpyc = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/epyc_9654.yaml";

double tflops(const arch::CpuSpec& spec, arch::DType dtype) {
  return 2 * spec.peak_macs_per_cycle(dtype) * spec.clock_hz / 1e12;
}

// Intel: AMX does 1024 bf16 and 2048 int8 operations a cycle a core; 56 cores at 2.0 GHz.
TEST(CpuConfig, XeonMatchesItsSpecification) {
  const arch::CpuSpec spec = arch::load_cpu_spec(kXeon);
  EXPECT_EQ(spec.cores(), 56u);
  EXPECT_NEAR(tflops(spec, arch::DType::Bf16), 56 * 1024 * 2.0e9 / 1e12, 0.01);
  EXPECT_NEAR(tflops(spec, arch::DType::Int8), 56 * 2048 * 2.0e9 / 1e12, 0.01);
  // fp32 has no AMX rate: the AVX-512 FMA ports' 2 x 16 lanes.
  EXPECT_NEAR(tflops(spec, arch::DType::Fp32), 56 * 64 * 2.0e9 / 1e12, 0.01);
  EXPECT_EQ(spec.fastest_engine(arch::DType::Bf16)->name, "amx");
  EXPECT_EQ(spec.fastest_engine(arch::DType::Fp16)->name, "avx512");
  EXPECT_EQ(spec.fastest_engine(arch::DType::Fp8), nullptr);
  EXPECT_EQ(spec.formats().front(), arch::DType::Bf16);
  EXPECT_DOUBLE_EQ(spec.ddr_bytes_per_second(), 307.2e9);  // 8 channels of DDR5-4800
  EXPECT_EQ(spec.l2_bytes_per_core, 2048u * 1024);
  EXPECT_EQ(spec.engines.front().tile_k(arch::DType::Bf16), 32u);  // a 64-byte tile row of bf16
  EXPECT_EQ(spec.engines.front().tile_k(arch::DType::Int8), 64u);
}

// Zen 4 runs AVX-512 on 256-bit datapaths: half the Xeon's lanes a core, 12 DDR5 channels.
TEST(CpuConfig, EpycMatchesItsSpecification) {
  const arch::CpuSpec spec = arch::load_cpu_spec(kEpyc);
  EXPECT_EQ(spec.cores(), 96u);
  EXPECT_EQ(spec.engines.size(), 1u);
  EXPECT_NEAR(tflops(spec, arch::DType::Fp32), 96 * 32 * 2.4e9 / 1e12, 0.01);
  EXPECT_DOUBLE_EQ(spec.ddr_bytes_per_second(), 460.8e9);
  EXPECT_FALSE(spec.fastest_engine(arch::DType::Fp16));
}

// Sockets multiply what each has: cores, L3, DDR bandwidth and capacity.
TEST(CpuConfig, SocketsMultiplyCoresCachesAndMemory) {
  std::string text = testing::read_text(kXeon);
  text.replace(text.find("sockets: 1"), 10, "sockets: 2");
  const testing::TempFile file("two_sockets.yaml", text);
  const arch::CpuSpec two = arch::load_cpu_spec(file.path);
  const arch::CpuSpec one = arch::load_cpu_spec(kXeon);
  EXPECT_EQ(two.cores(), 2 * one.cores());
  EXPECT_EQ(two.l3_bytes(), 2 * one.l3_bytes());
  EXPECT_DOUBLE_EQ(two.ddr_bytes_per_second(), 2 * one.ddr_bytes_per_second());
  EXPECT_EQ(two.ddr_capacity_bytes(), 2 * one.ddr_capacity_bytes());
}

struct BadCpuCase {
  std::string name;
  std::string from;
  std::string to;
  std::string expected;  // file:line: key '...': problem, without the file
};

class BadCpuConfig : public ::testing::TestWithParam<BadCpuCase> {};

TEST_P(BadCpuConfig, NamesLineAndKey) {
  const BadCpuCase& c = GetParam();
  std::string text = testing::read_text(kXeon);
  const size_t at = text.find(c.from);
  ASSERT_NE(at, std::string::npos) << c.from;
  text.replace(at, c.from.size(), c.to);
  const testing::TempFile file(c.name + ".yaml", text);
  const std::string message =
      testing::error_message<arch::ConfigError>([&] { arch::load_cpu_spec(file.path); }, c.name);
  EXPECT_EQ(message, file.path + c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, BadCpuConfig,
    ::testing::Values(
        BadCpuCase{"zero_cores", "cores_per_socket: 56", "cores_per_socket: 0",
                   ":15: key 'cores_per_socket': must be a positive integer, got 0"},
        BadCpuCase{"efficiency_over_one", "efficiency: 0.20", "efficiency: 2",
                   ":22: key 'engines[0].efficiency': must be at most 1, got 2"},
        BadCpuCase{"the_same_engine_twice", "  - name: avx512", "  - name: amx",
                   ":24: key 'engines[1].name': names an engine listed before: 'amx'"},
        BadCpuCase{"mac_energy_of_a_format_without_a_rate", "mac_pj: {bf16: 0.5, int8: 0.35}",
                   "mac_pj: {bf16: 0.5, fp8: 0.35}",
                   ":23: key 'engines[0].mac_pj.fp8': is a format macs_per_cycle_per_core gives this engine no rate "
                   "for"},
        BadCpuCase{"unknown_cache_key", "  l2_kib: 2048", "  l2_kb: 2048",
                   ":38: key 'caches.l2_kb': unknown key (allowed here: l1d_kib, l2_kib, l2_bytes_per_cycle, "
                   "l3_kib_per_socket, l3_bytes_per_cycle_per_core)"},
        BadCpuCase{"ddr_fraction_over_one", "achievable_fraction: 0.82", "achievable_fraction: 1.1",
                   ":45: key 'ddr.achievable_fraction': must be at most 1, got 1.1"}),
    [](const ::testing::TestParamInfo<BadCpuCase>& param) { return param.param.name; });

TEST(CpuConfig, AFileWithoutEnginesIsRefused) {
  std::string text = testing::read_text(kXeon);
  const size_t from = text.find("engines:");
  text.replace(from, text.find("vector:") - from, "engines: []\n");
  const testing::TempFile file("no_engines.yaml", text);
  const std::string message =
      testing::error_message<arch::ConfigError>([&] { arch::load_cpu_spec(file.path); }, "no engines");
  EXPECT_EQ(message, file.path + ":16: key 'engines': must list at least one engine");
}

TEST(CpuConfig, TheKindPicksTheSpec) {
  EXPECT_TRUE(std::holds_alternative<arch::CpuSpec>(arch::load_arch(kXeon)));
  const std::string message =
      testing::error_message<arch::ConfigError>([] { arch::load_gpu_spec(kXeon); }, "load_gpu_spec of a CPU file");
  EXPECT_EQ(message, kXeon + ": describes another kind of hardware: expected a GPU (kind: gpu)");
}

// 8 channels x 4800 MT/s x 8 bytes = 307.2 GB/s, 82% achievable = 251.9 GB/s.
TEST(CpuConfig, DescribePrintsTheCpusFigures) {
  const testing::CliResult result = testing::run_tessel("describe --arch configs/arch/xeon_8480.yaml");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("1 socket(s) of 56 cores"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("engine amx"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("bf16 114.7 TFLOP/s"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("307.2 GB/s peak, 251.9 GB/s achievable"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tessel
