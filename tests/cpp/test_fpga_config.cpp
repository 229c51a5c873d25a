// FPGA designs (kind: fpga): block placement of buffers, resource accounting against the
// fabric, the error of a design over budget, and the SystolicSpec a design becomes. The
// expected figures are worked out here from the configs' numbers, not read back from the code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "arch/fpga/resources.h"
#include "cli_runner.h"
#include "test_files.h"

namespace tessel::arch {
namespace {

using tessel::testing::edit_lines;
using tessel::testing::error_message;
using tessel::testing::read_lines;
using tessel::testing::TempFile;

const std::string kArchDir = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/";

// The 1-based line of `text` in the file's lines; fails the test when absent.
int line_of(const std::vector<std::string>& lines, const std::string& text) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(text, 0) == 0) return static_cast<int>(i) + 1;
  }
  ADD_FAILURE() << "no line starts with '" << text << "'";
  return 1;
}

const ResourceUse& find(const SystolicSpec& spec, const std::string& name) {
  for (const ResourceUse& resource : spec.resources) {
    if (resource.name == name) return resource;
  }
  throw std::logic_error("no resource " + name);
}

fpga::BlockRamSpec block(uint64_t capacity_bytes, double read, double write) {
  return {100, capacity_bytes, read, write, 0.0, 0.0};
}

fpga::BufferRequest request(uint64_t capacity_bytes, double read, double write) {
  return {"b", {Operand::Weight}, fpga::BlockRam::Bram, capacity_bytes, read, write};
}

// A block count is the most of what capacity, read ports and write ports need, each rounded
// up to whole blocks: checked at each boundary (exactly N blocks' worth, and just over).
TEST(FpgaPlacement, BlocksAreTheMostOfCapacityAndEachPortsNeed) {
  const fpga::BlockRamSpec bram = block(4096, 8, 8);
  EXPECT_EQ(fpga::blocks_for(request(48 * 4096, 56, 48), bram), 48u) << "capacity sets it";
  EXPECT_EQ(fpga::blocks_for(request(48 * 4096 + 1, 56, 48), bram), 49u) << "one byte more, one block more";
  EXPECT_EQ(fpga::blocks_for(request(4096, 56, 8), bram), 7u) << "read ports set it: 56 / 8";
  EXPECT_EQ(fpga::blocks_for(request(4096, 56.5, 8), bram), 8u);
  EXPECT_EQ(fpga::blocks_for(request(4096, 8, 80), bram), 10u) << "write ports set it: 80 / 8";
  EXPECT_EQ(fpga::blocks_for(request(4096, 8, 80.1), bram), 11u);
  EXPECT_EQ(fpga::blocks_for(request(1, 0.1, 0.1), bram), 1u) << "a block is the least a buffer takes";
}

// u280_int8 worked by hand: 4 units of 7 x 256 PEs (1 DSP, 40 LUTs, 144 FFs each), 64 vector
// lanes (2 DSPs, 600 LUTs, 900 FFs) and 16 special units (4 DSPs, 2,500 LUTs, 3,500 FFs) a
// unit; weights 1,536 KiB of BRAM36 (384 blocks), activations 4,096 KiB of URAM (128 blocks);
// a shell of 214,000 LUTs, 336,000 FFs and 150 BRAM36.
TEST(FpgaConfig, U280Int8UsesWhatItsPartsAddUpTo) {
  const SystolicSpec spec = load_systolic_spec(kArchDir + "u280_int8.yaml");
  ASSERT_EQ(spec.resources.size(), 6u);
  const auto expect = [&](const std::string& name, uint64_t used, uint64_t available) {
    const ResourceUse& resource = find(spec, name);
    EXPECT_EQ(resource.used, used) << name;
    EXPECT_EQ(resource.available, available) << name;
    EXPECT_DOUBLE_EQ(resource.utilization(), static_cast<double>(used) / static_cast<double>(available)) << name;
  };
  expect("DSP", 4 * (1792 + 64 * 2 + 16 * 4), 9024);                                  // 7,936: 87.9%
  expect("LUT", 4 * (1792 * 40 + 64 * 600 + 16 * 2500) + 214000, 1303680);            // 814,320
  expect("FF", 4 * (1792 * 144 + 64 * 900 + 16 * 3500) + 336000, 2607360);            // 1,822,592
  expect("BRAM36", 4 * 384 + 150, 2016);                                              // 1,686
  expect("URAM", 4 * 128, 960);                                                       // 512
  expect("HBM2 channels", 32, 32);
  // The DSPs sit between 70% and 90% of the device, as a design that closes timing would.
  EXPECT_GT(find(spec, "DSP").utilization(), 0.7);
  EXPECT_LT(find(spec, "DSP").utilization(), 0.9);
}

