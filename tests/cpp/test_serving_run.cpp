// Serving runs (sim/serving/serve.h) against the mechanisms they model: a lone request is the
// single-request generate run, runs are reproducible from their seed, closed-loop clients keep
// their number of requests in flight, and a run under load names what held requests back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "arch/system_spec.h"
#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "sim/serving/serve.h"
#include "sim/serving/serve_metrics.h"
#include "sim/system/run_system.h"
#include "tests/cpp/run_helpers.h"
#include "tests/cpp/test_files.h"
#include "workloads/input_error.h"
#include "workloads/model_config.h"

namespace tessel::sim {
namespace {

const std::string kArchDir = std::string(TESSEL_SOURCE_DIR) + "/configs/arch/";

ServeResult serve_on(const std::string& arch, const std::string& model, ServeLoad load, ServeSettings settings) {
  return serve(arch::node_of(arch::load_arch(kArchDir + arch)), 1, workloads::model_preset(model), std::move(load),
               settings, RunSettings{});
}

ServeLoad poisson(uint64_t count, double rate, const std::string& prompt, const std::string& output,
                  uint64_t seed = 1) {
  ServeLoad load;
  load.requests = workloads::generate_requests(count, rate, workloads::parse_length_distribution(prompt, "prompt"),
                                               workloads::parse_length_distribution(output, "output"), seed);
  return load;
}

TEST(ServingRun, ALoneRequestTakesTheSingleRequestGenerateRun) {
  // One request of 300 prompt and 40 output tokens: the prefill samples the first token, 39
  // decode steps the others, as `run --phase generate --input 300 --output 39`. Every op at its
  // own sizes on both sides, so they agree to rounding.
  for (const char* arch : {"tpu_v4_like.yaml", "a100_sxm.yaml"}) {
    SCOPED_TRACE(arch);
    ServeLoad load;
    load.requests = {{0, 0.5, 300, 40}};
    ServeSettings settings;
    settings.shape_cells = 0;
    const ServeResult served = serve_on(arch, "llama2-7b", load, settings);
    RunSettings run_settings = testing::timing_only(served.settings.dtype.value());
    run_settings.decode_stride = 1;
    const RunResult run = testing::run_model(arch::load_arch(kArchDir + arch), workloads::model_preset("llama2-7b"),
                                             testing::generate_request(1, 300, 39), run_settings);
    const RequestOutcome& r = served.requests.at(0);
    EXPECT_DOUBLE_EQ(r.queueing_s(), 0.0);
    EXPECT_NEAR(r.ttft_s(), run.ttft_s(), 1e-9 * run.ttft_s());
    EXPECT_NEAR(r.tpot_s(), run.tpot_s(), 1e-9 * run.tpot_s());
    EXPECT_NEAR(r.e2e_s(), run.seconds(), 1e-9 * run.seconds());
    double served_pj = 0;
    for (const IterationRecord& it : served.iterations) served_pj += it.energy_pj;
    double run_pj = 0;
    for (const StepResult& step : run.steps) run_pj += step.energy.total_pj();
    EXPECT_NEAR(served_pj, run_pj, 1e-9 * run_pj);
  }
}

TEST(ServingRun, ALoneRequestOnDevicesSharingItsLayersTakesTheSystemsGenerateRun) {
  // Two A100s of a DGX node sharing Llama-2-7B's layers, their all-reduces on NVLink: the lone
  // request's latencies and energy are those of `run --system --tp 2 --phase generate`.
  const arch::SystemSpec node = arch::load_system(std::string(TESSEL_SOURCE_DIR) + "/configs/systems/dgx_a100.yaml");
  ServeLoad load;
  load.requests = {{0, 0, 300, 20}};
  ServeSettings settings;
  settings.shape_cells = 0;
  const ServeResult served = serve(node, 2, workloads::model_preset("llama2-7b"), load, settings, RunSettings{});
  ParallelPlan plan;
  plan.tensor = 2;
  RunSettings run_settings = testing::timing_only(served.settings.dtype.value());
  run_settings.decode_stride = 1;
  const SystemRunResult run =
      run_system(node, ModelWorkload{workloads::model_preset("llama2-7b"), testing::generate_request(1, 300, 19)}, plan,
                 run_settings);
  const RequestOutcome& r = served.requests.at(0);
  EXPECT_NEAR(r.ttft_s(), run.ttft_s(), 1e-9 * run.ttft_s());
  EXPECT_NEAR(r.tpot_s(), run.tpot_s(), 1e-9 * run.tpot_s());
  double served_pj = 0;
  for (const IterationRecord& it : served.iterations) served_pj += it.energy_pj;
  EXPECT_NEAR(served_pj, run.energy().total_pj(), 1e-9 * served_pj);
}

TEST(ServingRun, DisaggregatedTtftIsThePromptDevicesAndTheKvTransfer) {
  // Prompts on an H100, decoding on an A100, the cache over a 50 GB/s link with 10 us latency:
  // the lone request's first token is the H100's prefill and the transfer of its prompt's K and
  // V (32 layers x 32 heads x 128 x 2 x 300 positions, fp16: 157,286,400 bytes); its later
  // tokens are the A100's decode steps.
  ServeLoad load;
  load.requests = {{0, 0, 300, 20}};
  ServeSettings settings;
  settings.shape_cells = 0;
  PrefillPool pool;
  pool.hardware = arch::node_of(arch::load_arch(kArchDir + "h100_sxm.yaml"));
  pool.link_bytes_per_s = 50e9;
  pool.link_latency_s = 10e-6;
  settings.prefill = pool;
  const ServeResult served = serve(arch::node_of(arch::load_arch(kArchDir + "a100_sxm.yaml")), 1,
                                   workloads::model_preset("llama2-7b"), load, settings, RunSettings{});
  RunSettings run_settings = testing::timing_only(arch::DType::Fp16);
  run_settings.decode_stride = 1;
  const workloads::ModelConfig model = workloads::model_preset("llama2-7b");
  const RunResult on_h100 = testing::run_model(arch::load_arch(kArchDir + "h100_sxm.yaml"), model,
                                               testing::prefill_request(1, 300), run_settings);
  const RunResult on_a100 = testing::run_model(arch::load_arch(kArchDir + "a100_sxm.yaml"), model,
                                               testing::generate_request(1, 300, 19), run_settings);
  const double transfer = 10e-6 + 157286400.0 / 50e9;
  const RequestOutcome& r = served.requests.at(0);
  EXPECT_NEAR(r.ttft_s(), on_h100.seconds() + transfer, 1e-9 * r.ttft_s());
  EXPECT_NEAR(r.tpot_s(), on_a100.tpot_s(), 1e-9 * r.tpot_s());
  ASSERT_TRUE(served.prefill.has_value());
  EXPECT_EQ(served.prefill->device.name, "h100_sxm");
  EXPECT_EQ(served.iterations.front().engine, EngineRole::Prefill);
  EXPECT_EQ(served.iterations.back().engine, EngineRole::Decode);

  // With two copies of the decoding A100, two such requests at once share the prompt H100 and
  // then decode apart, each at the lone request's pace, on the copy its cache was sent to.
  load.requests = {{0, 0, 300, 20}, {1, 0, 300, 20}};
  settings.replicas = 2;
  const ServeResult apart = serve(arch::node_of(arch::load_arch(kArchDir + "a100_sxm.yaml")), 1,
                                  workloads::model_preset("llama2-7b"), load, settings, RunSettings{});
  EXPECT_EQ(apart.requests[0].replica + apart.requests[1].replica, 1u);
  for (const RequestOutcome& request : apart.requests) EXPECT_NEAR(request.tpot_s(), r.tpot_s(), 1e-9 * r.tpot_s());
  for (const IterationRecord& it : apart.iterations) {
    if (it.engine == EngineRole::Decode) {
      EXPECT_EQ(it.sequences, 1u) << "each copy decodes one request";
    }
  }
}

TEST(ServingRun, OffloadedWeightsMakeADecodeStepAtLeastTheirTransfer) {
  // Llama-2-7B's fp16 weights streamed over 16 GB/s to an A100: every decode step takes at least
  // all the weights over the link, and not 2% more (a layer's compute, about 0.3 ms, hides under
  // its weights' 12.6 ms). The cache gets the memory the weights left.
  ServeLoad load;
  load.requests = {{0, 0, 300, 6}};
  ServeSettings offloaded;
  offloaded.shape_cells = 0;
  offloaded.offload_link_bytes_per_s = 16e9;
  const ServeResult served = serve_on("a100_sxm.yaml", "llama2-7b", load, offloaded);
  const ServeResult resident = serve_on("a100_sxm.yaml", "llama2-7b", load, {});
  const double floor = static_cast<double>(served.weight_bytes) / 16e9;
  const double tpot = served.requests.at(0).tpot_s();
  EXPECT_GE(tpot, floor);
  EXPECT_LE(tpot, 1.02 * floor);
  EXPECT_LT(resident.requests.at(0).tpot_s(), 0.05 * tpot);
  EXPECT_GT(served.serve.scheduler.kv_blocks, resident.serve.scheduler.kv_blocks);
}

TEST(ServingRun, AnOffloadedKvCacheMakesADecodeStepAtLeastItsTransfer) {
  // Llama-2-7B's fp16 cache is 2 x 32 layers x 4096 x 2 bytes = 512 KiB a token. With 3000
  // tokens cached in host memory and streamed over 16 GB/s, a decode step takes at least the
  // cache over the link (about 0.1 s), and not 5% more (a layer's compute, about 0.3 ms, hides
  // under its 3 ms of cache). The blocks are what the host memory holds: 64 GiB / (16 tokens x
  // 512 KiB) = 8192.
  ServeLoad load;
  load.requests = {{0, 0, 3000, 5}};
  ServeSettings offloaded;
  offloaded.shape_cells = 0;
  offloaded.kv_link_bytes_per_s = 16e9;
  offloaded.kv_host_bytes = 64.0 * 0x1p30;
  const ServeResult served = serve_on("a100_sxm.yaml", "llama2-7b", load, offloaded);
  constexpr double kTokenBytes = 2.0 * 32 * 4096 * 2;
  const double tpot = served.requests.at(0).tpot_s();
  EXPECT_GE(tpot, 3000 * kTokenBytes / 16e9);
  EXPECT_LE(tpot, 1.05 * 3004 * kTokenBytes / 16e9);
  EXPECT_LT(serve_on("a100_sxm.yaml", "llama2-7b", load, {}).requests.at(0).tpot_s(), 0.2 * tpot);
  EXPECT_EQ(served.serve.scheduler.kv_blocks, 8192u);
}

TEST(ServingRun, KvOffloadNeedsItsHostMemoryAndSharesTheWeightsLink) {
  ServeLoad load;
  load.requests = {{0, 0, 100, 2}};
  ServeSettings no_memory;
  no_memory.kv_link_bytes_per_s = 16e9;
  EXPECT_THROW(serve_on("a100_sxm.yaml", "llama2-7b", load, no_memory), workloads::InputError);
  ServeSettings two_links = no_memory;
  two_links.kv_host_bytes = 0x1p36;
  two_links.offload_link_bytes_per_s = 32e9;
  const std::string message = testing::error_message<workloads::InputError>(
      [&] { serve_on("a100_sxm.yaml", "llama2-7b", load, two_links); }, "two host links");
  EXPECT_NE(message.find("the same bandwidth"), std::string::npos) << message;
}

// Attention apart: each decoding device paired with another that holds the KV cache and runs
// RoPE, the cache and attention.
ServeSettings attention_on(const std::string& arch, double link_bytes_per_s, double latency_s,
                           std::vector<std::string> ops = {}) {
  ServeSettings settings;
  settings.shape_cells = 0;
  settings.attention =
      AttentionPool{arch::load_arch(kArchDir + arch), link_bytes_per_s, latency_s, OpPlacement(std::move(ops))};
  return settings;
}

TEST(ServingRun, AttentionOnAnIdenticalDeviceOverAFreeLinkIsTheOneDeviceRun) {
  ServeLoad load;
  load.requests = {{0, 0, 300, 8}};
  const ServeResult apart = serve_on("a100_sxm.yaml", "llama2-7b", load, attention_on("a100_sxm.yaml", 1e14, 0));
  ServeSettings whole;
  whole.shape_cells = 0;
  const ServeResult one = serve_on("a100_sxm.yaml", "llama2-7b", load, whole);
  // A token's 32 KiB a layer cross a link of 1e14 B/s: 1e-8 s a decode step of ~8 ms, and the
  // prompt's 300 tokens 3.1 us beside its 24 ms; nothing else differs.
  EXPECT_NEAR(apart.requests[0].tpot_s(), one.requests[0].tpot_s(), 1e-5 * one.requests[0].tpot_s());
  EXPECT_NEAR(apart.requests[0].ttft_s() - one.requests[0].ttft_s(), 300 * 32 * 32768 / 1e14, 1e-9);
  ASSERT_TRUE(apart.attention.has_value());
  EXPECT_EQ(apart.attention->name, "a100_sxm");
}

// Two prompts whose attention blocks (projections included) run on a paired A100 over a fast
// link: as one batch each device waits out the other's half of every layer; in two micro-batches
// that ping-pong, one device works on a prompt while the other works on the next. Two devices
// can at most halve the time, and overlapping compute-bound halves must gain something.
TEST(ServingRun, MicroBatchesPingPongingBetweenThePairOverlapTheirWork) {
  ServeLoad load;
  load.requests = {{0, 0, 1024, 1}, {1, 0, 1024, 1}};
  const auto ttft = [&](uint64_t microbatches) {
    ServeSettings settings = attention_on("a100_sxm.yaml", 1e14, 0, {"attn.*"});
    settings.attention->microbatches = microbatches;
    const ServeResult result = serve_on("a100_sxm.yaml", "llama2-7b", load, settings);
    return std::max(result.requests[0].ttft_s(), result.requests[1].ttft_s());
  };
  const double one = ttft(1);
  const double two = ttft(2);
  EXPECT_LT(two, 0.9 * one);
  EXPECT_GT(two, 0.5 * one);
}

TEST(ServingRun, AttentionApartAddsItsCrossingsToEveryLayerAndHoldsTheCache) {
  // A decode step of Llama-2-7B: each of 32 layers sends its token's queries, keys and values
  // (12,288 fp16 values) to the attention device and gets 4,096 back, over 10 GB/s with 5 us a
  // crossing: 32 x (32,768 B / 10 GB/s + 2 x 5 us) = 0.425 ms more than on one device.
  ServeLoad load;
  load.requests = {{0, 0, 300, 8}};
  ServeSettings whole;
  whole.shape_cells = 0;
  const double one = serve_on("a100_sxm.yaml", "llama2-7b", load, whole).requests[0].tpot_s();
  const ServeResult apart = serve_on("a100_sxm.yaml", "llama2-7b", load, attention_on("a100_sxm.yaml", 10e9, 5e-6));
  EXPECT_NEAR(apart.requests[0].tpot_s() - one, 32 * (32768 / 10e9 + 2 * 5e-6), 1e-9);
  // On a Xeon with 512 GiB of DDR the cache has the whole of its memory's share: 512 GiB x 0.9
  // / (16 tokens x 512 KiB) blocks.
  const ServeResult on_cpu = serve_on("a100_sxm.yaml", "llama2-7b", load, attention_on("xeon_8480.yaml", 25e9, 0));
  EXPECT_EQ(on_cpu.serve.scheduler.kv_blocks, static_cast<uint64_t>(512.0 * 0x1p30 * 0.9 / (16 * 524288.0)));
}

TEST(ServingRun, OpsPlacedApartTakeTheirWeightsAndNeedTheCachesOps) {
  // The whole attention block apart (attn.*: its norm, projections, RoPE, cache, attention and
  // residual): the paired device holds the projections' weights, 4 x 4096^2 fp16 a layer, and
  // the norm's 4096.
  ServeLoad load;
  load.requests = {{0, 0, 300, 4}};
  const ServeResult apart =
      serve_on("a100_sxm.yaml", "llama2-7b", load, attention_on("a100_sxm.yaml", 25e9, 0, {"attn.*"}));
  EXPECT_EQ(apart.attention_weight_bytes, 32ull * (4 * 4096 * 4096 + 4096) * 2);
  const auto refusal = [&](std::vector<std::string> ops) {
    return testing::error_message<workloads::InputError>(
        [&] { serve_on("a100_sxm.yaml", "llama2-7b", load, attention_on("a100_sxm.yaml", 25e9, 0, ops)); },
        "a placement that should be refused");
  };
  EXPECT_NE(refusal({"mlp.*"}).find("touches the KV cache"), std::string::npos);
  EXPECT_NE(refusal({"Attention", "KvCacheAppend", "KvCacheRead", "moe.*"}).find("'moe.*' names no op kind"),
            std::string::npos);
}

TEST(ServingRun, SpeculativeDecodingYieldsTheExpectedTokensAStep) {
  // K drafts each accepted with probability a while those before were: a step yields
  // (1 - a^(K+1)) / (1 - a) tokens on average; at a = 1 every draft, at a = 0 none (and the
  // drafting makes each step slower than plain decoding).
  ServeLoad load;
  load.requests = {{0, 0, 64, 401}};
  const auto served = [&](double acceptance) {
    ServeSettings settings;
    settings.speculation = Speculation{workloads::model_preset("tiny"), 4, acceptance, 3};
    return serve_on("a100_sxm.yaml", "llama2-7b", load, settings);
  };
  const auto decode_steps = [](const ServeResult& r) { return r.iterations.size() - 1; };
  EXPECT_EQ(decode_steps(served(1.0)), 80u) << "400 tokens after the first, 5 a step";
  const ServeResult none = served(0.0);
  EXPECT_EQ(decode_steps(none), 400u);
  EXPECT_GT(none.requests[0].tpot_s(), serve_on("a100_sxm.yaml", "llama2-7b", load, {}).requests[0].tpot_s());
  // a = 0.6: 2.3056 tokens a step. Over ~174 steps of variance about 2, the mean's standard
  // error is about 0.1 token: 3 of them bound it.
  const double expected = (1 - std::pow(0.6, 5)) / 0.4;
  EXPECT_NEAR(400.0 / static_cast<double>(decode_steps(served(0.6))), expected, 0.3);
}

TEST(ServingRun, AtAVanishingRateLatencyIsTheLoneRequests) {
  // Requests a minute apart never meet: each one's TTFT is its prompt's prefill alone.
  const ServeResult served = serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(6, 1.0 / 60, "200", "8"), {});
  ServeLoad alone;
  alone.requests = {{0, 0, 200, 8}};
  const ServeResult lone = serve_on("tpu_v4_like.yaml", "llama2-7b", alone, {});
  for (const RequestOutcome& r : served.requests) {
    EXPECT_DOUBLE_EQ(r.queueing_s(), 0.0);
    EXPECT_NEAR(r.ttft_s(), lone.requests[0].ttft_s(), 1e-12);
    EXPECT_NEAR(r.e2e_s(), lone.requests[0].e2e_s(), 1e-12);
  }
  EXPECT_EQ(summarize(served, {}).limit, "none");
}

TEST(ServingRun, BetweenIterationsTheDevicesDrawTheirIdlePower) {
  // Requests a minute apart on an A100 (idle 62 W): the gaps cost idle power, the iterations
  // their own energy (static power included); together the run's energy.
  const ServeResult served = serve_on("a100_sxm.yaml", "llama2-7b", poisson(4, 1.0 / 60, "200", "8"), {});
  const ServeSummary summary = summarize(served, {});
  double busy = 0, iterations_pj = 0;
  for (const IterationRecord& it : served.iterations) {
    busy += it.seconds;
    iterations_pj += it.energy_pj;
  }
  ASSERT_TRUE(served.device.power.has_value());
  const double idle_j = served.device.power->idle_w * (served.duration_s() - busy);
  EXPECT_GT(served.duration_s() - busy, 0.9 * served.duration_s());  // mostly idle
  EXPECT_NEAR(summary.idle_energy_j, idle_j, 1e-9 * idle_j);
  EXPECT_NEAR(summary.energy_j, iterations_pj * 1e-12 + idle_j, 1e-9 * summary.energy_j);
  // A device without a power block costs nothing idle.
  const ServeResult fpga = serve_on("u280_int8.yaml", "llama2-7b", poisson(2, 1.0 / 60, "200", "8"), {});
  EXPECT_EQ(summarize(fpga, {}).idle_energy_j, 0.0);
}

TEST(ServingRun, TheSameSeedGivesTheSameRunAndAnotherSeedAnother) {
  const auto run = [](uint64_t seed) {
    return serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(20, 20, "uniform:50,200", "uniform:2,10", seed), {});
  };
  const ServeResult a = run(3), b = run(3), c = run(4);
  ASSERT_EQ(a.requests.size(), b.requests.size());
  for (size_t i = 0; i < a.requests.size(); ++i) {
    EXPECT_EQ(a.requests[i].request.prompt_tokens, b.requests[i].request.prompt_tokens);
    EXPECT_EQ(a.requests[i].finish_s, b.requests[i].finish_s);
  }
  EXPECT_NE(a.requests[0].request.arrival_s, c.requests[0].request.arrival_s);
}

