// The A100 GEMM rows of the shared validation set (copied into tests/data/validation, see
// its README) must stay within the error targets, and `tessel validate` must keep
// its exit codes and output columns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli_runner.h"
#include "cli/validation/gpu_validation.h"
#include "test_files.h"

namespace tessel {
namespace {

using validation::CaseResult;
using validation::Measurement;

const std::string kRows = std::string(TESSEL_SOURCE_DIR) + "/tests/data/validation/a100_gemm.csv";

arch::GpuSpec a100() { return arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml"); }

// A file of tests/data/validation (its README says where the rows come from).
std::vector<Measurement> rows_of(const std::string& file) {
  return validation::read_measurements(std::string(TESSEL_SOURCE_DIR) + "/tests/data/validation/" + file);
}

CaseResult case_of(const validation::ValidationResult& result, const std::string& id) {
  for (const CaseResult& c : result.cases) {
    if (c.id == id) return c;
  }
  throw std::runtime_error("no case " + id);
}

double mape(const std::vector<CaseResult>& cases) {
  double sum = 0;
  for (const CaseResult& c : cases) sum += std::fabs(c.error_percent());
  return sum / static_cast<double>(cases.size());
}

uint64_t m_of(const Measurement& row) { return std::stoull(row.settings.substr(row.settings.find("M=") + 2)); }

TEST(GpuValidation, A100GemmRowsStayWithinTheTargets) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const std::vector<Measurement> rows = validation::read_measurements(kRows);
  const auto result = validation::validate(a100_node, rows, {"GEMM", "A100"});
  ASSERT_EQ(result.cases.size(), 80u);
  EXPECT_TRUE(result.skipped.empty());
  std::vector<CaseResult> decode, large, large_kernel_timed;
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint64_t m = m_of(rows[i]);
    if (m <= 64) decode.push_back(result.cases[i]);
    if (m < 256) continue;
    large.push_back(result.cases[i]);
    if (rows[i].settings.find("time.time") == std::string::npos) large_kernel_timed.push_back(result.cases[i]);
  }
  EXPECT_LE(mape(result.cases), 15.0);       // issue target, all GEMM cases (reached: 6.0%)
  EXPECT_LE(mape(decode), 15.0);             // issue target, M <= 64 (reached: 3.6%)
  EXPECT_LE(mape(large), 8.0);               // issue target, M >= 256 (reached: 6.2%)
  EXPECT_LE(mape(large_kernel_timed), 8.0);  // the same on the rows timed on the GPU (7.1%)
}

TEST(GpuValidation, H100Fp8GemmRowsOfAnotherLibraryAndTheirProfilerTiming) {
  // DeepGEMM's fp8 GEMMs on an H800 SXM5 (the H100's SMs, clocks, limit and HBM), none used to
  // set a constant: read as fp8 although the workload names the bf16 output, and timed without
  // the launch gap, as a profiler trace times a kernel.
  validation::Hardware h100(arch::node_of(arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) +
                                                              "/configs/arch/h100_sxm.yaml")));
  const std::vector<Measurement> rows = rows_of("h800_fp8_gemm.csv");
  const auto result = validation::validate(h100, rows, {"GEMM", "H800"});
  ASSERT_EQ(result.cases.size(), 18u);
  std::vector<CaseResult> streaming, large;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_NE(result.cases[i].model.find("fp8"), std::string::npos) << result.cases[i].model;
    EXPECT_NE(result.cases[i].model.find("no launch gap"), std::string::npos) << result.cases[i].model;
    (m_of(rows[i]) <= 128 ? streaming : large).push_back(result.cases[i]);
  }
  // The weight-streaming rows (M = 64, 128) measure the HBM fraction the A100 calibrated:
  // 7.7% here. The M = 4096 rows are optimistic (18.7%: per-tile costs of a fine-grained-scaling
  // kernel that the model does not see); a bound that catches a regression in either.
  EXPECT_LE(mape(streaming), 10.0);
  EXPECT_LE(mape(large), 25.0);
  EXPECT_LE(mape(result.cases), 15.0);  // reached: 11.4%
}

