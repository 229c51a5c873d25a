// The YAML architecture loader: the shipped configs load with the right derived numbers, and
// each class of mistake names the file, the 1-based line and the full dotted key.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "arch/load_arch.h"
#include "arch/config_yaml.h"
#include "test_files.h"

namespace tessel::arch {
namespace {

namespace fs = std::filesystem;
using tessel::testing::edit_lines;
using tessel::testing::error_message;
using tessel::testing::LineEdit;
using tessel::testing::read_lines;
using tessel::testing::TempFile;

const std::string kSourceDir = TESSEL_SOURCE_DIR;
const std::string kMinimal = kSourceDir + "/tests/data/configs/minimal.yaml";

std::string shipped(const std::string& name) { return kSourceDir + "/configs/arch/" + name; }

double peak_ops_per_second(const SystolicSpec& spec, DType dtype) {
  return 2.0 * spec.array_count() * spec.array.rows * spec.array.cols *
         spec.find_dtype(dtype)->macs_per_pe_per_cycle * spec.clock_hz;
}

// minimal.yaml with `edits` applied.
std::string edited_minimal(const std::vector<LineEdit>& edits) {
  return edit_lines(read_lines(kMinimal), edits);
}

std::string load_error(const std::string& path) {
  return error_message<ConfigError>([&] { load_systolic_spec(path); },
                                    path + " loaded without a ConfigError");
}

TEST(ConfigYaml, MinimalConfigTranslatesAtTheEdge) {
  const SystolicSpec spec = load_systolic_spec(kMinimal);
  EXPECT_EQ(spec.name, "minimal");
  EXPECT_EQ(spec.source_file, kMinimal);
  EXPECT_DOUBLE_EQ(spec.clock_hz, 500e6);
  EXPECT_EQ(spec.array_count(), 2u);
  EXPECT_EQ(spec.array.rows, 4u);
  EXPECT_EQ(spec.array.cols, 8u);
  EXPECT_EQ(spec.array.dataflow, Dataflow::OutputStationary);
  EXPECT_FALSE(spec.array.weights_double_buffered);
  // The file's order: fp16 first, so fp16 is the default format.
  ASSERT_EQ(spec.dtypes.size(), 2u);
  EXPECT_EQ(spec.dtypes[0].dtype, DType::Fp16);
  EXPECT_EQ(spec.dtypes[1].dtype, DType::Int8);
  EXPECT_DOUBLE_EQ(spec.dtypes[1].macs_per_pe_per_cycle, 2.0);
  EXPECT_DOUBLE_EQ(spec.dtypes[1].mac_energy_pj, 0.3);

  ASSERT_EQ(spec.buffers.size(), 2u);
  const BufferSpec& unified = spec.buffers[0];
  EXPECT_EQ(unified.name, "unified");
  EXPECT_EQ(unified.capacity_bytes, 1536u);  // 1.5 KiB
  EXPECT_TRUE(unified.holds_operand(Operand::Input));
  EXPECT_TRUE(unified.holds_operand(Operand::Output));
  EXPECT_FALSE(unified.holds_operand(Operand::Weight));
  EXPECT_DOUBLE_EQ(unified.read_bytes_per_cycle, 32.0);
  EXPECT_DOUBLE_EQ(unified.write_bytes_per_cycle, 16.0);
  EXPECT_EQ(unified.banks, 2u);
  EXPECT_DOUBLE_EQ(unified.write_energy_pj_per_byte, 1.5);
  EXPECT_EQ(spec.buffer_for(Operand::Weight).name, "weights");

  EXPECT_FALSE(spec.dram.unlimited);
  EXPECT_DOUBLE_EQ(spec.dram.bytes_per_cycle, 32.0);  // 16 GB/s at 500 MHz
  EXPECT_EQ(spec.dram.latency_cycles, 23u);           // 45 ns x 500 MHz = 22.5, rounded up
  EXPECT_DOUBLE_EQ(spec.dram.energy_pj_per_byte, 100.0);

  const VectorUnitSpec& unit = spec.vector_unit;
  EXPECT_EQ(unit.lanes, 8u);
  EXPECT_DOUBLE_EQ(unit.ops_per_lane_per_cycle, 2.0);
  EXPECT_DOUBLE_EQ(unit.special_ops_per_cycle, 4.0);
  EXPECT_DOUBLE_EQ(unit.buffer_bytes_per_cycle, 64.0);
  EXPECT_DOUBLE_EQ(unit.op_energy_pj, 0.5);
  EXPECT_DOUBLE_EQ(unit.special_op_energy_pj, 2.5);
  EXPECT_DOUBLE_EQ(unit.area_mm2, 0.125);
  // 64 PEs x 100 um2 + one core's buffers (0.5 + 0.25) and vector unit (0.125) + 3 other.
  EXPECT_NEAR(spec.area_mm2(), 0.0064 + 0.75 + 0.125 + 3.0, 1e-12);
}

// A systolic array's board power: idle and static, and no limit, since its clock never drops.
TEST(ConfigYaml, PowerHasNoLimitForAFixedClock) {
  EXPECT_FALSE(load_systolic_spec(kMinimal).power.has_value());
  const TempFile powered("powered.yaml", edited_minimal({{1, "power: {idle_w: 20, static_w: 25}"}}));
  const SystolicSpec spec = load_systolic_spec(powered.path);
  ASSERT_TRUE(spec.power.has_value());
  EXPECT_DOUBLE_EQ(spec.power->idle_w, 20.0);
  EXPECT_DOUBLE_EQ(spec.power->static_w, 25.0);
  EXPECT_FALSE(spec.power->limit_w.has_value());
  const TempFile limited("limited.yaml", edited_minimal({{1, "power:"},
                                                         {2, "  idle_w: 20"},
                                                         {3, "  static_w: 25"},
                                                         {4, "  limit_w: 75\nname: minimal\nkind: systolic\nclock_mhz: 500"}}));
  const std::string message = load_error(limited.path);
  EXPECT_EQ(message.rfind(limited.path + ":4: key 'power.limit_w': this kind's clock stays at clock_mhz", 0), 0u)
      << message;
}

TEST(ConfigYaml, EveryCoreCountsItsVectorUnitArea) {
  const TempFile file("two_cores.yaml", edited_minimal({{5, "cores: 2"}}));
  // 128 PEs x 100 um2 + two cores' buffers (0.75) and vector units (0.125) + 3 other.
  EXPECT_NEAR(load_systolic_spec(file.path).area_mm2(), 0.0128 + 2 * (0.75 + 0.125) + 3.0, 1e-12);
}

TEST(ConfigYaml, UnlimitedDramWithZeroLatencyLoads) {
  const TempFile file("unlimited.yaml", edited_minimal({{36, "  bandwidth_gb_s: unlimited"},
                                                        {37, "  latency_ns: 0"}}));
  const SystolicSpec spec = load_systolic_spec(file.path);
  EXPECT_TRUE(spec.dram.unlimited);
  EXPECT_EQ(spec.dram.latency_cycles, 0u);
}

TEST(ConfigYaml, WholeLatencyIsNotRoundedUpByFloatingNoise) {
  // 2.24 ns x 3125 MHz is 7 cycles; in doubles the product is 7.000000000000001.
  const TempFile file("latency.yaml",
                      edited_minimal({{4, "clock_mhz: 3125"}, {37, "  latency_ns: 2.24"}}));
  EXPECT_EQ(load_systolic_spec(file.path).dram.latency_cycles, 7u);
}

TEST(ConfigYaml, EveryShippedConfigLoads) {
  int loaded = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(kSourceDir + "/configs/arch")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const ArchSpec spec = load_arch(entry.path().string());
    const auto [name, source] = std::pair{name_of(spec), source_file_of(spec)};
    EXPECT_EQ(name, entry.path().stem().string());
    EXPECT_EQ(source, entry.path().string());
    ++loaded;
  }
  EXPECT_GE(loaded, 5);
}

TEST(ConfigYaml, TpuV1MatchesThePaper) {
  const SystolicSpec spec = load_systolic_spec(shipped("tpu_v1.yaml"));
  EXPECT_NEAR(peak_ops_per_second(spec, DType::Int8), 92e12, 0.01 * 92e12);  // 92 TOPS
  EXPECT_EQ(spec.dtypes.front().dtype, DType::Int8);
  EXPECT_EQ(spec.array.dataflow, Dataflow::WeightStationary);
  EXPECT_TRUE(spec.array.weights_double_buffered);
  EXPECT_EQ(spec.buffer_for(Operand::Input).capacity_bytes, 24u << 20);
  EXPECT_EQ(spec.buffer_for(Operand::Output).capacity_bytes, 4u << 20);
  EXPECT_EQ(spec.buffer_for(Operand::Weight).capacity_bytes, 256u << 10);
  EXPECT_NEAR(spec.dram.bytes_per_cycle, 34e9 / 700e6, 1e-9);
  EXPECT_EQ(spec.dram.latency_cycles, 70u);
  EXPECT_EQ(spec.vector_unit.lanes, 256u);  // the activation unit, as wide as the array
  EXPECT_GT(spec.vector_unit.area_mm2, 0.0);
  EXPECT_NEAR(spec.area_mm2(), 331.0, 0.01 * 331.0);
  // Table 2's measured idle power a die, which stands for the running chip's static power.
  ASSERT_TRUE(spec.power.has_value());
  EXPECT_EQ(spec.power->idle_w, 28.0);
  EXPECT_EQ(spec.power->static_w, 28.0);
  EXPECT_FALSE(spec.power->limit_w.has_value());
}

TEST(ConfigYaml, TpuV4LikePeakIs275Teraflops) {
  const SystolicSpec spec = load_systolic_spec(shipped("tpu_v4_like.yaml"));
  EXPECT_EQ(spec.array_count(), 8u);
  EXPECT_EQ(spec.dtypes.front().dtype, DType::Bf16);
  ASSERT_NE(spec.find_dtype(DType::Int8), nullptr);
  EXPECT_NEAR(peak_ops_per_second(spec, DType::Bf16), 275e12, 0.01 * 275e12);
  EXPECT_NEAR(spec.dram.bytes_per_cycle, 1200e9 / 1050e6, 1e-9);
  EXPECT_EQ(spec.buffer_for(Operand::Weight).capacity_bytes, 64u << 20);
  EXPECT_EQ(spec.buffer_for(Operand::Input).name, spec.buffer_for(Operand::Output).name);
  // A TensorCore's VPU: 8 sublanes x 128 lanes, two ALUs each.
  EXPECT_DOUBLE_EQ(spec.vector_unit.lanes * spec.vector_unit.ops_per_lane_per_cycle, 2048.0);
  // Google's measured minimum a chip (min/mean/max 90/170/192 W) stands for idle and static power.
  ASSERT_TRUE(spec.power.has_value());
  EXPECT_EQ(spec.power->idle_w, 90.0);
  EXPECT_EQ(spec.power->static_w, 90.0);
}

TEST(ConfigYaml, TestArraysHaveTheirSizeAndAllFourFormats) {
  for (uint32_t size : {4u, 8u, 32u}) {
    const std::string name = "array_" + std::to_string(size) + "x" + std::to_string(size);
    SCOPED_TRACE(name);
    const SystolicSpec spec = load_systolic_spec(shipped(name + ".yaml"));
    EXPECT_EQ(spec.array.rows, size);
    EXPECT_EQ(spec.array.cols, size);
    EXPECT_FALSE(spec.dram.unlimited);
    ASSERT_EQ(spec.dtypes.size(), 4u);
    EXPECT_EQ(spec.dtypes.front().dtype, DType::Int8);
    for (DType dtype : {DType::Fp16, DType::Bf16, DType::Fp32}) {
      EXPECT_NE(spec.find_dtype(dtype), nullptr);
    }
    EXPECT_EQ(spec.vector_unit.lanes, size);  // a lane per column
    EXPECT_DOUBLE_EQ(spec.vector_unit.special_ops_per_cycle, size / 4.0);
  }
}

TEST(ConfigYaml, NegativeRowsMessageReadsExactly) {
  const TempFile file("negative_rows.yaml", edited_minimal({{8, "  rows: -4"}}));
  EXPECT_EQ(load_error(file.path),
            file.path + ":8: key 'array.rows': must be a positive integer, got -4");
}

TEST(ConfigYaml, SyntaxErrorNamesFileAndLine) {
  const TempFile file("syntax.yaml", edited_minimal({{14, "  fp16: {macs_per_pe_per_cycle: 1"}}));
  const std::string message = load_error(file.path);
  EXPECT_EQ(message.rfind(file.path + ":15: not valid YAML", 0), 0u) << message;
}

TEST(ConfigYaml, EmptyFileIsAnError) {
  const TempFile file("empty.yaml", "");
  EXPECT_EQ(load_error(file.path).rfind(file.path + ":1: ", 0), 0u);
}

struct BadCase {
  const char* name;
  std::vector<LineEdit> edits;
  int line;
  const char* key;
  const char* problem;  // a fragment of the message after the key
};

// Failures name the case rather than dumping its bytes.
void PrintTo(const BadCase& bad, std::ostream* out) { *out << bad.name; }

class BadYaml : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadYaml, NamesFileLineAndKey) {
  const BadCase& bad = GetParam();
  const TempFile file(std::string(bad.name) + ".yaml", edited_minimal(bad.edits));
  const std::string message = load_error(file.path);
  const std::string where =
      file.path + ":" + std::to_string(bad.line) + ": key '" + bad.key + "': ";
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(bad.problem, where.size()), std::string::npos) << message;
}