TEST(ServingRun, ClosedLoopClientsKeepTheirRequestsInFlight) {
  ServeLoad load = poisson(30, 0, "128", "uniform:4,40");
  load.concurrency = 4;
  const ServeResult served = serve_on("tpu_v4_like.yaml", "llama2-7b", load, {});
  std::vector<double> finishes;
  for (const RequestOutcome& r : served.requests) finishes.push_back(r.finish_s);
  std::sort(finishes.begin(), finishes.end());
  for (size_t i = 0; i < served.requests.size(); ++i) {
    const double arrival = served.requests[i].request.arrival_s;
    if (i < 4) {
      EXPECT_EQ(arrival, 0.0);
    } else {
      // Each later request is sent as one finishes: its arrival is some request's finish.
      EXPECT_TRUE(std::binary_search(finishes.begin(), finishes.end(), arrival)) << i;
    }
  }
  for (const IterationRecord& it : served.iterations) EXPECT_LE(it.sequences + it.waiting, 4u);
}

TEST(ServingRun, UnderLoadTheReportNamesTheLimitRequestsWaitedOn) {
  // A cache of a few long requests: they wait on the KV cache.
  ServeSettings small;
  small.scheduler.kv_blocks = 200;
  const ServeSummary kv = summarize(serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(60, 200, "1024", "64"), small),
                                    {});
  EXPECT_EQ(kv.limit, "kv_cache");
  EXPECT_GT(kv.kv_peak_share, 0.9);
  // One sequence at a time: they wait on the batch limit.
  ServeSettings one;
  one.scheduler.max_batch = 1;
  const ServeSummary batch =
      summarize(serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(30, 200, "64", "16"), one), {});
  EXPECT_EQ(batch.limit, "max_batch");
  EXPECT_NEAR(batch.mean_batch, 1.0, 1e-12);
  // Prompts far beyond the token budget keep the device full: the budget (compute) holds them.
  ServeSettings budget;
  budget.scheduler.token_budget = 256;
  const ServeSummary compute =
      summarize(serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(30, 200, "2000", "4"), budget), {});
  EXPECT_EQ(compute.limit, "token_budget");
}

