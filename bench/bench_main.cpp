// Host time of whole runs (load, map, simulate; timing only), the figures SCALE-Sim v2 is
// compared with: it needs about 11 s and 293 s of CPU for the two GEMM workloads on a 2-core
// machine; whole LLM generate runs on a TPU-like chip and on four A100s; a serving run of
// 10,000 requests; a GPU validation pass; and the mapper's own speed.
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <string>
#include <vector>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli/validation/gpu_validation.h"
#include "mapper/systolic_mapper.h"
#include "sim/run_workload.h"
#include "sim/serving/serve.h"
#include "sim/system/run_system.h"
#include "sim/system/plan_search.h"
#include "sim/system/run_training.h"
#include "workloads/topology_csv.h"

namespace {

using namespace tessel;

const std::string kSource = TESSEL_SOURCE_DIR;

sim::RunSettings timing_only() {
  sim::RunSettings settings;
  settings.check = sim::CheckMode::Never;
  return settings;
}

// The model's generate run on the architecture file's device, or `tp` devices of its node
// sharing its layers.
double generate_tpot(const std::string& arch_file, const workloads::ModelConfig& model,
                     const sim::ModelRequest& request, uint64_t tp) {
  if (tp == 1) {
    const std::unique_ptr<sim::Device> device = sim::make_device(arch::load_arch(arch_file));
    return sim::run_workload(*device, sim::ModelWorkload{model, request}, timing_only()).tpot_s();
  }
  sim::ParallelPlan plan;
  plan.tensor = tp;
  sim::SystemRunOptions options;
  options.require_fit = false;
  return sim::run_system(arch::node_of(arch::load_arch(arch_file)), sim::ModelWorkload{model, request}, plan,
                         timing_only(), options)
      .tpot_s();
}

void run_timing_only(benchmark::State& state, const std::string& arch_file, const workloads::Graph& graph) {
  const std::unique_ptr<sim::Device> device = sim::make_device(arch::load_arch(arch_file));
  uint64_t cycles = 0;
  for (auto _ : state) {
    const sim::RunResult result = sim::run_workload(*device, sim::GemmWorkload{graph}, timing_only());
    cycles = result.cycles();
    benchmark::DoNotOptimize(cycles);
  }
  state.counters["simulated_cycles"] = static_cast<double>(cycles);
  state.counters["layers"] = static_cast<double>(graph.gemms.size());
}

// Llama-2-70B, batch 1: a 2048-token prefill then `output` decode steps over a growing cache.
void generate_on_tpu(benchmark::State& state, uint64_t output) {
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Generate;
  request.batch = 1;
  request.input = 2048;
  request.output = output;
  const workloads::ModelConfig model = workloads::model_preset("llama2-70b");
  double tpot = 0;
  for (auto _ : state) {
    tpot = generate_tpot(kSource + "/configs/arch/tpu_v4_like.yaml", model, request, 1);
    benchmark::DoNotOptimize(tpot);
  }
  state.counters["simulated_tpot_ms"] = tpot * 1e3;
}

// 8,192 decode steps: the cost of a step, and the memory a long run holds. Registered first, so
// the process's peak resident memory is this run's.
void BM_Llama2_70B_Generate8192_TpuV4(benchmark::State& state) {
  generate_on_tpu(state, 8192);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_mb"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
BENCHMARK(BM_Llama2_70B_Generate8192_TpuV4)->Unit(benchmark::kMillisecond);

// Serving: 10,000 requests of Llama-2-7B arriving at 10 a second on the A100 (prompts of 128-1024
// tokens, outputs of 16-256), continuous batching: every iteration costed on the device.
void BM_Serve10k_Llama2_7B_A100(benchmark::State& state) {
  const workloads::LengthDistribution prompt = workloads::parse_length_distribution("uniform:128,1024", "prompt");
  const workloads::LengthDistribution output = workloads::parse_length_distribution("uniform:16,256", "output");
  sim::ServeLoad load;
  load.requests = workloads::generate_requests(10000, 10, prompt, output, 1);
  size_t iterations = 0;
  double duration = 0;
  for (auto _ : state) {
    const sim::ServeResult result =
        sim::serve(arch::node_of(arch::load_arch(kSource + "/configs/arch/a100_sxm.yaml")), 1,
                   workloads::model_preset("llama2-7b"), load, sim::ServeSettings{}, sim::RunSettings{});
    iterations = result.iterations.size();
    duration = result.duration_s();
    benchmark::DoNotOptimize(duration);
  }
  state.counters["iterations"] = static_cast<double>(iterations);
  state.counters["simulated_s"] = duration;
}
BENCHMARK(BM_Serve10k_Llama2_7B_A100)->Unit(benchmark::kSecond)->Iterations(1);

void BM_Llama2_70B_Generate_TpuV4(benchmark::State& state) { generate_on_tpu(state, 128); }
BENCHMARK(BM_Llama2_70B_Generate_TpuV4)->Unit(benchmark::kMillisecond);

// The same generate run on four A100s sharing the model's layers (tensor parallelism): every
// GEMM's thread-block plan simulated in waves, the other kernels and the all-reduces analytic.
void BM_Llama2_70B_Generate_A100x4(benchmark::State& state) {
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Generate;
  request.input = 2048;
  request.output = 128;
  const workloads::ModelConfig model = workloads::model_preset("llama2-70b");
  double tpot = 0;
  for (auto _ : state) {
    tpot = generate_tpot(kSource + "/configs/arch/a100_sxm.yaml", model, request, 4);
    benchmark::DoNotOptimize(tpot);
  }
  state.counters["simulated_tpot_ms"] = tpot * 1e3;
}
BENCHMARK(BM_Llama2_70B_Generate_A100x4)->Unit(benchmark::kMillisecond);

// Llama-2-70B generate (2048 prompt tokens, 128 output tokens, batch 8) on a system, spread as
// tp x pp (arguments), with as many micro-batches as stages: every stage's graphs costed and
// the whole timeline run.
void run_system_generate(benchmark::State& state, const std::string& system_file) {
  const arch::SystemSpec system = arch::load_system(kSource + system_file);
  sim::ParallelPlan plan;
  plan.tensor = static_cast<uint64_t>(state.range(0));
  plan.pipeline = static_cast<uint64_t>(state.range(1));
  sim::ModelRequest request;
  request.kind = sim::ModelRequest::Generate;
  request.batch = 8;
  request.input = 2048;
  request.output = 128;
  const sim::ModelWorkload workload{workloads::model_preset("llama2-70b"), request};
  double tpot = 0, ttft = 0;
  for (auto _ : state) {
    const sim::SystemRunResult result = sim::run_system(system, workload, plan, timing_only());
    tpot = result.tpot_s();
    ttft = result.ttft_s();
    benchmark::DoNotOptimize(tpot);
  }
  state.counters["simulated_ttft_ms"] = ttft * 1e3;
  state.counters["simulated_tpot_ms"] = tpot * 1e3;
}

void BM_Llama2_70B_Generate_TpuV4Slice(benchmark::State& state) {
  run_system_generate(state, "/configs/systems/tpu_v4_4x4x4.yaml");
}
BENCHMARK(BM_Llama2_70B_Generate_TpuV4Slice)
    ->ArgNames({"tp", "pp"})
    ->Args({64, 1})
    ->Args({16, 4})
    ->Args({8, 8})
    ->Args({4, 16})
    ->Unit(benchmark::kMillisecond);

void BM_Llama2_70B_Generate_DgxH100(benchmark::State& state) {
  run_system_generate(state, "/configs/systems/dgx_h100.yaml");
}
BENCHMARK(BM_Llama2_70B_Generate_DgxH100)
    ->ArgNames({"tp", "pp"})
    ->Args({8, 1})
    ->Args({4, 2})
    ->Args({2, 4})
    ->Args({1, 8})
    ->Unit(benchmark::kMillisecond);

// GPT-3 175B at Narayanan et al.'s (2021) global batch of 1536 sequences of 2048 tokens.
sim::TrainingRequest gpt3_request() {
  sim::TrainingRequest request;
  request.model = workloads::model_preset("gpt3-175b");
  request.global_batch = 1536;
  request.seq = 2048;
  return request;
}

const std::string kSuperPod = "/configs/systems/a100_superpod_128x8.yaml";

// One training iteration of GPT-3 175B on 1,024 A100s (a SuperPOD of 128 nodes), tp 8 × pp 16
// × dp 8 as Narayanan et al. ran it: micro-batches of 1, 1F1B, sequence parallelism and
// selective recomputation, ZeRO-1: every stage's passes built, costed and run on the timeline
// with their 192 micro-batches.
void BM_Gpt3_175B_Train_SuperPod(benchmark::State& state) {
  const arch::SystemSpec system = arch::load_system(kSource + kSuperPod);
  sim::TrainingRequest request = gpt3_request();
  request.sequence_parallel = true;
  request.recompute = workloads::Recompute::Selective;
  sim::TrainingPlan plan;
  plan.parallel.tensor = 8;
  plan.parallel.pipeline = 16;
  plan.parallel.data = 8;
  plan.zero = 1;
  double iteration = 0, mfu = 0;
  for (auto _ : state) {
    const sim::TrainingRunResult result = sim::run_training(system, request, plan, timing_only());
    iteration = result.iteration_s();
    mfu = result.mfu();
    benchmark::DoNotOptimize(iteration);
  }
  state.counters["simulated_iteration_s"] = iteration;
  state.counters["simulated_mfu"] = mfu;
}
BENCHMARK(BM_Gpt3_175B_Train_SuperPod)->Unit(benchmark::kMillisecond);

// `tessel train --search` on the same: every plan of tp × pp × dp over the 1,024 GPUs,
// micro-batch 1-8, recomputation, sequence parallelism and ZeRO 0-1 (1,048 plans), each checked
// for memory and those that fit timed, in two worker processes; the best five then in full.
void BM_PlanSearch_Gpt3_SuperPod(benchmark::State& state) {
  const arch::SystemSpec system = arch::load_system(kSource + kSuperPod);
  const std::vector<sim::PlanOutcome> candidates =
      sim::plan_candidates(system, gpt3_request(), sim::TrainingPlan{}, sim::PlanSpace{});
  size_t fitting = 0;
  for (auto _ : state) {
    const std::vector<sim::PlanOutcome> ranked = sim::search_plans(system, candidates, timing_only(), 5, 2);
    fitting = 0;
    for (const sim::PlanOutcome& plan : ranked) fitting += plan.fits ? 1 : 0;
    benchmark::DoNotOptimize(fitting);
  }
  state.counters["plans"] = static_cast<double>(candidates.size());
  state.counters["fitting"] = static_cast<double>(fitting);
}
BENCHMARK(BM_PlanSearch_Gpt3_SuperPod)->Unit(benchmark::kSecond)->Iterations(1);

// Every A100 row the tests keep (tests/data/validation: GEMMs, context attention, vector
// operators, all-reduces, the GPT-3 layer) predicted, as `tessel validate` does.
void BM_ValidateA100Rows(benchmark::State& state) {
  validation::Hardware hardware(arch::node_of(arch::load_arch(kSource + "/configs/arch/a100_sxm.yaml")));
  std::vector<validation::Measurement> rows;
  for (const char* file : {"a100_gemm.csv", "a100_attention.csv", "a100_vector_ops.csv", "a100_collectives.csv",
                           "a100x4_gpt3_layer.csv"}) {
    const auto more = validation::read_measurements(kSource + "/tests/data/validation/" + file);
    rows.insert(rows.end(), more.begin(), more.end());
  }
  size_t cases = 0;
  for (auto _ : state) {
    cases = validation::validate(hardware, rows, {}).cases.size();
    benchmark::DoNotOptimize(cases);
  }
  state.counters["cases"] = static_cast<double>(cases);
}
BENCHMARK(BM_ValidateA100Rows)->Unit(benchmark::kMillisecond);

void BM_Gemm512x768x768_128x128_os(benchmark::State& state) {
  run_timing_only(state, kSource + "/configs/scalesim/os_128x128_calc.cfg", {"gemm", {{"gemm", 512, 768, 768}}});
}
BENCHMARK(BM_Gemm512x768x768_128x128_os)->Unit(benchmark::kMillisecond);

void BM_AlexNet_32x32_os_64kB(benchmark::State& state) {
  run_timing_only(state, kSource + "/configs/scalesim/os_32x32_64kB.cfg",
                  workloads::read_topology_csv(kSource + "/configs/topologies/alexnet.csv"));
}
BENCHMARK(BM_AlexNet_32x32_os_64kB)->Unit(benchmark::kMillisecond);

// The mapper alone on one GEMM of a shipped architecture, with how much it searched.
void map_alone(benchmark::State& state, const std::string& arch_file, const workloads::Gemm& gemm, arch::DType dtype) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kSource + "/configs/arch/" + arch_file);
  mapper::MapResult result;
  for (auto _ : state) {
    result = mapper::map_gemm(spec, gemm, mapper::MapperOptions{dtype});
    benchmark::DoNotOptimize(result);
  }
  state.counters["considered"] = static_cast<double>(result.considered);
  state.counters["space"] = static_cast<double>(result.space);
  state.counters["estimated_cycles"] = static_cast<double>(result.cost.estimated_cycles);
}