// The host timer's overhead is the measurement's: only rows that say they were timed on the
// host get it, and a kernel-timed row's prediction is the kernel's alone.
TEST(GpuValidation, OnlyHostTimedRowsCarryTheTimersOverhead) {
  validation::Hardware a100_node(arch::node_of(a100()));
  std::vector<Measurement> rows = validation::read_measurements(kRows);
  Measurement host = rows.front();
  ASSERT_NE(host.settings.find("time.time"), std::string::npos);
  Measurement kernel = host;
  kernel.settings = "M=64 N=12288 K=12288; torch.matmul";
  const auto result = validation::validate(a100_node, {host, kernel}, {});
  ASSERT_EQ(result.cases.size(), 2u);
  EXPECT_NEAR(result.cases[0].predicted_ms - result.cases[1].predicted_ms, 0.020, 1e-9);
  EXPECT_NE(result.cases[0].model.find("host-timed torch.matmul"), std::string::npos);
}

// Every row is named by its id in the outputs: a row without one, or with another row's, is
// refused at its line.
TEST(GpuValidation, RowsNeedIdsOfTheirOwn) {
  const std::string header = "id,category,hardware,workload,settings,metric,value,unit,kind,source,notes\n";
  const std::string row = ",GEMM,A100,gemm,M=64 N=64 K=64,latency,1.0,ms,measured,paper,\n";
  const testing::TempFile missing("no_id.csv", header + "a" + row + row);
  try {
    validation::read_measurements(missing.path);
    FAIL() << "a row without an id loaded";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(missing.path + ":3: column 'id' is empty", 0), 0u) << error.what();
  }
  const testing::TempFile twice("same_id.csv", header + "a" + row + "a" + row);
  try {
    validation::read_measurements(twice.path);
    FAIL() << "two rows with one id loaded";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()).rfind(twice.path + ":3: id 'a' appears twice", 0), 0u) << error.what();
  }
}

// Softmax, layernorm and GELU sweeps from 1K to 512M elements, timed around one PyTorch call:
// the category must stay within the 20% (reached 10.6%), and each operator near what
// it reaches, 2-3 points above: softmax 22% (19.6%; PyTorch's block softmax re-reads rows
// over 1024 elements, which the streaming model does not), layernorm 10% (7.9%), GELU 6% (3.6%).
TEST(GpuValidation, A100VectorOpRowsStayWithinTheTarget) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const auto result = validation::validate(a100_node, rows_of("a100_vector_ops.csv"), {});
  ASSERT_EQ(result.cases.size(), 64u);
  EXPECT_TRUE(result.skipped.empty());
  EXPECT_LE(validation::mape_by_category(result.cases).at(0).mape_percent, 20.0);
  for (const auto& [op, bound] : {std::pair{"softmax-", 22.0}, {"layernorm-", 10.0}, {"gelu-", 6.0}}) {
    std::vector<CaseResult> cases;
    for (const CaseResult& c : result.cases) {
      if (c.id.rfind(op, 0) == 0) cases.push_back(c);
    }
    ASSERT_GT(cases.size(), 15u) << op;
    EXPECT_LE(mape(cases), bound) << op;
  }
}

// Which harness a vector-op row gets follows from its source: eager softmax pays 10 us of
// dispatch before its kernel, the torch.compile'd GELU never takes under 50 us, and a large
// row pays its kernel beyond the host time spent before the launch.
TEST(GpuValidation, VectorRowsGetTheirHarnessesHostTime) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const auto rows = rows_of("a100_vector_ops.csv");
  const auto result = validation::validate(a100_node, rows, {});
  auto find = [&](const std::string& id) { return case_of(result, id); };
  Measurement kernel_timed = rows.front();
  kernel_timed.source = "a profiler's kernel time";
  const auto alone = validation::validate(a100_node, {kernel_timed}, {});
  ASSERT_EQ(alone.cases.size(), 1u);
  EXPECT_LT(alone.cases[0].predicted_ms, 0.010);  // a 1 MB kernel and its launch, no host time
  EXPECT_NEAR(find("softmax-a100-4096x32").predicted_ms - alone.cases[0].predicted_ms, 0.010, 1e-12);
  EXPECT_NE(find("softmax-a100-4096x32").model.find("eager"), std::string::npos);
  EXPECT_DOUBLE_EQ(find("gelu-a100-1024").predicted_ms, 0.050);
  EXPECT_NE(find("gelu-a100-1024").model.find("torch.compile"), std::string::npos);
  // 512M fp16 elements in and out: 2 GiB over 78% of 2039 GB/s is 1.35 ms, + 35 us; 10 us
  // of tolerance for the launch and the first bytes' latency.
  EXPECT_NEAR(find("gelu-a100-536870912").predicted_ms, 2.0 * 2 * 536870912 / (0.78 * 2039e9) * 1e3 + 0.035, 0.01);
}