TEST(ServingRun, GoodputCountsTheRequestsThatMeetEveryObjective) {
  const ServeResult served = serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(40, 30, "uniform:50,300", "4"), {});
  ServiceObjectives objectives;
  objectives.ttft_s = summarize(served, {}).ttft_s.p50;
  const ServeSummary s = summarize(served, objectives);
  size_t met = 0;
  for (const RequestOutcome& r : served.requests) met += r.ttft_s() <= *objectives.ttft_s ? 1 : 0;
  EXPECT_DOUBLE_EQ(*s.slo_attainment, static_cast<double>(met) / 40.0);
  EXPECT_NEAR(*s.slo_attainment, 0.5, 0.05) << "the median objective: about half";
  EXPECT_DOUBLE_EQ(*s.goodput_requests_per_s, static_cast<double>(met) / s.duration_s);
}

TEST(ServingRun, ContinuousBatchingOutservesStaticBatchingUnderLoad) {
  ServeSettings continuous;
  ServeSettings fixed;
  fixed.scheduler.policy = SchedulerSettings::Static;
  fixed.scheduler.max_batch = 16;
  continuous.scheduler.max_batch = 16;
  const ServeLoad load = poisson(64, 100, "256", "uniform:2,120");
  const ServeSummary a = summarize(serve_on("a100_sxm.yaml", "llama2-7b", load, continuous), {});
  const ServeSummary b = summarize(serve_on("a100_sxm.yaml", "llama2-7b", load, fixed), {});
  EXPECT_GT(a.output_tokens_per_s, b.output_tokens_per_s);
  EXPECT_LT(a.e2e_s.mean, b.e2e_s.mean);
}