const std::optional<std::string> kRemoved;

INSTANTIATE_TEST_SUITE_P(
    ConfigYaml, BadYaml,
    ::testing::Values(
        BadCase{"unknown_key", {{9, "  colums: 8"}}, 9, "array.colums", "unknown key"},
        BadCase{"unknown_top_key", {{1, "frequency_ghz: 1"}}, 1, "frequency_ghz", "unknown key"},
        BadCase{"unknown_dtype", {{15, "  fp4: {macs_per_pe_per_cycle: 1, mac_energy_pj: 0.1}"}},
                15, "dtypes.fp4", "unknown key"},
        // int4 multiplies only a W4A4 recipe's linears: it cannot be a run's default format.
        BadCase{"int4_first", {{14, "  int4: {macs_per_pe_per_cycle: 2, mac_energy_pj: 0.1}"}},
                14, "dtypes.int4", "the first format is a run's default"},
        BadCase{"duplicate_key", {{9, "  rows: 8"}}, 9, "array.rows", "appears twice"},
        // A missing key is reported at the line of the mapping that should hold it.
        BadCase{"missing_key", {{8, kRemoved}}, 7, "array.rows", "missing"},
        BadCase{"missing_top_key",
                {{35, kRemoved}, {36, kRemoved}, {37, kRemoved}, {38, kRemoved}}, 2, "dram",
                "missing"},
        BadCase{"missing_buffer_key", {{22, kRemoved}}, 17, "buffers[0].banks", "missing"},
        BadCase{"word_for_integer", {{5, "cores: two"}}, 5, "cores",
                "must be a positive integer, got two"},
        BadCase{"fraction_for_integer", {{22, "    banks: 1.5"}}, 22, "buffers[0].banks",
                "must be a positive integer, got 1.5"},
        BadCase{"quoted_number", {{4, "clock_mhz: \"500\""}}, 4, "clock_mhz",
                "got the string \"500\""},
        BadCase{"list_for_number", {{20, "    read_bytes_per_cycle: [32]"}}, 20,
                "buffers[0].read_bytes_per_cycle", "got a list"},
        BadCase{"empty_value", {{9, "  cols:"}}, 9, "array.cols", "got nothing"},
        BadCase{"word_for_bool", {{11, "  weights_double_buffered: maybe"}}, 11,
                "array.weights_double_buffered", "must be true or false"},
        BadCase{"zero_rows", {{8, "  rows: 0"}}, 8, "array.rows", "positive integer, got 0"},
        BadCase{"zero_clock", {{4, "clock_mhz: 0"}}, 4, "clock_mhz", "must be a number > 0"},
        // Values past what any hardware spans, by the key's unit (they overflowed derived figures).
        BadCase{"huge_clock", {{4, "clock_mhz: 1e308"}}, 4, "clock_mhz",
                "1e308 is beyond what hardware spans: at most 100000 MHz"},
        BadCase{"huge_capacity", {{19, "    capacity_kib: 1e30"}}, 19, "buffers[0].capacity_kib", "at most 2^40 KiB"},
        BadCase{"huge_latency", {{37, "  latency_ns: 1e12"}}, 37, "dram.latency_ns", "at most 1e9 ns"},
        BadCase{"huge_energy", {{38, "  energy_pj_per_byte: 1e300"}}, 38, "dram.energy_pj_per_byte",
                "at most 1e6 pJ a byte"},
        BadCase{"huge_area", {{40, "  other_mm2: 1e9"}}, 40, "area.other_mm2", "at most 1e5 mm^2"},
        BadCase{"huge_rows", {{8, "  rows: 4000000000"}}, 8, "array.rows", "at most 2^26"},
        BadCase{"huge_rate", {{20, "    read_bytes_per_cycle: 1e15"}}, 20, "buffers[0].read_bytes_per_cycle",
                "at most 1e9 a cycle"},
        BadCase{"zero_capacity", {{19, "    capacity_kib: 0"}}, 19, "buffers[0].capacity_kib",
                "must be a number > 0, got 0"},
        BadCase{"zero_port", {{29, "    read_bytes_per_cycle: 0"}}, 29,
                "buffers[1].read_bytes_per_cycle", "must be a number > 0"},
        BadCase{"negative_energy", {{32, "    read_energy_pj_per_byte: -1"}}, 32,
                "buffers[1].read_energy_pj_per_byte", "must be a number >= 0, got -1"},
        BadCase{"negative_area", {{40, "  other_mm2: -3"}}, 40, "area.other_mm2",
                "must be a number >= 0"},
        BadCase{"bad_dataflow", {{10, "  dataflow: xs"}}, 10, "array.dataflow",
                "must be one of os, ws, is, got xs"},
        BadCase{"unknown_kind", {{3, "kind: tpu"}}, 3, "kind", "must be one of systolic, fpga, gpu, cpu, got tpu"},
        BadCase{"missing_kind", {{3, kRemoved}}, 2, "kind", "missing: must be one of systolic, fpga, gpu, cpu"},
        BadCase{"no_dtypes", {{13, "dtypes: {}"}, {14, kRemoved}, {15, kRemoved}}, 13, "dtypes",
                "at least one"},
        BadCase{"unknown_operand", {{27, "    holds: [weights]"}}, 27, "buffers[1].holds[0]",
                "must be one of input, weight, output"},
        BadCase{"no_operands", {{27, "    holds: []"}}, 27, "buffers[1].holds",
                "at least one operand"},
        BadCase{"operand_held_twice", {{27, "    holds: [weight, input]"}}, 27,
                "buffers[1].holds[1]", "already held by buffer 'unified'"},
        BadCase{"operand_listed_twice", {{27, "    holds: [weight, weight]"}}, 27,
                "buffers[1].holds[1]", "lists 'weight' twice"},
        BadCase{"operand_never_held", {{18, "    holds: [input]"}}, 16, "buffers",
                "no buffer holds operand 'output'"},
        BadCase{"buffer_name_twice", {{26, "  - name: unified"}}, 26, "buffers[1].name",
                "used twice"},
        BadCase{"unlimited_with_latency", {{36, "  bandwidth_gb_s: unlimited"}}, 37,
                "dram.latency_ns", "must be 0 when bandwidth_gb_s is 'unlimited'"},
        BadCase{"word_for_bandwidth", {{36, "  bandwidth_gb_s: fast"}}, 36, "dram.bandwidth_gb_s",
                "must be a number > 0 or 'unlimited', got fast"},
        BadCase{"missing_vector_unit",
                {{41, kRemoved}, {42, kRemoved}, {43, kRemoved}, {44, kRemoved}, {45, kRemoved},
                 {46, kRemoved}, {47, kRemoved}, {48, kRemoved}},
                2, "vector_unit", "missing"},
        BadCase{"vector_unit_not_a_mapping",
                {{41, "vector_unit: [8]"}, {42, kRemoved}, {43, kRemoved}, {44, kRemoved},
                 {45, kRemoved}, {46, kRemoved}, {47, kRemoved}, {48, kRemoved}},
                41, "vector_unit", "must be a mapping, got a list"},
        BadCase{"unknown_vector_key", {{42, "  lane: 8"}}, 42, "vector_unit.lane", "unknown key"},
        BadCase{"missing_vector_key", {{44, kRemoved}}, 41, "vector_unit.special_ops_per_cycle",
                "missing"},
        BadCase{"duplicate_vector_key", {{43, "  lanes: 8"}}, 43, "vector_unit.lanes",
                "appears twice"},
        BadCase{"zero_lanes", {{42, "  lanes: 0"}}, 42, "vector_unit.lanes",
                "must be a positive integer, got 0"},
        BadCase{"fraction_for_lanes", {{42, "  lanes: 8.5"}}, 42, "vector_unit.lanes",
                "must be a positive integer, got 8.5"},
        BadCase{"zero_ops_per_lane", {{43, "  ops_per_lane_per_cycle: 0"}}, 43,
                "vector_unit.ops_per_lane_per_cycle", "must be a number > 0, got 0"},
        BadCase{"negative_special_rate", {{44, "  special_ops_per_cycle: -4"}}, 44,
                "vector_unit.special_ops_per_cycle", "must be a number > 0, got -4"},
        BadCase{"word_for_vector_bandwidth", {{45, "  buffer_bytes_per_cycle: wide"}}, 45,
                "vector_unit.buffer_bytes_per_cycle", "must be a number > 0, got wide"},
        BadCase{"quoted_op_energy", {{46, "  op_energy_pj: \"0.5\""}}, 46,
                "vector_unit.op_energy_pj", "got the string \"0.5\""},
        BadCase{"negative_special_energy", {{47, "  special_op_energy_pj: -2.5"}}, 47,
                "vector_unit.special_op_energy_pj", "must be a number >= 0, got -2.5"},
        BadCase{"negative_vector_area", {{48, "  area_mm2: -1"}}, 48, "vector_unit.area_mm2",
                "must be a number >= 0, got -1"}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(ConfigLoader, ChoosesTheReaderByExtension) {
  const TempFile yml("minimal.yml", edited_minimal({}));
  EXPECT_EQ(load_systolic_spec(yml.path).name, "minimal");
  EXPECT_EQ(load_systolic_spec(kSourceDir + "/configs/scalesim/os_32x32_64kB.cfg").name, "os_32x32_64kB");
}

TEST(ConfigLoader, UnknownExtensionNamesTheFile) {
  const TempFile json("arch.json", "{}\n");
  const std::string message = load_error(json.path);
  EXPECT_EQ(message.rfind(json.path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("unknown architecture format '.json'"), std::string::npos) << message;
}

TEST(ConfigLoader, MissingFileNamesTheFile) {
  const std::string path = kSourceDir + "/configs/arch/no_such_chip.yaml";
  const std::string message = load_error(path);
  EXPECT_EQ(message.rfind(path + ": cannot open", 0), 0u) << message;
}

TEST(ConfigLoader, DirectoryIsNotAConfig) {
  const std::string path = kSourceDir + "/configs/arch";
  EXPECT_EQ(load_error(path).rfind(path + ": ", 0), 0u);
}

}  // namespace
}  // namespace tessel::arch
