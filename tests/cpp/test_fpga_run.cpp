// FPGA designs run on the same engines as any architecture: a batch-1 decode is bound by HBM,
// GEMMs pass the same numerics check, and the reports carry the design's resources.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "arch/load_arch.h"
#include "cli_runner.h"
#include "run_helpers.h"
#include "test_files.h"

namespace tessel::sim {
namespace {

using workloads::OpKind;

const std::string kArchDir = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/";

// Llama-2-7B, one decode step at batch 1 over 1,024 cached tokens, timing only.
RunResult llama_decode(const arch::SystolicSpec& spec, arch::DType dtype) {
  return testing::run_model(spec, workloads::model_preset("llama2-7b"), testing::decode_request(1, 1024),
                            testing::timing_only(dtype));
}

// A batch-1 decode reads every weight and the KV cache once. Every Linear is memory-bound by
// the roofline and takes its own DRAM bytes at HBM bandwidth within 15% (measured: 3-11%
// over; the largest is a 4,096 x 4,096 projection in 7 K tiles, whose first tile's load and
// last tile's compute do not overlap, while the arrays ingest 2,048 B a cycle against HBM's
// 1,533 and 1,673). The whole step is at least the weight and KV bytes at HBM bandwidth and
// within 25% of it (measured: 18% over on u280_int8, 12% on u280_fp16): the attention of one
// query on 256-column arrays pays each 512-key block's fill and drain (rows + cols - 2 cycles
// a product), about 12% of the int8 step; norms, SiLU and residuals on one unit's vector unit
// add most of the rest.
TEST(FpgaRun, BatchOneDecodeIsBoundByHbm) {
  for (const auto& [file, dtype] : {std::pair{"u280_int8.yaml", arch::DType::Int8},
                                    std::pair{"u280_fp16.yaml", arch::DType::Fp16}}) {
    const arch::SystolicSpec spec = arch::load_systolic_spec(kArchDir + file);
    const RunResult result = llama_decode(spec, dtype);
    const StepResult& step = result.steps.front();
    const double bytes_per_cycle = spec.dram.bytes_per_cycle;
    for (const OpResult& op : step.ops) {
      if (op.kind != OpKind::Linear) continue;
      EXPECT_EQ(op.roofline.bound(), "memory") << file << " " << op.name;
      const double floor = static_cast<double>(op.activity.dram_read_bytes + op.activity.dram_write_bytes) / bytes_per_cycle;
      EXPECT_GE(static_cast<double>(op.cycles), floor) << file << " " << op.name;
      EXPECT_LE(static_cast<double>(op.cycles), 1.15 * floor) << file << " " << op.name;
    }
    const workloads::ModelConfig config = workloads::model_preset("llama2-7b");
    const workloads::OpGraph graph =
        workloads::build_model(config, workloads::Phase::decode(1, 1024), workloads::AttentionImpl::Fused);
    const double element = arch::bytes_of(dtype);
    // The weights less the embedding table (a step reads one row of it), and K and V of
    // 1,025 positions in every layer.
    double embedding_table = 0;
    graph.for_each_op([&](const workloads::Op& op, uint64_t) {
      if (op.kind == OpKind::Embedding) embedding_table += static_cast<double>(op.parameters()) * element;
    });
    const double weights = static_cast<double>(graph.total_parameters()) * element - embedding_table;
    const double kv = 1025.0 * 2 * element * static_cast<double>(config.num_key_value_heads * config.head_dim *
                                                                  config.num_hidden_layers);
    const double floor = (weights + kv) / bytes_per_cycle;
    EXPECT_GE(static_cast<double>(step.cycles), floor) << file;
    EXPECT_LE(static_cast<double>(step.cycles), 1.25 * floor) << file;
  }
}

// The FPGA designs compute on the shared datapath: a GEMM checked against Eigen (int8 bit
// for bit, fp16 within Higham's bound) passes, and summary.json carries the resources.
TEST(FpgaRun, GemmPassesTheNumericsCheckAndReportsResources) {
  for (const auto& [file, dtype] : {std::pair{"u280_int8.yaml", "int8"}, std::pair{"u280_fp16.yaml", "fp16"},
                                    std::pair{"u200_int8.yaml", "int8"}}) {
    const std::filesystem::path out = testing::fresh_dir(std::string("fpga_gemm_") + dtype);
    const auto run = testing::run_tessel("run --arch configs/arch/" + std::string(file) + " --gemm 37,300,129 --dtype " +
                                         dtype + " --quiet --out " + out.string());
    ASSERT_EQ(run.exit_code, 0) << file << "\n" << run.output;
    const nlohmann::json s = nlohmann::json::parse(testing::read_text(out / "summary.json"));
    EXPECT_TRUE(s["numerics"]["checked"].get<bool>()) << file;
    EXPECT_TRUE(s["numerics"]["passed"].get<bool>()) << file;
    ASSERT_TRUE(s.contains("resources")) << file;
    EXPECT_EQ(s["resources"][0]["name"], "DSP") << file;
    EXPECT_GT(s["resources"][0]["used"].get<uint64_t>(), 0u) << file;
    std::filesystem::remove_all(out);
  }
}

TEST(FpgaRun, ModelSummaryCarriesResourcesOnlyForFpga) {
  for (const auto& [file, expected] : {std::pair{"u280_int8.yaml", true}, std::pair{"tpu_v4_like.yaml", false}}) {
    const std::filesystem::path out = testing::fresh_dir("fpga_model_summary");
    const auto run = testing::run_tessel("run --arch configs/arch/" + std::string(file) +
                                         " --model tiny --phase decode --kv-len 8 --no-check --quiet --out " + out.string());
    ASSERT_EQ(run.exit_code, 0) << file << "\n" << run.output;
    const nlohmann::json s = nlohmann::json::parse(testing::read_text(out / "summary.json"));
    EXPECT_EQ(s.contains("resources"), expected) << file;
    std::filesystem::remove_all(out);
  }
}

}  // namespace
}  // namespace tessel::sim