TEST(ServingRun, ReplicasServeRequestsArrivingTogetherEachAsALoneRequest) {
  // Two requests at once: one set of devices batches them, two copies take one each, so each
  // takes the lone request's time. A third a minute later goes to the first copy (both are
  // free); both copies draw their idle power while they wait.
  ServeLoad load;
  load.requests = {{0, 0, 200, 8}, {1, 0, 200, 8}, {2, 60, 200, 8}};
  ServeLoad alone;
  alone.requests = {{0, 0, 200, 8}};
  const ServeResult lone = serve_on("a100_sxm.yaml", "llama2-7b", alone, {});
  const ServeResult batched = serve_on("a100_sxm.yaml", "llama2-7b", load, {});
  ServeSettings two;
  two.replicas = 2;
  const ServeResult apart = serve_on("a100_sxm.yaml", "llama2-7b", load, two);
  EXPECT_EQ(apart.requests[0].replica, 0u);
  EXPECT_EQ(apart.requests[1].replica, 1u);
  EXPECT_EQ(apart.requests[2].replica, 0u);
  for (const RequestOutcome& r : apart.requests) {
    EXPECT_NEAR(r.e2e_s(), lone.requests[0].e2e_s(), 1e-12);
    if (r.request.id < 2) {
      EXPECT_GT(batched.requests[r.request.id].e2e_s(), r.e2e_s());
    }
  }
  ASSERT_EQ(apart.iterations.size(), 3 * lone.iterations.size());
  const ServeSummary summary = summarize(apart, {});
  double busy = 0;
  for (const IterationRecord& it : apart.iterations) busy += it.seconds;
  const double idle_j = apart.device.power->idle_w * (2 * apart.duration_s() - busy);
  EXPECT_GT(idle_j, apart.device.power->idle_w * 60);  // a minute on each copy, at least
  EXPECT_NEAR(summary.idle_energy_j, idle_j, 1e-9 * idle_j);
}

