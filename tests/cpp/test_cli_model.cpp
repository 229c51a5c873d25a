// `tessel run --model` as a user's script sees it: summary keys, one layers.csv row per
// operator and step, exit codes for bad requests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;
const std::string kTpu = "configs/arch/tpu_v4_like.yaml";

size_t count_lines(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

TEST(CliModel, GenerateWritesTimesPerTokenAndOneRowPerOpAndStep) {
  const fs::path out = testing::fresh_dir("cli_model_generate");
  const auto result = testing::run_tessel("run --arch " + kTpu + " --model tiny --phase generate --batch 2 --input 16 "
                                          "--output 3 --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("TTFT"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("one layer"), std::string::npos) << "per-layer total printed";
  EXPECT_NE(result.output.find("whole model"), std::string::npos) << "whole-model total printed";
  EXPECT_NE(result.output.find("[4/4]"), std::string::npos) << "progress per step";

  const nlohmann::json s = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_EQ(s["phase"], "generate");
  EXPECT_EQ(s["steps"], 4);
  const double seconds = s["seconds"].get<double>();
  const double ttft = s["ttft_s"].get<double>();
  const double tpot = s["tpot_s"].get<double>();
  EXPECT_NEAR(ttft + 3 * tpot, seconds, 1e-12 * seconds);
  EXPECT_NEAR(s["tokens_per_s"].get<double>(), 2 * 3 / seconds, 1e-9);
  EXPECT_EQ(s["layers"], 2);
  EXPECT_TRUE(s["per_layer"].contains("prefill"));
  EXPECT_TRUE(s["per_layer"].contains("decode"));
  EXPECT_TRUE(s["numerics"]["checked"].get<bool>()) << "the tiny model is checked op by op by default";
  EXPECT_TRUE(s["numerics"]["passed"].get<bool>());

  const std::string csv = testing::read_text(out / "layers.csv");
  const std::string header =
      "step,phase,op,kind,shape,repeats,flops,bytes,dram_read_bytes,dram_write_bytes,sram_read_bytes,"
      "sram_write_bytes,cycles,total_cycles,"
      "roofline_cycles,bound,utilization,dram_utilization,energy_pj,total_energy_pj";
  EXPECT_EQ(csv.rfind(header, 0), 0u) << csv.substr(0, csv.find('\n'));
  // The tiny model: prefill has 15 ops (no cache read), each decode step 16.
  EXPECT_EQ(count_lines(csv), 1u + 15 + 3 * 16);
  EXPECT_NE(csv.find("\n0,prefill,attn.attention,Attention,2x4:2x16x16x16,2,"), std::string::npos);
  EXPECT_NE(csv.find("\n3,decode,attn.attention,Attention,2x4:2x1x19x16,2,"), std::string::npos)
      << "the last decode step attends to the 16 prompt tokens, 2 generated and its own";
  fs::remove_all(out);
}

TEST(CliModel, PrefillAndDecodeReportTheirPhase) {
  const fs::path out = testing::fresh_dir("cli_model_decode");
  const auto decode = testing::run_tessel("run --arch " + kTpu + " --model gpt2 --phase decode --batch 4 --kv-len 100 "
                                          "--attention unfused --no-check --quiet --out " + out.string());
  ASSERT_EQ(decode.exit_code, 0) << decode.output;
  EXPECT_EQ(decode.output, "") << "--quiet prints nothing";
  const nlohmann::json s = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_EQ(s["phase"], "decode");
  EXPECT_EQ(s["attention"], "unfused");
  EXPECT_EQ(s["request"]["kv_len"], 100);
  EXPECT_TRUE(s["ttft_s"].is_null());
  EXPECT_NE(testing::read_text(out / "layers.csv").find(",attn.scores,BatchedMatmul,48x1x101x64,"), std::string::npos);
  fs::remove_all(out);
}

TEST(CliModel, BadRequestsExitWithInputError) {
  const auto run = [](const std::string& flags) { return testing::run_tessel("run --arch " + kTpu + " " + flags); };
  const auto phase = run("--model tiny --phase train");
  EXPECT_EQ(phase.exit_code, 1);
  EXPECT_NE(phase.output.find("--phase 'train'"), std::string::npos) << phase.output;
  const auto model = run("--model llama9 --phase prefill");
  EXPECT_EQ(model.exit_code, 1);
  EXPECT_NE(model.output.find("llama2-70b"), std::string::npos) << "lists the presets: " << model.output;
  const auto both = run("--model tiny --gemm 4,4,4");
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.output.find("--gemm"), std::string::npos) << both.output;
  const auto zero = run("--model tiny --phase prefill --seq 0");
  EXPECT_EQ(zero.exit_code, 2) << "outside --seq's range, a usage error";
  EXPECT_NE(zero.output.find("--seq"), std::string::npos) << zero.output;
  const auto encoder = run("--model bert-base --phase decode");
  EXPECT_EQ(encoder.exit_code, 1) << encoder.output;
  const auto attention = run("--model tiny --attention paged");
  EXPECT_EQ(attention.exit_code, 1);
  EXPECT_NE(attention.output.find("--attention 'paged'"), std::string::npos) << attention.output;
}

TEST(CliModel, HuggingFaceConfigRuns) {
  const fs::path out = testing::fresh_dir("cli_model_hf");
  const auto result = testing::run_tessel("run --arch " + kTpu + " --model tests/data/hf/mistral-7b/config.json "
                                          "--phase decode --kv-len 64 --no-check --quiet --out " + out.string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto preset = testing::run_tessel("run --arch " + kTpu + " --model mistral-7b --phase decode --kv-len 64 "
                                          "--no-check --quiet --out " + out.string() + "_preset");
  ASSERT_EQ(preset.exit_code, 0) << preset.output;
  const nlohmann::json a = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  const nlohmann::json b = nlohmann::json::parse(testing::read_text(fs::path(out.string() + "_preset") / "summary.json"));
  EXPECT_EQ(a["total_cycles"], b["total_cycles"]) << "the published config.json is the preset";
  fs::remove_all(out);
  fs::remove_all(out.string() + "_preset");
}

// What a config asks for that tessel does not model is warned of on stderr and listed in every
// summary of a run of the model: one device, a system, a training iteration, a plan search and
// each point of a sweep (whose stderr says it once).
TEST(CliModel, ConfigWarningsReachStderrAndEverySummary) {
  const std::string model = "tests/data/hf/tiny-bnb/config.json";
  const std::string warning = model + ": field 'quantization_config': ";
  const auto expect_warned = [&](const testing::CliResult& result, const fs::path& summary, const std::string& what) {
    ASSERT_EQ(result.exit_code, 0) << what << ": " << result.output;
    EXPECT_NE(result.output.find("tessel: warning: " + warning), std::string::npos) << what << ": " << result.output;
    const nlohmann::json warnings = nlohmann::json::parse(testing::read_text(summary))["warnings"];
    ASSERT_EQ(warnings.size(), 1u) << what;
    EXPECT_EQ(warnings[0].get<std::string>().rfind(warning, 0), 0u) << what << ": " << warnings[0];
  };
  const fs::path out = testing::fresh_dir("cli_model_warnings");
  const std::string system = "tests/data/systems/ideal_links_x8.yaml";
  expect_warned(testing::run_tessel("run --arch " + kTpu + " --model " + model + " --no-check --quiet --out " +
                                    (out / "run").string()),
                out / "run" / "summary.json", "run");
  expect_warned(testing::run_tessel("run --system " + system + " --tp 2 --model " + model +
                                    " --no-check --quiet --out " + (out / "system").string()),
                out / "system" / "summary.json", "run --system");
  const std::string train = "train --system " + system + " --model " + model + " --global-batch 4 --seq 16 ";
  expect_warned(testing::run_tessel(train + "--tp 2 --no-check --quiet --out " + (out / "train").string()),
                out / "train" / "summary.json", "train");
  expect_warned(testing::run_tessel(train + "--search --jobs 1 --quiet --out " + (out / "search").string()),
                out / "search" / "summary.json", "train --search");
  const testing::TempFile spec("warned_sweep.yaml", "arch: " + std::string(TESSEL_SOURCE_DIR) + "/" + kTpu +
                                                        "\nvary:\n  dram.bandwidth_gb_s: [100, 200]\nrun:\n  model: " +
                                                        model + "\n  no-check: true\n");
  const auto sweep = testing::run_tessel("sweep --quiet --spec " + spec.path + " --out " + (out / "sweep").string());
  expect_warned(sweep, out / "sweep" / "points" / "1" / "summary.json", "sweep");
  size_t said = 0;
  for (size_t at = sweep.output.find(warning); at != std::string::npos; at = sweep.output.find(warning, at + 1)) ++said;
  EXPECT_EQ(said, 1u) << sweep.output;
  fs::remove_all(out);
}

}  // namespace
}  // namespace tessel
