// Training iterations on systems: what follows from the schedules, ZeRO and overlapped
// gradient reduction on a timeline of devices and links.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "arch/config_system.h"
#include "cli_runner.h"
#include "run_helpers.h"
#include "sim/system/plan_search.h"
#include "sim/system/run_training.h"
#include "test_files.h"

namespace tessel::sim {
namespace {

const std::string kSource = TESSEL_SOURCE_DIR;
const std::string kIdeal = "tests/data/systems/ideal_links_x8.yaml";

arch::SystemSpec system(const std::string& path) { return arch::load_system(kSource + "/" + path); }

TrainingRequest request(const std::string& model, uint64_t global_batch, uint64_t micro_batch, uint64_t seq) {
  TrainingRequest r;
  r.model = workloads::model_preset(model);
  r.global_batch = global_batch;
  r.micro_batch = micro_batch;
  r.seq = seq;
  return r;
}

TrainingPlan plan(uint64_t tp, uint64_t pp, uint64_t dp, PipelineSchedule schedule = PipelineSchedule::OneFOneB,
                  uint64_t chunks = 1, uint64_t zero = 0) {
  TrainingPlan p;
  p.parallel.tensor = tp;
  p.parallel.pipeline = pp;
  p.parallel.data = dp;
  p.schedule = schedule;
  p.chunks = chunks;
  p.zero = zero;
  return p;
}

TrainingRunResult train(const std::string& system_file, const TrainingRequest& r, const TrainingPlan& p) {
  return run_training(system(system_file), r, p, testing::timing_only(arch::DType::Bf16));
}

uint64_t cycles_of(const StepResult& step) {
  uint64_t cycles = 0;
  for (const OpResult& op : step.ops) cycles += op.cycles * op.repeats;
  return cycles;
}

// One device: the iteration is its passes back to back, m forward and m backward passes (the
// last one's gradients complete) and the optimizer step, to the cycle.
TEST(TrainingRun, OneDeviceRunsItsPassesBackToBack) {
  const TrainingRunResult result = train(kIdeal, request("opt-1.3b", 4, 1, 256), plan(1, 1, 1));
  ASSERT_EQ(result.microbatches, 4u);
  const TrainingStage& stage = result.stages.at(0);
  const TrainingChunk& chunk = stage.chunks.at(0);
  const uint64_t cycles = 4 * cycles_of(chunk.forward) + 3 * cycles_of(chunk.backward) +
                          cycles_of(chunk.backward_last) + cycles_of(stage.optimizer);
  EXPECT_EQ(result.timeline.end_ticks, 1000 * cycles);
  const IterationPhases phases = result.phases(0);
  EXPECT_NEAR(phases.forward_s + phases.backward_s + phases.optimizer_s, result.iteration_s(),
              1e-12 * result.iteration_s());
  EXPECT_NEAR(phases.bubble_s, 0, 1e-12);
  EXPECT_EQ(stage.peak_microbatches, 1u) << "each micro-batch's backward pass follows its forward pass";
}

// With p stages of equal work and m micro-batches, 1F1B and GPipe both keep each stage idle
// (p − 1)/(m + p − 1) of the time. The first and last stages also hold the embeddings and the
// head with its loss, so the middle ones idle a little more: within 4 points. 1F1B holds at
// most p − s micro-batches' activations on stage s, GPipe m.
TEST(TrainingRun, PipelineBubblesAndActivationsFollowTheSchedule) {
  const uint64_t p = 4, m = 8;
  for (const PipelineSchedule schedule : {PipelineSchedule::OneFOneB, PipelineSchedule::GPipe}) {
    const TrainingRunResult result = train(kIdeal, request("llama2-7b", m, 1, 256), plan(1, p, 1, schedule));
    const double equal_stages = (p - 1.0) / (m + p - 1.0);
    for (size_t s : {1, 2}) {
      EXPECT_NEAR(result.phases(s).bubble_s / result.iteration_s(), equal_stages, 0.04) << to_string(schedule) << s;
    }
    for (size_t s = 0; s < p; ++s) {
      const uint64_t held = schedule == PipelineSchedule::GPipe ? m : p - s;
      EXPECT_EQ(result.stages[s].peak_microbatches, held) << to_string(schedule) << " stage " << s;
      EXPECT_EQ(result.stages[s].memory.activations, held * result.stages[s].chunks[0].saved_bytes);
    }
  }
}

// Interleaving v chunks a stage shrinks the bubble v-fold (Narayanan et al., 2021): a middle
// stage idles about (p − 1)/v of a micro-batch's time for every m, within 4 points.
TEST(TrainingRun, InterleavingShrinksTheBubble) {
  const uint64_t p = 4, m = 8, v = 2;
  const TrainingRunResult plain = train(kIdeal, request("llama2-7b", m, 1, 256), plan(1, p, 1));
  const TrainingRunResult interleaved =
      train(kIdeal, request("llama2-7b", m, 1, 256), plan(1, p, 1, PipelineSchedule::Interleaved, v));
  EXPECT_LT(interleaved.iteration_s(), plain.iteration_s());
  const double bubble = (p - 1.0) / v / (m + (p - 1.0) / v);
  EXPECT_NEAR(interleaved.phases(1).bubble_s / interleaved.iteration_s(), bubble, 0.04);
  EXPECT_EQ(interleaved.stages[0].chunks.size(), v);
  EXPECT_EQ(interleaved.stages[1].chunks[1].first_layer, 32u / (p * v) * (p + 1));
  EXPECT_THROW(train(kIdeal, request("llama2-7b", 6, 1, 256), plan(1, p, 1, PipelineSchedule::Interleaved, v)),
               SettingError)
      << "interleaving needs the micro-batches to be a multiple of the stages";
}

// ZeRO-1 shards the optimizer's master weights and moments over the replicas, ZeRO-2 the
// gradients too, ZeRO-3 the parameters too: each divided by dp (rounded up).
TEST(TrainingRun, ZeroDividesTheModelStateByTheReplicas) {
  const uint64_t dp = 8;
  const auto state = [&](uint64_t zero) {
    return train(kIdeal, request("opt-1.3b", 8, 1, 128), plan(1, 1, dp, PipelineSchedule::OneFOneB, 1, zero))
        .stages[0]
        .memory.state;
  };
  const workloads::ModelStateBytes zero0 = state(0), zero1 = state(1), zero2 = state(2), zero3 = state(3);
  const auto divided = [&](uint64_t whole, uint64_t shard) { EXPECT_LE(shard - whole / dp, 8u); };
  EXPECT_EQ(zero0.weights, 2 * zero0.master_weights / 4 * 1);
  divided(zero0.master_weights, zero1.master_weights);
  divided(zero0.optimizer_moments, zero1.optimizer_moments);
  EXPECT_EQ(zero1.gradients, zero0.gradients);
  divided(zero0.gradients, zero2.gradients);
  EXPECT_EQ(zero2.weights, zero0.weights);
  divided(zero0.weights, zero3.weights);
  // 2 + 4 + 4 + 8 bytes a parameter unsharded (bf16 weights, fp32 master weights, gradients
  // and two moments), 18/dp with ZeRO-3.
  EXPECT_EQ(zero0.total(), 18 * zero0.weights / 2);
}

// Data parallelism reduces each layer's gradients while the backward pass goes on: eight
// replicas on an A100 node take longer than one (the last reductions, the optimizer's gather)
// but far less longer than the reductions' whole time on the links.
TEST(TrainingRun, GradientReductionOverlapsTheBackwardPass) {
  const TrainingRunResult one = train("configs/systems/dgx_a100.yaml", request("opt-1.3b", 4, 1, 1024), plan(1, 1, 1));
  const TrainingRunResult eight =
      train("configs/systems/dgx_a100.yaml", request("opt-1.3b", 32, 1, 1024), plan(1, 1, 8));
  double reductions = 0;
  for (const OpResult& op : eight.stages[0].chunks[0].backward_last.ops) {
    if (op.name == "dp.grad_reduce") reductions += op.seconds() * static_cast<double>(op.repeats);
  }
  ASSERT_GT(reductions, 0);
  EXPECT_GT(eight.iteration_s(), one.iteration_s());
  EXPECT_LT(eight.iteration_s() - one.iteration_s(), 0.5 * reductions);
  EXPECT_NEAR(eight.tokens_per_s(), 8 * one.tokens_per_s(), 0.2 * 8 * one.tokens_per_s());
}

// Model FLOPs utilization never exceeds 1, and full recomputation adds a forward pass to what
// the hardware does, not to what the model needs.
TEST(TrainingRun, RecomputationRaisesHardwareButNotModelFlops) {
  TrainingRequest r = request("opt-1.3b", 4, 1, 512);
  const TrainingRunResult plain = train(kIdeal, r, plan(1, 1, 1));
  r.recompute = workloads::Recompute::Full;
  const TrainingRunResult full = train(kIdeal, r, plan(1, 1, 1));
  EXPECT_DOUBLE_EQ(full.model_flops(), plain.model_flops());
  EXPECT_GT(full.hardware_flops(), 1.3 * plain.hardware_flops());
  EXPECT_GT(full.iteration_s(), plain.iteration_s());
  // Each layer keeps only its input, 2sbh bytes, of the plain run's layer's; the head keeps the same.
  const workloads::ModelConfig& model = r.model;
  workloads::TrainingOptions options;
  options.micro_batch = 1;
  options.seq = 512;
  const workloads::TrainingGraphs graphs = workloads::build_training_step(model, options, {}, {});
  uint64_t layer = 0;
  for (const workloads::SavedTensor& t : graphs.layer_saved.at(0)) layer += t.bytes(arch::DType::Bf16);
  const uint64_t layers = model.num_hidden_layers, input = 512 * model.hidden_size * 2;
  EXPECT_EQ(plain.stages[0].memory.activations - full.stages[0].memory.activations, layers * (layer - input));
  for (const TrainingRunResult* result : {&plain, &full}) {
    EXPECT_GT(result->mfu(), 0.05);
    EXPECT_LE(result->mfu(), 1.0);
    EXPECT_GE(result->hfu(), result->mfu());
  }
}

// fp8 training on an H100 node: the layers' products run at the fp8 rate, so the iteration is
// faster than bf16's but not twice (the rest stays in bf16 and the casts are added); the
// weights' fp8 copies and transposes add two bytes a layer weight; the optimizer casts them.
// An A100, which has no fp8 rate, refuses it naming its file.
TEST(TrainingRun, Fp8TrainingMultipliesInFp8AndHoldsFp8WeightCopies) {
  const std::string node = "configs/systems/dgx_h100.yaml";
  const TrainingRequest r = request("llama2-7b", 64, 1, 2048);  // 8 micro-batches a replica
  const TrainingPlan zero1 = plan(1, 1, 8, PipelineSchedule::OneFOneB, 1, 1);
  const TrainingRunResult bf16 = train(node, r, zero1);
  const TrainingRunResult fp8 = run_training(system(node), r, zero1, testing::timing_only(arch::DType::Fp8));
  EXPECT_TRUE(fp8.fp8);
  EXPECT_EQ(fp8.settings.dtype, arch::DType::Bf16) << "everything but the layers' products computes in bf16";
  EXPECT_EQ(fp8.product_format(), arch::DType::Fp8);
  EXPECT_LT(fp8.iteration_s(), 0.85 * bf16.iteration_s());
  EXPECT_GT(fp8.iteration_s(), 0.5 * bf16.iteration_s());
  EXPECT_DOUBLE_EQ(fp8.model_flops(), bf16.model_flops());
  EXPECT_LE(fp8.mfu(), 1.0);
  const workloads::ModelStateBytes& state = fp8.stages[0].memory.state;
  const workloads::ModelStateBytes& plain = bf16.stages[0].memory.state;
  const workloads::ModelConfig& m = r.model;
  const uint64_t h = m.hidden_size, f = m.intermediate_size;
  const uint64_t layer_weights = m.num_hidden_layers * (4 * h * h + 3 * h * f);
  EXPECT_EQ(state.weights, plain.weights + 2 * layer_weights);
  EXPECT_EQ(state.master_weights, plain.master_weights);
  bool cast = false;
  for (const OpResult& op : fp8.stages[0].optimizer.ops) cast |= op.name == "optimizer.fp8_weight_cast";
  EXPECT_TRUE(cast);
  try {
    run_training(system("configs/systems/dgx_a100.yaml"), r, zero1, testing::timing_only(arch::DType::Fp8));
    FAIL() << "an A100 has no fp8 rate";
  } catch (const SettingError& error) {
    EXPECT_NE(std::string(error.what()).find("a100_sxm"), std::string::npos) << error.what();
  }
}

// Distillation on two pipeline stages: each stage's forward pass is the teacher's share then the
// student's, to the cycle; the backward passes and the optimizer step are the student's but for
// the soft targets' loss; each device holds its share of the teacher's weights in bf16.
TEST(TrainingRun, DistillationAddsTheTeachersForwardPassAndWeights) {
  TrainingRequest r = request("gpt2-medium", 8, 1, 512);
  const TrainingRunResult plain = train(kIdeal, r, plan(1, 2, 1));
  r.teacher = workloads::model_preset("gpt2-xl");
  const TrainingRunResult kd = train(kIdeal, r, plan(1, 2, 1));
  uint64_t teacher_bytes = 0;
  for (size_t s = 0; s < 2; ++s) {
    const TrainingChunk& with = kd.stages[s].chunks[0];
    const TrainingChunk& without = plain.stages[s].chunks[0];
    uint64_t teacher_cycles = 0, distill_cycles = 0;
    for (const OpResult& op : with.forward.ops) {
      if (op.name.rfind("teacher.", 0) == 0 || op.name == "distill.teacher_softmax") {
        teacher_cycles += op.cycles * op.repeats;
      } else if (op.name.rfind("distill.", 0) == 0) {
        distill_cycles += op.cycles * op.repeats;
      }
    }
    EXPECT_GT(teacher_cycles, cycles_of(without.forward)) << "a 1.5B teacher outweighs a 0.35B student";
    EXPECT_EQ(cycles_of(with.forward), cycles_of(without.forward) + teacher_cycles + distill_cycles) << "stage " << s;
    EXPECT_EQ(cycles_of(kd.stages[s].optimizer), cycles_of(plain.stages[s].optimizer));
    teacher_bytes += kd.stages[s].memory.state.teacher_weights;
    EXPECT_EQ(kd.stages[s].memory.state.weights, plain.stages[s].memory.state.weights);
  }
  // GPT-2 ties its head to its embeddings: the last stage holds a copy of the table, as for the student.
  const workloads::ModelConfig& t = *r.teacher;
  const uint64_t alone = workloads::build_training_step(t, {}, {}, {}).parameters();
  EXPECT_EQ(teacher_bytes, 2 * (alone + t.vocab_size * t.hidden_size));
  EXPECT_GT(kd.iteration_s(), 1.5 * plain.iteration_s());
}

// A plan that does not fit names the stage, what it holds and how much is short.
TEST(TrainingRun, PlansThatDoNotFitNameWhatIsShort) {
  try {
    train("configs/systems/dgx_a100.yaml", request("gpt3-175b", 8, 1, 2048), plan(8, 1, 1));
    FAIL() << "GPT-3 175B's training state does not fit eight A100s";
  } catch (const SettingError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("stage 0's devices (a100_sxm) each need"), std::string::npos) << message;
    EXPECT_NE(message.find("optimizer moments"), std::string::npos) << message;
    EXPECT_NE(message.find("GB short"), std::string::npos) << message;
  }
  EXPECT_THROW(train(kIdeal, request("llama2-7b", 6, 4, 128), plan(1, 1, 1)), SettingError);
  EXPECT_THROW(train(kIdeal, request("llama2-7b", 8, 1, 128), plan(1, 1, 1, PipelineSchedule::OneFOneB, 2)),
               SettingError);
}

// The search tries every split of the devices the model allows and ranks those that fit,
// fastest first; a plan timed from two shortened runs (2p and 4p micro-batches) is within
// 0.5% of its full run, its steady state being one micro-batch's passes a micro-batch.
TEST(TrainingRun, PlanSearchRanksWhatFitsFastestFirst) {
  const arch::SystemSpec node = system("configs/systems/dgx_a100.yaml");
  TrainingRequest base = request("llama2-7b", 64, 1, 2048);
  PlanSpace space;
  space.micro_batches = {1, 2};
  const std::vector<PlanOutcome> candidates = plan_candidates(node, base, plan(1, 1, 1), space);
  for (const PlanOutcome& c : candidates) {
    const ParallelPlan& p = c.plan.parallel;
    EXPECT_EQ(p.tensor * p.pipeline * p.data, 8u) << plan_text(c);
    EXPECT_NE(c.request.recompute, workloads::Recompute::Selective) << "the same as none with FlashAttention";
    EXPECT_FALSE(c.request.sequence_parallel && p.tensor == 1);
  }
  // The 10 splits with tp · pp = 8 / dp, each with 2 micro-batch sizes and 2 recomputations,
  // times 2 for sequence parallelism when tp > 1 and 2 for ZeRO 0-1 when dp > 1:
  // tp 1: pp 1, 2, 4 (dp > 1) and 8; tp 2: pp 1, 2 (dp > 1) and 4; tp 4: pp 1 (dp 2) and 2; tp 8.
  const uint64_t tp1 = 3 * 2 + 1, tp2 = 2 * 4 + 2, tp4 = 4 + 2, tp8 = 2;
  EXPECT_EQ(candidates.size(), 2u * 2 * (tp1 + tp2 + tp4 + tp8));
  const std::vector<PlanOutcome> ranked = search_plans(node, candidates, testing::timing_only(arch::DType::Bf16), 3);
  ASSERT_TRUE(ranked.front().fits);
  for (size_t i = 1; i < ranked.size(); ++i) {
    if (ranked[i].fits) {
      EXPECT_LE(ranked[i - 1].iteration_s, ranked[i].iteration_s);
    }
    if (!ranked[i - 1].fits) {
      EXPECT_FALSE(ranked[i].fits) << "those that fit come first";
    }
  }
  const PlanOutcome* estimated = nullptr;
  for (const PlanOutcome& p : ranked) {
    if (p.fits && p.estimated) estimated = &p;
  }
  ASSERT_NE(estimated, nullptr);
  const TrainingRunResult full = run_training(node, estimated->request, estimated->plan,
                                              testing::timing_only(arch::DType::Bf16));
  EXPECT_NEAR(estimated->iteration_s, full.iteration_s(), 0.005 * full.iteration_s()) << plan_text(*estimated);
  EXPECT_NEAR(estimated->mfu, full.mfu(), 0.005 * full.mfu());
}

// `tessel train` writes the reports its contract names and exits 1 with the message for plans
// it cannot run, 2 for flags that do not parse.
TEST(TrainingRun, CommandLine) {
  const auto out = testing::fresh_dir("training_run");
  const std::string trace = (out / "trace.json").string();
  std::filesystem::create_directories(out);
  const auto result = testing::run_tessel(
      "train --system configs/systems/tpu_v4_4x4x4.yaml --model tiny --global-batch 8 --micro-batch 2 --seq 32 "
      "--tp 2 --pp 2 --dp 2 --zero 1 --sequence-parallel --recompute selective --quiet --out " + out.string() +
      " --trace " + trace);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto summary = nlohmann::json::parse(testing::read_text(out / "summary.json"));
  for (const char* key : {"iteration_s", "tokens_per_s", "mfu", "hfu", "phases_s", "energy_pj", "energy_per_token_pj",
                          "devices", "links", "plan"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  for (const char* phase : {"forward", "backward", "optimizer", "communication", "bubble"}) {
    EXPECT_TRUE(summary["phases_s"].contains(phase)) << phase;
  }
  EXPECT_EQ(summary["plan"]["microbatches"], 2);
  EXPECT_EQ(summary["plan"]["zero"], 1);
  EXPECT_EQ(summary["devices"].size(), 2u);
  EXPECT_GT(summary["devices"][0]["memory_bytes"]["optimizer_moments"].get<uint64_t>(), 0u);
  EXPECT_NEAR(summary["tokens_per_s"].get<double>(), 8 * 32 / summary["iteration_s"].get<double>(), 1e-6);
  const std::vector<std::string> rows = testing::read_lines((out / "layers.csv").string());
  EXPECT_EQ(rows[0].substr(0, 22), "stage,chunk,pass,op,ki");
  EXPECT_TRUE(nlohmann::json::parse(testing::read_text(trace)).contains("traceEvents"));
  std::filesystem::remove_all(out);

  const auto too_big = testing::run_tessel("train --arch configs/arch/a100_sxm.yaml --model gpt3-175b --seq 2048");
  EXPECT_EQ(too_big.exit_code, 1);
  EXPECT_NE(too_big.output.find("GB short"), std::string::npos) << too_big.output;
  const auto bad_schedule = testing::run_tessel("train --arch configs/arch/a100_sxm.yaml --model tiny --schedule 2f2b");
  EXPECT_EQ(bad_schedule.exit_code, 1);
  EXPECT_NE(bad_schedule.output.find("--schedule '2f2b'"), std::string::npos) << bad_schedule.output;
  EXPECT_EQ(testing::run_tessel("train --model tiny").exit_code, 2);
  EXPECT_EQ(testing::run_tessel("train --arch configs/arch/a100_sxm.yaml --model tiny --zero 4").exit_code, 2);
  const auto search_and_plan = testing::run_tessel("train --arch configs/arch/a100_sxm.yaml --model tiny --search --tp 2");
  EXPECT_EQ(search_and_plan.exit_code, 2);
  EXPECT_NE(search_and_plan.output.find("leave out --tp"), std::string::npos) << search_and_plan.output;
}

}  // namespace
}  // namespace tessel::sim