TEST(FpgaConfig, EveryShippedDesignFitsWithRealisticDspUse) {
  for (const char* file : {"u280_int8.yaml", "u280_fp16.yaml", "u200_int8.yaml"}) {
    const SystolicSpec spec = load_systolic_spec(kArchDir + file);
    for (const ResourceUse& resource : spec.resources) {
      EXPECT_LE(resource.used, resource.available) << file << " " << resource.name;
    }
    EXPECT_GT(find(spec, "DSP").utilization(), 0.7) << file;
    EXPECT_LT(find(spec, "DSP").utilization(), 0.9) << file;
  }
}

// The buffers are what their blocks hold and carry; DRAM is the channels' bandwidth at the
// design clock; one array per compute unit.
TEST(FpgaConfig, DesignBecomesTheSpecTheEnginesRun) {
  const SystolicSpec spec = load_systolic_spec(kArchDir + "u280_int8.yaml");
  EXPECT_EQ(spec.cores, 4u);
  EXPECT_EQ(spec.arrays_per_core, 1u);
  EXPECT_EQ(spec.array.rows, 7u);
  EXPECT_EQ(spec.array.cols, 256u);
  EXPECT_EQ(spec.array.dataflow, Dataflow::OutputStationary);
  const BufferSpec& weights = spec.buffer_for(Operand::Weight);
  EXPECT_EQ(weights.capacity_bytes, 384u * 4096);
  EXPECT_DOUBLE_EQ(weights.read_bytes_per_cycle, 384 * 8.0);
  EXPECT_EQ(weights.banks, 384u);
  EXPECT_DOUBLE_EQ(weights.read_energy_pj_per_byte, 2.5);
  const BufferSpec& activations = spec.buffer_for(Operand::Input);
  EXPECT_EQ(&activations, &spec.buffer_for(Operand::Output));
  EXPECT_EQ(activations.capacity_bytes, 128u * 32768);
  EXPECT_DOUBLE_EQ(activations.write_bytes_per_cycle, 128 * 8.0);
  EXPECT_DOUBLE_EQ(activations.read_energy_pj_per_byte, 5.0);
  EXPECT_FALSE(spec.dram.unlimited);
  EXPECT_DOUBLE_EQ(spec.dram.bytes_per_cycle, 32 * 14.375e9 / 300e6);  // 1,533.3 B a cycle
  EXPECT_EQ(spec.dram.latency_cycles, 45u);                            // 150 ns at 300 MHz
  EXPECT_DOUBLE_EQ(spec.dram.energy_pj_per_byte, 50.0);
  EXPECT_EQ(spec.dram.capacity_bytes, uint64_t{8} << 30);  // all 32 pseudo-channels of 256 MiB
  EXPECT_EQ(spec.vector_unit.lanes, 64u);
  EXPECT_DOUBLE_EQ(spec.vector_unit.special_ops_per_cycle, 16.0);
  EXPECT_EQ(spec.area_mm2(), 0.0);
  EXPECT_TRUE(load_systolic_spec(kArchDir + "tpu_v4_like.yaml").resources.empty()) << "only FPGA designs carry resources";
}

// Peak MACs a second = the arrays' DSPs x MACs a DSP x the design clock, exactly (each
// product is an integer well inside a double's 53 bits), in the spec and in `tessel describe`.
TEST(FpgaConfig, PeakIsArrayDspsTimesMacsPerDspTimesClock) {
  struct Case {
    const char* file;
    DType dtype;
    double array_dsps;
    double macs_per_dsp;
    double clock_hz;
    const char* printed;
  };
  for (const Case& c : {Case{"u280_int8.yaml", DType::Int8, 4 * 7 * 256, 2.0, 300e6, "(4,300,800,000,000 MAC/s)"},
                        Case{"u280_fp16.yaml", DType::Fp16, 4 * 3 * 256 * 2, 0.5, 275e6, "(844,800,000,000 MAC/s)"},
                        Case{"u200_int8.yaml", DType::Int8, 4 * 32 * 40, 2.0, 300e6, "(3,072,000,000,000 MAC/s)"}}) {
    const SystolicSpec spec = load_systolic_spec(kArchDir + c.file);
    EXPECT_EQ(spec.peak_macs_per_cycle(c.dtype) * spec.clock_hz, c.array_dsps * c.macs_per_dsp * c.clock_hz)
        << c.file;
    const auto described = testing::run_tessel("describe --arch configs/arch/" + std::string(c.file));
    ASSERT_EQ(described.exit_code, 0) << described.output;
    EXPECT_NE(described.output.find(c.printed), std::string::npos) << described.output;
  }
}

TEST(FpgaConfig, DescribePrintsTheResourceTable) {
  const auto described = testing::run_tessel("describe --arch configs/arch/u280_int8.yaml");
  ASSERT_EQ(described.exit_code, 0) << described.output;
  for (const char* row : {"DSP                7,936       9,024        87.9%",
                          "BRAM36             1,686       2,016        83.6%",
                          "HBM2 channels         32          32       100.0%"}) {
    EXPECT_NE(described.output.find(row), std::string::npos) << row << "\n" << described.output;
  }
  const auto tpu = testing::run_tessel("describe --arch configs/arch/tpu_v1.yaml");
  EXPECT_EQ(tpu.output.find("resources"), std::string::npos) << tpu.output;
}