// NCCL all-reduces on 2, 4 and 8 A100s, 512 B to 1 GB. The latencies and the achievable
// fraction are fitted on the smallest (<= 4 KB) and largest (>= 128 MB) rows; those below
// 4 KB must stay within 5% (reached 1.8%), the bandwidth-bound ones from 16 MB within 15%
// (11.9%), all within 20% (16.8%): NCCL's slower protocols and fewer channels at 1-16 MB make
// those up to 40% slower than the ring's bandwidth predicts.
TEST(GpuValidation, A100AllReduceRows) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const std::vector<Measurement> rows = rows_of("a100_collectives.csv");
  const auto result = validation::validate(a100_node, rows, {});
  ASSERT_EQ(result.cases.size(), 126u);
  std::vector<CaseResult> small, large;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double elements = std::stod(rows[i].settings.substr(rows[i].settings.find("message_size=") + 13));
    const double bytes = elements * (rows[i].settings.find("dtype=half") != std::string::npos ? 2 : 1);
    if (bytes <= 4096) small.push_back(result.cases[i]);
    if (bytes >= 16e6) large.push_back(result.cases[i]);
  }
  ASSERT_EQ(small.size(), 24u);
  ASSERT_EQ(large.size(), 36u);
  EXPECT_LE(mape(small), 5.0);
  EXPECT_LE(mape(large), 15.0);
  EXPECT_LE(mape(result.cases), 20.0);
}

// A row's `algorithm=` pins the all-reduce's algorithm: on an H100 node (NVLink SHARP) a
// 1 GiB all-reduce costs more by ring than in the switch (ring moves 2(p-1)/p of the message
// each way, the switch 1), and an algorithm the node lacks (a torus) skips the row.
TEST(GpuValidation, CollectiveRowsMayPinTheAlgorithm) {
  validation::Hardware h100_node(arch::load_system(std::string(TESSEL_SOURCE_DIR) + "/configs/systems/dgx_h100.yaml"));
  auto row = [](const std::string& id, const std::string& algorithm) {
    return Measurement{0, id, "collective", "8x H100-SXM5-80GB", "NCCL all_reduce",
                       "dtype=float message_size=268435456" + algorithm, "latency", 1.0, "ms", ""};
  };
  const auto result = validation::validate(
      h100_node, {row("best", ""), row("ring", " algorithm=ring"), row("switch", " algorithm=in-switch"),
                  row("torus", " algorithm=torus"), row("typo", " algorithm=rnig")},
      {});
  ASSERT_EQ(result.cases.size(), 3u);
  ASSERT_EQ(result.skipped.size(), 2u);
  EXPECT_NE(result.skipped[1].reason.find("rnig"), std::string::npos);
  const double ring = case_of(result, "ring").predicted_ms, in_switch = case_of(result, "switch").predicted_ms;
  EXPECT_NE(case_of(result, "ring").model.find("ring"), std::string::npos);
  EXPECT_GT(ring, 1.5 * in_switch);  // 2 * 7/8 = 1.75 times the bytes, less the switch's extra latency
  EXPECT_DOUBLE_EQ(case_of(result, "best").predicted_ms, std::min(ring, in_switch));
}

// LLMCompass's GPT-3 175B layer split over 4 A100s, batch 8: each phase's total within 8%
// (reached -0.1% prefill, +4.3% decode), the 24 operators within 15% (12.0%; the prefill's
// Q.K^T and softmax and the decode all-reduce are the worst, 27-40%).
TEST(GpuValidation, A100x4Gpt3LayerRows) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const auto result = validation::validate(a100_node, rows_of("a100x4_gpt3_layer.csv"), {});
  ASSERT_EQ(result.cases.size(), 26u);
  std::vector<CaseResult> ops;
  for (const CaseResult& c : result.cases) {
    if (c.category == "transformer-layer") {
      EXPECT_LE(std::fabs(c.error_percent()), 8.0) << c.id;
    } else {
      ops.push_back(c);
    }
  }
  ASSERT_EQ(ops.size(), 24u);
  EXPECT_LE(mape(ops), 15.0);
}

