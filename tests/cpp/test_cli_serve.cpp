// `tessel serve` from the command line: the reports it writes and the keys scripts read, and
// its errors for input it cannot use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cpp/cli_runner.h"
#include "tests/cpp/test_files.h"

namespace tessel {
namespace {

namespace fs = std::filesystem;

const std::string kServe = "serve --arch configs/arch/tpu_v4_like.yaml --model llama2-7b ";

TEST(CliServe, WritesTheContractedReports) {
  const fs::path out = testing::fresh_dir("cli_serve");
  const auto result = testing::run_tessel(kServe + "--arrivals poisson:20 --requests-count 10 --prompt-len 200 "
                                          "--output-len 6 --slo-ttft-ms 500 --slo-tpot-ms 50 --out " +
                                          out.string() + " --trace " + (out / "trace.json").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("TTFT"), std::string::npos) << "the table is printed";
  const nlohmann::json summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  for (const char* key : {"ttft_s", "tpot_s", "e2e_s", "queueing_s"}) {
    for (const char* stat : {"mean", "p50", "p90", "p99"}) EXPECT_TRUE(summary[key].contains(stat)) << key << stat;
  }
  for (const char* key : {"throughput", "goodput_requests_per_s", "slo_attainment", "energy_per_output_token_j",
                          "kv_cache", "limit", "scheduler", "preemptions", "tessel_commit"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  EXPECT_EQ(summary["load"]["requests"].get<int>(), 10);
  const std::string requests = testing::read_text(out / "requests.csv");
  EXPECT_EQ(requests.substr(0, requests.find('\n')),
            "id,arrival_s,prompt_tokens,output_tokens,queueing_s,ttft_s,tpot_s,e2e_s,finish_s,preemptions,replica");
  const std::string iterations = testing::read_text(out / "iterations.csv");
  EXPECT_EQ(iterations.substr(0, iterations.find('\n')),
            "iteration,engine,start_s,seconds,sequences,prefill_tokens,decode_tokens,kv_blocks_used,kv_share,"
            "waiting,preempted,limit,energy_j,dram_bytes,replica");
  const nlohmann::json trace = nlohmann::json::parse(testing::read_text(out / "trace.json"));
  EXPECT_GT(trace["traceEvents"].size(), 30u) << "iterations and each request's wait, prefill and decode";
}

TEST(CliServe, ReplicasShowInEveryReport) {
  // Three copies of the chip: the summary says so, every request and iteration names its copy
  // (each used), and the trace gives each copy a track.
  const fs::path out = testing::fresh_dir("cli_serve_replicas");
  const auto result = testing::run_tessel(kServe + "--replicas 3 --concurrency 6 --requests-count 12 --prompt-len 100 "
                                          "--output-len 4 --out " + out.string() + " --trace " +
                                          (out / "trace.json").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("served on 3 replicas of tpu_v4_like"), std::string::npos) << result.output;
  EXPECT_EQ(nlohmann::json::parse(testing::read_text(out / "summary.json"))["replicas"], 3);
  for (const char* file : {"requests.csv", "iterations.csv"}) {
    std::ifstream csv(out / file);
    std::set<std::string> replicas;
    std::string line;
    std::getline(csv, line);
    while (std::getline(csv, line)) replicas.insert(line.substr(line.rfind(',') + 1));
    EXPECT_EQ(replicas, (std::set<std::string>{"0", "1", "2"})) << file;
  }
  const std::string trace = testing::read_text(out / "trace.json");
  EXPECT_NE(trace.find("devices, replica 2"), std::string::npos);
  EXPECT_EQ(testing::run_tessel(kServe + "--replicas 0 --concurrency 2").exit_code, 2) << "at least one copy";
}

TEST(CliServe, ExactlyOneSourceOfRequests) {
  EXPECT_EQ(testing::run_tessel(kServe).exit_code, 2);
  EXPECT_EQ(testing::run_tessel(kServe + "--arrivals poisson:1 --concurrency 2").exit_code, 2);
  EXPECT_EQ(testing::run_tessel(kServe + "--concurrency 2 --prefill-arch configs/arch/h100_sxm.yaml").exit_code, 2)
      << "a prefill pool needs the link its caches cross";
  EXPECT_EQ(testing::run_tessel(kServe + "--concurrency 2 --draft-model tiny").exit_code, 2)
      << "a draft needs its acceptance rate";
  EXPECT_EQ(testing::run_tessel(kServe + "--concurrency 2 --search --tp 2").exit_code, 2)
      << "the search chooses the placement";
  EXPECT_EQ(testing::run_tessel(kServe + "--concurrency 2 --search --replicas 2").exit_code, 2)
      << "the search chooses the placement";
  const auto trace_and_lengths = testing::run_tessel(kServe + "--requests x.csv --prompt-len 10");
  EXPECT_EQ(trace_and_lengths.exit_code, 2) << "lengths apply to generated requests only";
}

TEST(CliServe, BadInputNamesTheFileLineAndColumn) {
  const fs::path dir = testing::fresh_dir("cli_serve_bad");
  fs::create_directories(dir);
  const fs::path trace = dir / "trace.csv";
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens\n0.0,100,10\n0.5,0,10\n";
  auto result = testing::run_tessel(kServe + "--requests " + trace.string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find(trace.string() + ":3: prompt_tokens"), std::string::npos) << result.output;
  result = testing::run_tessel(kServe + "--arrivals poisson:-2");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("--arrivals"), std::string::npos) << result.output;
  result = testing::run_tessel(kServe + "--concurrency 2 --output-len lognormal:3,1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("unknown distribution 'lognormal'"), std::string::npos) << result.output;
  result = testing::run_tessel(kServe + "--concurrency 2 --kv-blocks 4 --prompt-len 1000");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("needs 71 KV blocks"), std::string::npos) << result.output;
}

// A placement file places the devices as the flags that say the same do: the same requests to
// the byte. Its paths are relative to the file.
TEST(CliServe, APlacementFileServesAsItsFlagsDo) {
  const fs::path dir = testing::fresh_dir("cli_placement");
  fs::create_directories(dir);
  const std::string arch = std::string(TESSEL_SOURCE_DIR) + "/configs/arch";
  std::ofstream(dir / "pair.yaml") << "name: pair\n"
                                      "decode: {arch: " << arch << "/a100_sxm.yaml}\n"
                                      "attention:\n"
                                      "  arch: " << arch << "/xeon_8480.yaml\n"
                                      "  ops: [attn.*]\n"
                                      "  link_gbps: 25\n"
                                      "  link_latency_us: 5\n"
                                      "  microbatches: 2\n";
  const std::string load = " --model llama2-7b --arrivals poisson:20 --requests-count 6 --prompt-len 200 "
                           "--output-len 5 --quiet --out ";
  const auto placed = testing::run_tessel("serve --placement " + (dir / "pair.yaml").string() + load +
                                          (dir / "placed").string());
  ASSERT_EQ(placed.exit_code, 0) << placed.output;
  const auto flagged = testing::run_tessel("serve --arch configs/arch/a100_sxm.yaml --attention-arch "
                                           "configs/arch/xeon_8480.yaml --attention-ops 'attn.*' "
                                           "--attention-link-gbps 25 --attention-link-latency-us 5 "
                                           "--attention-microbatches 2" +
                                           load + (dir / "flagged").string());
  ASSERT_EQ(flagged.exit_code, 0) << flagged.output;
  EXPECT_EQ(testing::read_text(dir / "placed" / "requests.csv"), testing::read_text(dir / "flagged" / "requests.csv"));
  const nlohmann::json summary = nlohmann::json::parse(testing::read_text(dir / "placed" / "summary.json"));
  EXPECT_EQ(summary["attention"]["ops"], nlohmann::json::array({"attn.*"}));
  EXPECT_EQ(summary["attention"]["microbatches"], 2);
  EXPECT_GT(summary["attention"]["weight_bytes"].get<double>(), 0) << "the attention projections' weights";
}

TEST(CliServe, APlacementFilesMistakesNameTheLineAndKey) {
  const std::string load = " --model llama2-7b --concurrency 1 --requests-count 1";
  const testing::TempFile both("both.yaml", "name: both\ndecode:\n  arch: a.yaml\n  system: b.yaml\n");
  auto result = testing::run_tessel("serve --placement " + both.path + load);
  EXPECT_NE(result.output.find(both.path + ":2: key 'decode': must give one of arch and system"), std::string::npos)
      << result.output;
  const testing::TempFile unknown("unknown.yaml", "name: u\ndecode: {arch: a.yaml}\nprefil: {}\n");
  result = testing::run_tessel("serve --placement " + unknown.path + load);
  EXPECT_NE(result.output.find(unknown.path + ":3: key 'prefil': unknown key"), std::string::npos) << result.output;
  result = testing::run_tessel("serve --placement configs/placements/h100_prefill_a100_decode.yaml --replicas 2" +
                               load);
  EXPECT_NE(result.output.find("--replicas: --placement"), std::string::npos) << result.output;
  EXPECT_EQ(result.exit_code, 1);
}

}  // namespace
}  // namespace tessel