// Two resources over at once: the error names the design's line and each resource with its
// need, the budget and the excess, and leaves out those within budget.
TEST(FpgaConfig, OverBudgetNamesEachResourceAndByHowMuch) {
  const std::string base = kArchDir + "u280_int8.yaml";
  const std::vector<std::string> lines = read_lines(base);
  // 320 columns: 4 x 7 x 320 = 8,960 array DSPs + 4 x 192 vector DSPs = 9,728.
  // 500 shell BRAM36: 4 x 384 + 500 = 2,036.
  const TempFile file("fpga_over.yaml",
                      edit_lines(lines, {{line_of(lines, "    cols: 256"), "    cols: 320"},
                                         {line_of(lines, "    bram36: 150"), "    bram36: 500"}}));
  const std::string message = error_message<ConfigError>([&] { load_systolic_spec(file.path); }, "an over-budget design loaded");
  EXPECT_NE(message.find(file.path + ":" + std::to_string(line_of(lines, "design:")) + ": key 'design': "),
            std::string::npos) << message;
  EXPECT_NE(message.find("does not fit the XCU280"), std::string::npos) << message;
  EXPECT_NE(message.find("DSP: needs 9,728, fabric has 9,024 (704 over)"), std::string::npos) << message;
  EXPECT_NE(message.find("BRAM36: needs 2,036, fabric has 2,016 (20 over)"), std::string::npos) << message;
  EXPECT_EQ(message.find("LUT"), std::string::npos) << "LUTs fit: " << message;
  EXPECT_EQ(message.find("URAM"), std::string::npos) << "URAMs fit: " << message;

  // One block short of the budget fits; the budget itself fits.
  const TempFile at_budget("fpga_at_budget.yaml",
                           edit_lines(lines, {{line_of(lines, "    bram36: 150"), "    bram36: 480"}}));
  EXPECT_EQ(find(load_systolic_spec(at_budget.path), "BRAM36").used, 2016u);
}

TEST(FpgaConfig, BoardPowerIsReadWithoutALimit) {
  const std::vector<std::string> lines = read_lines(kArchDir + "u280_int8.yaml");
  const int line = line_of(lines, "kind: fpga");
  const TempFile powered("fpga_power.yaml", edit_lines(lines, {{line, "kind: fpga\npower: {idle_w: 40, static_w: 41}"}}));
  const SystolicSpec spec = load_systolic_spec(powered.path);
  ASSERT_TRUE(spec.power.has_value());
  EXPECT_DOUBLE_EQ(spec.power->static_w, 41.0);
  const auto described = testing::run_tessel("describe --arch " + powered.path);
  ASSERT_EQ(described.exit_code, 0) << described.output;
  EXPECT_NE(described.output.find("power: idle 40 W, static 41 W (the clock stays at its nominal value)"),
            std::string::npos)
      << described.output;
  const TempFile limited("fpga_limit.yaml",
                         edit_lines(lines, {{line, "kind: fpga\npower: {idle_w: 40, static_w: 41, limit_w: 225}"}}));
  const std::string message = error_message<ConfigError>([&] { load_systolic_spec(limited.path); }, "limit_w");
  EXPECT_NE(message.find(limited.path + ":" + std::to_string(line + 1) + ": key 'power.limit_w': this kind's clock"),
            std::string::npos)
      << message;
}

TEST(FpgaConfig, MistakesNameFileLineAndKey) {
  const std::string base = kArchDir + "u280_int8.yaml";
  const std::vector<std::string> lines = read_lines(base);
  struct Case {
    std::string starts;
    std::string replacement;
    std::string key;
    std::string problem;
  };
  for (const Case& c : {Case{"      block: bram36", "      block: sram", "design.buffers[0].block", "must be one of bram36, uram"},
                        Case{"  dsp: 9024", "  dsp: 0", "fabric.dsp", "must be a positive integer"},
                        Case{"    luts: 40 ", "    luts: -1", "design.pe.luts", "must be an integer >= 0"},
                        Case{"    channels: 32", "    chanels: 32", "fabric.memory.chanels", "unknown key"}}) {
    const int line = line_of(lines, c.starts);
    const TempFile file("fpga_bad.yaml", edit_lines(lines, {{line, c.replacement}}));
    const std::string message = error_message<ConfigError>([&] { load_systolic_spec(file.path); }, c.replacement);
    EXPECT_NE(message.find(file.path + ":" + std::to_string(line) + ": key '" + c.key + "': " + c.problem),
              std::string::npos) << message;
  }
}

}  // namespace
}  // namespace tessel::arch