TEST(ServingRun, ReplicasMultiplyTheThroughputOfSaturatedDevices) {
  // 32 closed-loop clients of identical requests against batches of at most 4: every copy runs
  // full batches all the time, so two copies serve twice the requests a second (to the last
  // batch's share of the run), and each serves half of them.
  ServeLoad load = poisson(96, 0, "128", "16");
  load.concurrency = 32;
  ServeSettings settings;
  settings.scheduler.max_batch = 4;
  const ServeResult one = serve_on("tpu_v4_like.yaml", "llama2-7b", load, settings);
  settings.replicas = 2;
  const ServeResult two = serve_on("tpu_v4_like.yaml", "llama2-7b", load, settings);
  const double ratio = summarize(two, {}).requests_per_s / summarize(one, {}).requests_per_s;
  EXPECT_NEAR(ratio, 2.0, 0.05) << "96 requests in batches of 4: a batch is 1/24 of a run";
  size_t on_first = 0;
  for (const RequestOutcome& r : two.requests) on_first += r.replica == 0 ? 1 : 0;
  EXPECT_EQ(on_first, 48u);
}

TEST(ServingRun, ReplicasMustFitTheSystem) {
  // A DGX A100's 8 GPUs hold 4 copies of 2 sharing their layers, not 5.
  const arch::SystemSpec node = arch::load_system(std::string(TESSEL_SOURCE_DIR) + "/configs/systems/dgx_a100.yaml");
  ServeSettings settings;
  settings.replicas = 5;
  const std::string message = testing::error_message<workloads::InputError>([&] {
    serve(node, 2, workloads::model_preset("llama2-7b"), poisson(2, 1, "10", "2"), settings, RunSettings{});
  }, "5 replicas");
  EXPECT_EQ(message, "5 replicas of 2 devices need 10; dgx_a100 has 8");
  // Copies of one device are bounded by the state their schedulers keep, not by a system.
  settings.replicas = 65'536;
  EXPECT_THROW(serve_on("tpu_v4_like.yaml", "llama2-7b", poisson(4'096, 1, "10", "2"), settings),
               workloads::InputError);
}

TEST(ServingRun, AModelWithoutRoomForItsCacheIsRefused) {
  // Llama-2-70B's 138 GB of fp16 weights on an 80 GB GPU.
  EXPECT_THROW(serve_on("a100_sxm.yaml", "llama2-70b", poisson(2, 1, "10", "2"), {}), workloads::InputError);
}

}  // namespace
}  // namespace tessel::sim