// Each phase's total is its twelve operators as predicted, each with its own harness:
// decode's layernorm is the torch.compile floor, its softmax eager, its all-reduces untimed.
TEST(GpuValidation, Gpt3LayerTotalIsItsOperators) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const auto result = validation::validate(a100_node, rows_of("a100x4_gpt3_layer.csv"), {});
  for (const std::string phase : {"prefill", "decode"}) {
    double operators = 0, total = -1;
    for (const CaseResult& c : result.cases) {
      if (c.id.find("-" + phase + "-") == std::string::npos) continue;
      if (c.category == "transformer-layer") {
        total = c.predicted_ms;
      } else {
        operators += c.predicted_ms;
      }
    }
    EXPECT_NEAR(total, operators, 1e-9 * total) << phase;
  }
  auto find = [&](const std::string& id) { return case_of(result, id); };
  EXPECT_DOUBLE_EQ(find("layer-a100x4-gpt3-decode-LayerNorm_MHA").predicted_ms, 0.050);
  EXPECT_NE(find("layer-a100x4-gpt3-decode-Softmax").model.find("eager"), std::string::npos);
  EXPECT_EQ(find("layer-a100x4-gpt3-decode-AllReduce_FFN").model.find("host-timed"), std::string::npos);
  EXPECT_EQ(find("layer-a100x4-gpt3-prefill-Q_K_V").model.rfind("3 x gemm 16384x3072x12288", 0), 0u);
}

// Fused causal context attention: its efficiency is calibrated on the 4096- and 8192-token
// rows, which must stay within 6% (reached 3.7%); the shorter prompts, where launches, waves
// and each block's Q load and O store weigh more, keep the whole category under 20% (16.4%;
// 512-token prompts still come out 37% fast on average).
TEST(GpuValidation, A100ContextAttentionRows) {
  validation::Hardware a100_node(arch::node_of(a100()));
  const std::vector<Measurement> rows = rows_of("a100_attention.csv");
  const auto result = validation::validate(a100_node, rows, {});
  ASSERT_EQ(result.cases.size(), 74u);
  std::vector<CaseResult> long_prompts;
  for (const CaseResult& c : result.cases) {
    if (c.id.find("-s4096-") != std::string::npos || c.id.find("-s8192-") != std::string::npos) long_prompts.push_back(c);
  }
  ASSERT_GT(long_prompts.size(), 20u);
  EXPECT_LE(mape(long_prompts), 6.0);
  EXPECT_LE(mape(result.cases), 20.0);
}

TEST(GpuValidation, CliPrintsCasesAndWritesTheColumns) {
  const auto out = testing::fresh_dir("gpu_validate");
  const testing::CliResult result = testing::run_tessel(
      "validate --arch configs/arch/a100_sxm.yaml --measurements tests/data/validation/a100_gemm.csv --out " +
      out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("predicted_ms"), std::string::npos);
  EXPECT_NE(result.output.find("MAPE per category"), std::string::npos);
  const std::vector<std::string> lines = testing::read_lines((out / "validation.csv").string());
  ASSERT_EQ(lines.size(), 81u);
  EXPECT_EQ(lines[0], "id,category,predicted_ms,measured_ms,error_percent");
  EXPECT_EQ(lines[1].rfind("gemm-a100-llmc-64x12288x12288,GEMM,", 0), 0u);
  const std::string summary = testing::read_text(out / "summary.json");
  EXPECT_NE(summary.find("\"mape_percent\""), std::string::npos);
  std::filesystem::remove_all(out);
}

TEST(GpuValidation, CliExitCodes) {
  const std::string rows = " --measurements tests/data/validation/a100_gemm.csv";
  // Any device predicts the rows; one without the rows' format skips them, saying why.
  const testing::CliResult tpu = testing::run_tessel("validate --arch configs/arch/tpu_v1.yaml" + rows);
  EXPECT_EQ(tpu.exit_code, 0);
  EXPECT_NE(tpu.output.find("80 GEMM: bf16 not on this device"), std::string::npos) << tpu.output;
  EXPECT_EQ(testing::run_tessel("validate --arch configs/arch/a100_sxm.yaml --measurements nowhere.csv").exit_code,
            1);
  EXPECT_EQ(testing::run_tessel("validate" + rows).exit_code, 2);  // --arch missing
  const testing::CliResult other = testing::run_tessel("validate --arch configs/arch/a100_sxm.yaml --hardware MI210" + rows);
  EXPECT_EQ(other.exit_code, 0);
  EXPECT_NE(other.output.find("skipped 80 row(s)"), std::string::npos) << other.output;
}

}  // namespace
}  // namespace tessel
