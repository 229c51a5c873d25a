// SCALE-Sim topology CSVs: conv layers lower to GEMM as SCALE-Sim lowers them, the GEMM layout
// reads as written, and malformed rows name the file and the line.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "test_files.h"
#include "workloads/input_error.h"
#include "workloads/topology_csv.h"

namespace tessel::workloads {
namespace {

using tessel::testing::error_message;
using tessel::testing::TempFile;

const std::string kSourceDir = TESSEL_SOURCE_DIR;
const std::string kConvHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
    "Strides,\n";

void expect_gemm(const Gemm& gemm, const std::string& name, uint64_t m, uint64_t n, uint64_t k) {
  EXPECT_EQ(gemm.name, name);
  EXPECT_EQ(gemm.m, m) << name;
  EXPECT_EQ(gemm.n, n) << name;
  EXPECT_EQ(gemm.k, k) << name;
}

std::string read_error(const std::string& path) {
  return error_message<InputError>([&] { read_topology_csv(path); },
                                   path + " read without an InputError");
}

TEST(TopologyCsv, AlexnetLowersAsScaleSimDoes) {
  const Graph graph = read_topology_csv(kSourceDir + "/configs/topologies/alexnet.csv");
  EXPECT_EQ(graph.name, "alexnet");
  ASSERT_EQ(graph.gemms.size(), 5u);
  // Conv1: 224x224x3, 96 filters 11x11, stride 4: E = ceil((224 - 11 + 4) / 4) = 55.
  expect_gemm(graph.gemms[0], "Conv1", 55 * 55, 96, 11 * 11 * 3);
  // Conv2: 27x27x96, 256 filters 5x5, stride 1: E = 23.
  expect_gemm(graph.gemms[1], "Conv2", 23 * 23, 256, 5 * 5 * 96);
  // Conv3..5: 13x13, 3x3 filters, stride 1: E = 11.
  expect_gemm(graph.gemms[2], "Conv3", 11 * 11, 384, 3 * 3 * 256);
  expect_gemm(graph.gemms[3], "Conv4", 11 * 11, 384, 3 * 3 * 384);
  expect_gemm(graph.gemms[4], "Conv5", 11 * 11, 256, 3 * 3 * 384);
}

TEST(TopologyCsv, GemmExampleReadsAsWritten) {
  const Graph graph = read_topology_csv(kSourceDir + "/configs/topologies/gemm_example.csv");
  EXPECT_EQ(graph.name, "gemm_example");
  ASSERT_EQ(graph.gemms.size(), 6u);
  expect_gemm(graph.gemms[0], "bert_base_qkv_proj", 512, 3 * 768, 768);
  expect_gemm(graph.gemms[5], "bert_base_ffn_down", 512, 768, 3072);
}

// SCALE-Sim rounds the output size up: (10 - 3) / 2 = 3.5 gives 5 outputs, not 4.
TEST(TopologyCsv, StridedOutputRoundsUpAsScaleSim) {
  const TempFile file("strided.csv", kConvHeader + "L, 10, 12, 3, 4, 2, 5, 2,\n");
  const Graph graph = read_topology_csv(file.path);
  ASSERT_EQ(graph.gemms.size(), 1u);
  // E_h = ceil((10 - 3 + 2) / 2) = 5, E_w = ceil((12 - 4 + 2) / 2) = 5.
  expect_gemm(graph.gemms[0], "L", 5 * 5, 5, 3 * 4 * 2);
}

TEST(TopologyCsv, FilterAsLargeAsTheIfmapGivesOneOutput) {
  const TempFile file("fc.csv", kConvHeader + "FC, 7, 7, 7, 7, 512, 4096, 1,\n");
  expect_gemm(read_topology_csv(file.path).gemms.at(0), "FC", 1, 4096, 7 * 7 * 512);
}

// SCALE-Sim reads a name containing "DP" as a depthwise layer: one GEMM per channel.
TEST(TopologyCsv, DepthwiseLayerSplitsPerChannel) {
  const TempFile file("depthwise.csv", kConvHeader + "DP_conv, 8, 8, 3, 3, 3, 1, 1,\n");
  const Graph graph = read_topology_csv(file.path);
  ASSERT_EQ(graph.gemms.size(), 3u);
  expect_gemm(graph.gemms[0], "DP_convChannel_0", 6 * 6, 1, 3 * 3);
  expect_gemm(graph.gemms[2], "DP_convChannel_2", 6 * 6, 1, 3 * 3);
}

TEST(TopologyCsv, ToleratesSpacingBlankLinesAndWindowsLineEnds) {
  const TempFile file("loose.csv",
                      "\tLayer ,M,  N , K\r\n"
                      "\r\n"
                      "  first  , 1,2 ,3\r\n"
                      "second,4,5,6\r\n");
  const Graph graph = read_topology_csv(file.path);
  ASSERT_EQ(graph.gemms.size(), 2u);
  expect_gemm(graph.gemms[0], "first", 1, 2, 3);
  expect_gemm(graph.gemms[1], "second", 4, 5, 6);
}

struct BadCase {
  const char* name;
  std::string text;
  int line;
  const char* problem;  // a fragment of the message after the line
};

// Failures name the case rather than dumping its bytes.
void PrintTo(const BadCase& bad, std::ostream* out) { *out << bad.name; }

class BadTopology : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadTopology, NamesFileAndLine) {
  const BadCase& bad = GetParam();
  const TempFile file(std::string(bad.name) + ".csv", bad.text);
  const std::string message = read_error(file.path);
  const std::string where = file.path + ":" + std::to_string(bad.line) + ": ";
  EXPECT_EQ(message.rfind(where, 0), 0u) << message;
  EXPECT_NE(message.find(bad.problem, where.size()), std::string::npos) << message;
}

const std::string kGemmHeader = "Layer, M, N, K,\n";

INSTANTIATE_TEST_SUITE_P(
    TopologyCsv, BadTopology,
    ::testing::Values(
        BadCase{"too_few_fields", kGemmHeader + "A, 1, 2, 3,\nB, 1, 2,\n", 3, "fewer fields"},
        BadCase{"too_many_fields", kGemmHeader + "A, 1, 2, 3, 4,\n", 2, "more fields"},
        BadCase{"word_for_size", kGemmHeader + "A, 1, x, 3,\n", 2,
                "column 'N': must be a positive integer below 2^32, got 'x'"},
        BadCase{"zero_size", kGemmHeader + "A, 0, 2, 3,\n", 2, "column 'M'"},
        BadCase{"negative_size", kGemmHeader + "A, 1, 2, -3,\n", 2, "column 'K'"},
        BadCase{"huge_size", kGemmHeader + "A, 1, 4294967296, 3,\n", 2, "column 'N'"},
        BadCase{"empty_field", kGemmHeader + "A, 1, , 3,\n", 2, "column 'N' is empty"},
        BadCase{"unnamed_layer", kGemmHeader + " , 1, 2, 3,\n", 2, "no name"},
        BadCase{"counts_blank_lines", kGemmHeader + "\nA, 1, 2, 3,\nB, 1, 2, 3.5,\n", 4,
                "column 'K'"},
        BadCase{"conv_word_for_size", kConvHeader + "C, 8, eight, 3, 3, 1, 1, 1,\n", 2,
                "column 'IFMAP Width'"},
        BadCase{"zero_stride", kConvHeader + "C, 8, 8, 3, 3, 1, 1, 0,\n", 2, "column 'Strides'"},
        BadCase{"filter_taller", kConvHeader + "C, 3, 8, 5, 3, 1, 1, 1,\n", 2,
                "column 'Filter Height': the filter (5) is taller than the IFMAP (3)"},
        BadCase{"filter_wider", kConvHeader + "C, 8, 2, 3, 3, 1, 1, 1,\n", 2,
                "column 'Filter Width': the filter (3) is wider than the IFMAP (2)"},
        BadCase{"unknown_layout", "Name, M, N, K,\n", 1, "must start with 'Layer name'"},
        BadCase{"missing_column", "Layer, M, N,\n", 1, "lacks column 'K'"},
        BadCase{"unknown_column",
                "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                "Num Filter, Strides, Sparsity,\n",
                1, "unknown header column 'Sparsity'"},
        BadCase{"column_twice", "Layer, M, N, K, M,\n", 1, "'M' appears twice"},
        BadCase{"empty_file", "", 1, "no header line"}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(TopologyCsv, MissingFileNamesTheFile) {
  const std::string path = kSourceDir + "/configs/topologies/no_such.csv";
  EXPECT_EQ(read_error(path), path + ": cannot open the file");
}

}  // namespace
}  // namespace tessel::workloads
