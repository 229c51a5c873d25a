// Models on systems: what follows from the mechanisms of a timeline of devices and links.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli_runner.h"
#include "run_helpers.h"
#include "sim/report/report.h"
#include "sim/report/system_layout.h"
#include "sim/system/run_system.h"
#include "test_files.h"

namespace tessel::sim {
namespace {

const std::string kSource = TESSEL_SOURCE_DIR;

arch::SystemSpec system(const std::string& path) { return arch::load_system(kSource + "/" + path); }

ParallelPlan plan(uint64_t tp, uint64_t pp = 1, uint64_t dp = 1, uint64_t microbatches = 0) {
  ParallelPlan p;
  p.tensor = tp;
  p.pipeline = pp;
  p.data = dp;
  p.microbatches = microbatches;
  return p;
}

SystemRunResult run(const std::string& system_file, const std::string& model, const ModelRequest& request,
                    const ParallelPlan& p, bool record_events = false, arch::DType dtype = arch::DType::Bf16) {
  SystemRunOptions options;
  options.record_events = record_events;
  return run_system(system(system_file), ModelWorkload{workloads::model_preset(model), request}, p,
                    testing::timing_only(dtype), options);
}

// One device of a system is the one-device run, to the cycle: its timeline adds up its ops.
TEST(SystemRun, OneDeviceOfASystemIsTheSingleDeviceRun) {
  const ModelRequest request = testing::generate_request(2, 128, 4);
  const SystemRunResult system_run = run("configs/systems/dgx_a100.yaml", "llama2-7b", request, plan(1));
  const RunResult alone = testing::run_model(arch::load_arch(kSource + "/configs/arch/a100_sxm.yaml"),
                                             workloads::model_preset("llama2-7b"), request,
                                             testing::timing_only(arch::DType::Bf16));
  EXPECT_EQ(system_run.seconds(), alone.seconds());
  EXPECT_EQ(system_run.ttft_s(), alone.ttft_s());
  EXPECT_EQ(system_run.tpot_s(), alone.tpot_s());
  const RunResult& stage = system_run.stages.at(0).run;
  ASSERT_EQ(stage.steps.size(), alone.steps.size());
  alone.for_each_step([&](size_t i, const StepResult& step) {
    ASSERT_EQ(stage.steps[i].ops.size(), step.ops.size());
    for (size_t j = 0; j < step.ops.size(); ++j) EXPECT_EQ(stage.steps[i].ops[j].cycles, step.ops[j].cycles);
  });
  double energy = 0;
  for (const StepResult& step : alone.steps) energy += step.energy.total_pj();
  // Equal but for the order of the sums (components first, or steps first).
  EXPECT_NEAR(system_run.energy().total_pj(), energy, 1e-12 * energy);
  EXPECT_EQ(system_run.energy().link_pj, 0.0) << "no links crossed";
  const nlohmann::json system_summary = report_bundle(system_run).summary;
  const nlohmann::json summary = report_bundle(alone).summary;
  for (const auto& [key, value] : summary.items()) {
    if (key != "arch_file" && key != "energy_pj" && key != "energy_breakdown_pj" && key != "group_energy_pj") {
      EXPECT_EQ(system_summary.at(key), value) << key;
    }
  }
}

// A pipeline of stages taking t_s a micro-batch, m micro-batches through it in order and
// transfers that cost nothing: it ends at sum(t_s) + (m - 1) max(t_s). With p equal stages each
// idles (p - 1) / (m + p - 1) of the time, and the slowest stage never more. Here the first and
// last stages also hold the embeddings and the LM head (prefill: streaming the head's weights
// for the last tokens), so the last is the slowest and the middle ones idle a few points more.
TEST(SystemRun, PipelineBubblesFollowTheStages) {
  const uint64_t p = 4, m = 8;
  const SystemRunResult result = run("tests/data/systems/ideal_links_x8.yaml", "llama2-7b",
                                     testing::prefill_request(8, 256), plan(1, p, 1, m));
  double sum = 0, slowest = 0;
  for (size_t s = 0; s < p; ++s) {
    const double per_microbatch = result.stage_busy_s(s) / m;
    sum += per_microbatch;
    slowest = std::max(slowest, per_microbatch);
  }
  EXPECT_NEAR(result.seconds(), sum + (m - 1) * slowest, 1e-3 * result.seconds());
  const double equal_stages = (p - 1.0) / (m + p - 1.0);
  EXPECT_LE(1 - result.stage_busy_s(p - 1) / result.seconds(), equal_stages + 1e-3);
  for (size_t s : {1, 2}) EXPECT_NEAR(1 - result.stage_busy_s(s) / result.seconds(), equal_stages, 0.04) << s;
  // One stage: no bubbles.
  const SystemRunResult alone = run("tests/data/systems/ideal_links_x8.yaml", "llama2-7b",
                                    testing::prefill_request(8, 256), plan(1, 1, 1, m));
  EXPECT_EQ(alone.stage_busy_s(0), alone.seconds());
}

// However a model is split, no device beats its own roofline, nor the system the model's MACs
// at every device's peak.
TEST(SystemRun, SplittingNeverBeatsTheRoofline) {
  const ModelRequest request = testing::prefill_request(4, 512);
  for (const ParallelPlan& p : {plan(1), plan(4), plan(1, 4), plan(2, 2), plan(4, 4), plan(4, 2, 2)}) {
    const SystemRunResult result = run("configs/systems/tpu_v4_4x4x4.yaml", "llama2-13b", request, p);
    const double clock = result.device.clock_hz;
    const double peak = result.device.peak_macs_per_cycle(arch::DType::Bf16) * clock;
    EXPECT_GE(result.seconds(),
              static_cast<double>(result.total_macs()) / (static_cast<double>(result.devices_used()) * peak));
    for (const StageRun& stage : result.stages) {
      double floor = 0;
      for (const StepResult& step : stage.run.steps) floor += static_cast<double>(step.roofline_cycles);
      EXPECT_GE(result.seconds(), floor * static_cast<double>(result.plan.microbatches) / clock);
    }
  }
}

// Data-parallel replicas serve their shares side by side: twice the replicas and the batch
// take the same time and give twice the tokens.
TEST(SystemRun, DataParallelReplicasServeTheirShares) {
  const SystemRunResult one =
      run("configs/systems/dgx_a100.yaml", "llama2-7b", testing::generate_request(4, 256, 4), plan(4, 1, 1));
  const SystemRunResult two =
      run("configs/systems/dgx_a100.yaml", "llama2-7b", testing::generate_request(8, 256, 4), plan(4, 1, 2));
  EXPECT_EQ(two.seconds(), one.seconds());
  EXPECT_DOUBLE_EQ(two.tokens_per_s(), 2 * one.tokens_per_s());
  EXPECT_NEAR(two.energy().total_pj(), 2 * one.energy().total_pj(), 1e-9 * one.energy().total_pj());
}

// Tensor parallelism on any kind: a TPU slice's shards reduce over the torus, and the links'
// energy is the bytes they carry at the level's energy per byte.
TEST(SystemRun, TensorParallelOnATorusPaysItsLinks) {
  const SystemRunResult result =
      run("configs/systems/tpu_v4_4x4x4.yaml", "llama2-7b", testing::decode_request(8, 512), plan(4));
  double link_pj = 0;
  for (const OpResult& op : result.stages[0].run.steps[0].ops) {
    if (!op.communication) continue;
    EXPECT_NE(op.mapping.find("torus"), std::string::npos) << op.mapping;
    double bytes = 0;
    for (const arch::CollectivePhase& phase : op.communication->phases) {
      for (const arch::LinkUse& use : phase.uses) bytes += use.bytes;
    }
    EXPECT_DOUBLE_EQ(op.energy.link_pj, bytes * 44.0);
    link_pj += op.energy.link_pj * static_cast<double>(op.repeats);
  }
  EXPECT_GT(link_pj, 0);
  EXPECT_NEAR(result.energy().link_pj, 4 * link_pj, 1e-9 * link_pj) << "every shard's";
}

// Stages on slow links: each micro-batch's activations cross one Ethernet port after another,
// so the run lasts at least every send's transfer; no link is busier than the run.
TEST(SystemRun, SendsShareTheirLinks) {
  const SystemRunResult result = run("configs/systems/u280_x4.yaml", "llama2-7b", testing::prefill_request(4, 512),
                                     plan(1, 4, 1, 4), false, arch::DType::Int8);
  uint64_t send_cycles = 0;
  for (const OpResult& op : result.stages[0].run.steps[0].ops) {
    if (op.kind == workloads::OpKind::Send) send_cycles = op.cycles;
  }
  ASSERT_GT(send_cycles, 0u);
  EXPECT_GE(result.seconds(), 4.0 * static_cast<double>(send_cycles) / result.device.clock_hz);
  ASSERT_EQ(result.links.size(), 1u);
  EXPECT_GT(result.links[0].bytes, 0);
  EXPECT_LE(result.links[0].utilization, 1.0);
}

std::string refusal(const std::string& system_file, const std::string& model, const ModelRequest& request,
                    const ParallelPlan& p) {
  try {
    run(system_file, model, request, p);
  } catch (const SettingError& error) {
    return error.what();
  }
  return "";
}

TEST(SystemRun, PlansTheSystemCannotHoldAreRefused) {
  const ModelRequest request = testing::decode_request(2, 100);
  EXPECT_NE(refusal("configs/systems/tpu_v4_4x4x4.yaml", "llama2-7b", request, plan(8, 16)).find("needs 128 devices"),
            std::string::npos);
  EXPECT_NE(refusal("configs/systems/h100_cluster_4x8.yaml", "llama2-7b", request, plan(12)).find("straddle"),
            std::string::npos);
  EXPECT_NE(refusal("configs/systems/dgx_a100.yaml", "llama2-7b", testing::decode_request(3, 100), plan(1, 1, 2))
                .find("--dp 2"),
            std::string::npos);
  const std::string short_of_memory =
      refusal("configs/systems/tpu_v4_4x4x4.yaml", "llama2-70b", testing::decode_request(1, 100), plan(1));
  EXPECT_NE(short_of_memory.find("GB short"), std::string::npos) << short_of_memory;
  EXPECT_NE(short_of_memory.find("stage 0"), std::string::npos) << short_of_memory;
}

// The trace has a track for each stage's device and each stage's links, in the Trace Event
// Format's complete events.
TEST(SystemRun, TraceShowsStagesAndLinks) {
  const SystemRunResult result = run("configs/systems/tpu_v4_4x4x4.yaml", "tiny", testing::generate_request(2, 16, 2),
                                     plan(2, 2), true);
  const nlohmann::json trace = nlohmann::json::parse(printed([&](std::ostream& out) { write_trace(result, out); }));
  std::set<std::string> tracks;
  size_t complete = 0;
  for (const nlohmann::json& event : trace["traceEvents"]) {
    if (event["ph"] == "M" && event["name"] == "thread_name") tracks.insert(event["args"]["name"].get<std::string>());
    if (event["ph"] == "X") {
      ++complete;
      EXPECT_GE(event["dur"].get<double>(), 0.0);
    }
  }
  for (const char* track : {"stage 0", "stage 1", "stage 0 ici"}) EXPECT_TRUE(tracks.count(track)) << track;
  EXPECT_GT(complete, 10u);
}

TEST(SystemRun, CommandLine) {
  const auto out = testing::fresh_dir("system_run");
  const std::string trace = (out / "trace.json").string();
  std::filesystem::create_directories(out);
  const auto result = testing::run_tessel(
      "run --system configs/systems/tpu_v4_4x4x4.yaml --model tiny --phase generate --input 16 --output 2 --tp 2 "
      "--pp 2 --quiet --out " + out.string() + " --trace " + trace);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  EXPECT_EQ(summary["plan"]["pp"], 2);
  EXPECT_EQ(summary["system"]["devices"], 64);
  EXPECT_EQ(summary["devices"].size(), 2u);
  EXPECT_EQ(summary["links"][0]["level"], "ici");
  const std::vector<std::string> rows = testing::read_lines((out / "layers.csv").string());
  EXPECT_EQ(rows[0].substr(rows[0].rfind(',') + 1), "stage");
  EXPECT_EQ(rows.back().substr(rows.back().rfind(',') + 1), "1");
  EXPECT_TRUE(nlohmann::json::parse(testing::read_text(trace)).contains("traceEvents"));
  std::filesystem::remove_all(out);

  const auto gemm = testing::run_tessel("run --system configs/systems/dgx_a100.yaml --gemm 64,64,64");
  EXPECT_NE(gemm.exit_code, 0);
  const auto lone = testing::run_tessel("run --arch configs/arch/tpu_v4_like.yaml --model tiny --tp 2");
  EXPECT_EQ(lone.exit_code, 1);
  EXPECT_NE(lone.output.find("--system"), std::string::npos) << lone.output;
  const auto neither = testing::run_tessel("run --model tiny");
  EXPECT_EQ(neither.exit_code, 2) << neither.output;
}

}  // namespace
}  // namespace tessel::sim