// GPT-3 175B's FFN up-projection (2048 tokens), the target.
void BM_MapGpt3FfnUp_TpuV4(benchmark::State& state) {
  map_alone(state, "tpu_v4_like.yaml", {"ffn_up", 2048, 49152, 12288}, arch::DType::Bf16);
}
BENCHMARK(BM_MapGpt3FfnUp_TpuV4)->Unit(benchmark::kMillisecond);

// A BERT-base-size GEMM on a 32x32 array, a sweep point's main cost.
void BM_MapBertGemm_32x32(benchmark::State& state) {
  map_alone(state, "array_32x32.yaml", {"gemm", 512, 768, 768}, arch::DType::Int8);
}
BENCHMARK(BM_MapBertGemm_32x32)->Unit(benchmark::kMillisecond);

// The sampled search on the same GEMM with a tenth of the space allowed, and its gap to the
// exhaustive optimum (gap_percent).
void BM_MapGpt3FfnUp_Sampled(benchmark::State& state) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kSource + "/configs/arch/tpu_v4_like.yaml");
  const workloads::Gemm gemm{"ffn_up", 2048, 49152, 12288};
  mapper::MapperOptions options{arch::DType::Bf16};
  const double optimum = static_cast<double>(mapper::map_gemm(spec, gemm, options).cost.estimated_cycles);
  options.exhaustive_limit = 386'000;
  mapper::MapResult result;
  for (auto _ : state) {
    result = mapper::map_gemm(spec, gemm, options);
    benchmark::DoNotOptimize(result);
  }
  state.counters["considered"] = static_cast<double>(result.considered);
  state.counters["gap_percent"] = 100.0 * (static_cast<double>(result.cost.estimated_cycles) / optimum - 1.0);
}
BENCHMARK(BM_MapGpt3FfnUp_Sampled)->Unit(benchmark::kMillisecond);

// Full cost evaluations of complete mappings (the analytic model the search ranks with).
void BM_EvaluateMappings(benchmark::State& state) {
  const arch::SystolicSpec spec = arch::load_systolic_spec(kSource + "/configs/arch/tpu_v4_like.yaml");
  const mapper::Extents gemm{2048, 49152, 12288};
  mapper::GemmMapping mapping{arch::Dataflow::WeightStationary, arch::DType::Bf16, mapper::Dim::N, 8, 6144,
                              {512, 512, 1024}, {mapper::Dim::N, mapper::Dim::K, mapper::Dim::M}, {0, 0, 0}, true};
  const mapper::TileCost tiles = mapper::tile_cost(spec, gemm, mapping);
  uint64_t r = 0;
  for (auto _ : state) {
    mapping.resident_loops = {static_cast<uint8_t>(r % 4), static_cast<uint8_t>(r / 4 % 4),
                              static_cast<uint8_t>(r / 16 % 4)};
    ++r;
    benchmark::DoNotOptimize(mapper::analytic_cost(spec, gemm, mapping, tiles));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateMappings);

}  // namespace

extern "C" int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
