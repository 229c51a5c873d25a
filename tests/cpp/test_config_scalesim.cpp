// SCALE-Sim .cfg files: the shipped ones translate as documented, SCALE-Sim's spellings are
// accepted, and mistakes or unmodelled features name the file, the line and the key.
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "arch/config_error.h"
#include "arch/config_scalesim.h"
#include "test_files.h"

namespace tessel::arch {
namespace {

using tessel::testing::edit_lines;
using tessel::testing::error_message;
using tessel::testing::LineEdit;
using tessel::testing::TempFile;

const std::string kSourceDir = TESSEL_SOURCE_DIR;

std::string load_error(const std::string& path) {
  return error_message<ConfigError>([&] { load_scalesim_cfg(path); },
                                    path + " loaded without a ConfigError");
}

TEST(ScaleSimCfg, CalcExampleIsOneStallFreeArray) {
  const std::string path = kSourceDir + "/configs/scalesim/os_128x128_calc.cfg";
  const SystolicSpec spec = load_scalesim_cfg(path);
  EXPECT_EQ(spec.name, "os_128x128_calc");
  EXPECT_EQ(spec.source_file, path);
  EXPECT_DOUBLE_EQ(spec.clock_hz, 1e9);
  EXPECT_EQ(spec.array_count(), 1u);
  EXPECT_EQ(spec.array.rows, 128u);
  EXPECT_EQ(spec.array.cols, 128u);
  EXPECT_EQ(spec.array.dataflow, Dataflow::OutputStationary);
  EXPECT_FALSE(spec.array.weights_double_buffered);
  ASSERT_EQ(spec.dtypes.size(), 1u);
  EXPECT_EQ(spec.dtypes[0].dtype, DType::Int8);
  EXPECT_DOUBLE_EQ(spec.dtypes[0].mac_energy_pj, 0.3);  // Horowitz int8 mul + int32 add

  ASSERT_EQ(spec.buffers.size(), 3u);
  const char* names[] = {"ifmap_sram", "filter_sram", "ofmap_sram"};
  const Operand operands[] = {Operand::Input, Operand::Weight, Operand::Output};
  const uint64_t kib[] = {1024, 1024, 512};
  const double port[] = {128, 128, 128 * 4};  // a word per edge PE; partial sums are 32-bit
  for (size_t i = 0; i < 3; ++i) {
    const BufferSpec& buffer = spec.buffers[i];
    EXPECT_EQ(buffer.name, names[i]);
    ASSERT_EQ(buffer.holds.size(), 1u);
    EXPECT_EQ(buffer.holds[0], operands[i]);
    EXPECT_EQ(buffer.capacity_bytes, kib[i] * 1024);  // SCALE-Sim's kB is 1024 bytes
    EXPECT_DOUBLE_EQ(buffer.read_bytes_per_cycle, port[i]);
    EXPECT_DOUBLE_EQ(buffer.write_bytes_per_cycle, port[i]);
    EXPECT_DOUBLE_EQ(buffer.read_energy_pj_per_byte, 1.25);
  }
  EXPECT_TRUE(spec.dram.unlimited);
  EXPECT_EQ(spec.dram.latency_cycles, 0u);
  EXPECT_DOUBLE_EQ(spec.dram.energy_pj_per_byte, 243.75);

  // SCALE-Sim has no vector unit; the assumed one has a lane per array column.
  const VectorUnitSpec& unit = spec.vector_unit;
  EXPECT_EQ(unit.lanes, 128u);
  EXPECT_DOUBLE_EQ(unit.ops_per_lane_per_cycle, 1.0);
  EXPECT_DOUBLE_EQ(unit.special_ops_per_cycle, 32.0);     // a quarter of the ALU rate
  EXPECT_DOUBLE_EQ(unit.buffer_bytes_per_cycle, 1024.0);  // a 32-bit read and write a lane
  EXPECT_DOUBLE_EQ(unit.op_energy_pj, 2.3);               // Horowitz fp32 add and mul, mean
  EXPECT_DOUBLE_EQ(unit.special_op_energy_pj, 18.4);      // four fp32 multiply-adds
  EXPECT_DOUBLE_EQ(unit.area_mm2, 0.0);
}

TEST(ScaleSimCfg, UserExampleHasBandwidthInOneByteWords) {
  const SystolicSpec spec = load_scalesim_cfg(kSourceDir + "/configs/scalesim/os_32x32_64kB.cfg");
  EXPECT_EQ(spec.array.rows, 32u);
  EXPECT_EQ(spec.array.cols, 32u);
  for (const BufferSpec& buffer : spec.buffers) EXPECT_EQ(buffer.capacity_bytes, 64u * 1024);
  EXPECT_FALSE(spec.dram.unlimited);
  EXPECT_DOUBLE_EQ(spec.dram.bytes_per_cycle, 10.0);
  EXPECT_EQ(spec.dram.latency_cycles, 0u);
}

// configparser's syntax, v2's and v3's places for the layout keys, and every key that does
// not change timing.
TEST(ScaleSimCfg, AcceptsScaleSimSpellingsAndIgnoredKeys) {
  const TempFile file("spellings.cfg",
                      "# a comment\r\n"
                      "; another comment\r\n"
                      "[general]\r\n"
                      "run_name=spellings\r\n"
                      "\r\n"
                      "[architecture_presets]\r\n"
                      "arrayheight = 16\r\n"
                      "ARRAYWIDTH: 8\r\n"
                      "IfmapSramSzkB:   32   \r\n"
                      "FilterSramSzkB : 16\r\n"
                      "OfmapSramSzkB=8\r\n"
                      "IfmapOffset: 0\r\n"
                      "FilterOffset: 10000000\r\n"
                      "OfmapOffset: 20000000\r\n"
                      "Dataflow : is\r\n"
                      "Bandwidth : 10\r\n"
                      "MemoryBanks: 1\r\n"
                      "ReadRequestBuffer: 128\r\n"
                      "WriteRequestBuffer: 128\r\n"
                      "OnChipMemoryBanks: 4\r\n"
                      "OnChipMemoryBankPorts: 2\r\n"
                      "IfmapCustomLayout: False\r\n"
                      "IfmapSRAMBankBandwidth: 64\r\n"
                      "[layout]\r\n"
                      "FilterCustomLayout: no\r\n"
                      "FilterSRAMBankNum: 10\r\n"
                      "[sparsity]\r\n"
                      "SparsitySupport : false\r\n"
                      "SparseRep : ellpack_block\r\n"
                      "BlockSize : 8\r\n"
                      "[network_presets]\r\n"
                      "TopologyCsvLoc = \"topologies/x.csv\"\r\n"
                      "[memory_map_files]\r\n"
                      "MemoryMapIfmap = ifmap.map\r\n"
                      "[run_presets]\r\n"
                      "InterfaceBandwidth: CALC\r\n"
                      "UseRamulatorTrace: False\r\n"
                      "SRAM_row_size: 2\r\n"
                      "DRAM_bank_size: 5\r\n");
  const SystolicSpec spec = load_scalesim_cfg(file.path);
  EXPECT_EQ(spec.name, "spellings");
  EXPECT_EQ(spec.array.rows, 16u);
  EXPECT_EQ(spec.array.cols, 8u);
  EXPECT_EQ(spec.array.dataflow, Dataflow::InputStationary);
  EXPECT_EQ(spec.buffer_for(Operand::Input).capacity_bytes, 32u * 1024);
  EXPECT_EQ(spec.buffer_for(Operand::Weight).capacity_bytes, 16u * 1024);
  EXPECT_EQ(spec.buffer_for(Operand::Output).capacity_bytes, 8u * 1024);
  EXPECT_DOUBLE_EQ(spec.buffer_for(Operand::Input).read_bytes_per_cycle, 16.0);
  EXPECT_EQ(spec.vector_unit.lanes, 8u);  // the columns (ArrayWidth), not the rows
  EXPECT_DOUBLE_EQ(spec.vector_unit.special_ops_per_cycle, 2.0);
  EXPECT_TRUE(spec.dram.unlimited);  // CALC: Bandwidth is not read, as in SCALE-Sim
}

// The base file the bad cases edit, one line each; line numbers are 1-based.
const std::vector<std::string> kBase = {
    "[general]",                 // 1
    "run_name = base",           // 2
    "",                          // 3
    "[architecture_presets]",    // 4
    "ArrayHeight:    16",        // 5
    "ArrayWidth:     8",         // 6
    "IfmapSramSzkB:    32",      // 7
    "FilterSramSzkB:   16",      // 8
    "OfmapSramSzkB:    8",       // 9
    "IfmapOffset:    0",         // 10
    "FilterOffset:   10000000",  // 11
    "OfmapOffset:    20000000",  // 12
    "Dataflow : ws",             // 13
    "Bandwidth : 12",            // 14
    "MemoryBanks: 1",            // 15
    "",                          // 16
    "[sparsity]",                // 17
    "SparsitySupport : false",   // 18
    "",                          // 19
    "[layout]",                  // 20
    "IfmapCustomLayout: False",  // 21
    "FilterCustomLayout: False", // 22
    "",                          // 23
    "[run_presets]",             // 24
    "InterfaceBandwidth: USER",  // 25
    "UseRamulatorTrace: False",  // 26
};

TEST(ScaleSimCfg, BaseFileLoadsWithUserBandwidth) {
  const TempFile file("base.cfg", edit_lines(kBase, {}));
  const SystolicSpec spec = load_scalesim_cfg(file.path);
  EXPECT_EQ(spec.array.dataflow, Dataflow::WeightStationary);
  EXPECT_DOUBLE_EQ(spec.dram.bytes_per_cycle, 12.0);
}

TEST(ScaleSimCfg, CalcNeedsNoBandwidth) {
  const TempFile file("calc.cfg",
                      edit_lines(kBase, {{14, std::nullopt}, {25, "InterfaceBandwidth: CALC"}}));
  EXPECT_TRUE(load_scalesim_cfg(file.path).dram.unlimited);
}

TEST(ScaleSimCfg, LineWithoutDelimiterNamesTheLine) {
  const TempFile file("no_delimiter.cfg", edit_lines(kBase, {{5, "ArrayHeight 16"}}));
  const std::string message = load_error(file.path);
  EXPECT_EQ(message.rfind(file.path + ":5: expected 'key = value'", 0), 0u) << message;
}

TEST(ScaleSimCfg, MissingFileNamesTheFile) {
  const std::string path = kSourceDir + "/configs/scalesim/no_such.cfg";
  EXPECT_EQ(load_error(path).rfind(path + ": cannot open", 0), 0u);
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

class BadCfg : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadCfg, NamesFileLineAndKey) {
  const BadCase& bad = GetParam();
  const TempFile file(std::string(bad.name) + ".cfg", edit_lines(kBase, bad.edits));
  const std::string message = load_error(file.path);
  const std::string where =
      file.path + ":" + std::to_string(bad.line) + ": key '" + bad.key + "': ";
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(bad.problem, where.size()), std::string::npos) << message;
}

const std::optional<std::string> kRemoved;

INSTANTIATE_TEST_SUITE_P(
    ScaleSimCfg, BadCfg,
    ::testing::Values(
        // A missing key is reported at its section's header.
        BadCase{"missing_key", {{6, kRemoved}}, 4, "architecture_presets.ArrayWidth", "missing"},
        BadCase{"missing_user_bandwidth", {{14, kRemoved}}, 4, "architecture_presets.Bandwidth",
                "missing"},
        BadCase{"missing_section", {{24, kRemoved}, {25, kRemoved}, {26, kRemoved}}, 1,
                "run_presets.InterfaceBandwidth", "no [run_presets] section"},
        BadCase{"unknown_key", {{10, "IfmapOfset: 0"}}, 10, "architecture_presets.IfmapOfset",
                "unknown key"},
        BadCase{"unknown_section", {{17, "[sparse]"}}, 17, "sparse", "unknown section"},
        BadCase{"duplicate_key", {{6, "arrayheight: 8"}}, 6, "architecture_presets.arrayheight",
                "appears twice"},
        BadCase{"duplicate_section", {{20, "[sparsity]"}, {21, kRemoved}, {22, kRemoved}}, 20,
                "sparsity", "appears twice"},
        BadCase{"key_before_section", {{1, "run_name = x"}}, 1, "run_name", "before any [section]"},
        BadCase{"empty_run_name", {{2, "run_name ="}}, 2, "general.run_name", "must not be empty"},
        BadCase{"negative_size", {{5, "ArrayHeight: -4"}}, 5, "architecture_presets.ArrayHeight",
                "must be a positive integer, got '-4'"},
        BadCase{"zero_size", {{9, "OfmapSramSzkB: 0"}}, 9, "architecture_presets.OfmapSramSzkB",
                "must be a positive integer, got '0'"},
        BadCase{"fractional_size", {{8, "FilterSramSzkB: 1.5"}}, 8,
                "architecture_presets.FilterSramSzkB", "got '1.5'"},
        BadCase{"word_for_size", {{7, "IfmapSramSzkB: big"}}, 7,
                "architecture_presets.IfmapSramSzkB", "got 'big'"},
        BadCase{"bad_dataflow", {{13, "Dataflow : rs"}}, 13, "architecture_presets.Dataflow",
                "must be os, ws or is, got 'rs'"},
        BadCase{"bad_mode", {{25, "InterfaceBandwidth: AUTO"}}, 25,
                "run_presets.InterfaceBandwidth", "must be CALC or USER"},
        BadCase{"zero_bandwidth", {{14, "Bandwidth : 0"}}, 14, "architecture_presets.Bandwidth",
                "must be a positive integer"},
        BadCase{"bandwidth_per_bank", {{14, "Bandwidth : 10,20"}}, 14,
                "architecture_presets.Bandwidth", "one bank"},
        BadCase{"several_banks", {{15, "MemoryBanks: 2"}}, 15, "architecture_presets.MemoryBanks",
                "must be 1"},
        BadCase{"sparsity_on", {{18, "SparsitySupport : true"}}, 18, "sparsity.SparsitySupport",
                "turns on sparsity"},
        BadCase{"ramulator_on", {{26, "UseRamulatorTrace: True"}}, 26,
                "run_presets.UseRamulatorTrace", "turns on Ramulator DRAM traces"},
        BadCase{"custom_layout_on", {{21, "IfmapCustomLayout: True"}}, 21,
                "layout.IfmapCustomLayout", "turns on a custom SRAM layout"},
        BadCase{"word_for_switch", {{22, "FilterCustomLayout: maybe"}}, 22,
                "layout.FilterCustomLayout", "must be True or False"}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) {
      return std::string(param_info.param.name);
    });

}  // namespace
}  // namespace tessel::arch
