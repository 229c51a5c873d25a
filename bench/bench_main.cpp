// Host time of whole runs (load, map, simulate; timing only), the figures SCALE-Sim v2 is
// compared with: it needs about 11 s and 293 s of CPU for these two on a 2-core machine.
#include <benchmark/benchmark.h>

#include <string>

#include "arch/config_loader.h"
#include "sim/workload_run.h"
#include "workloads/topology_csv.h"

namespace {

using namespace tessel;

const std::string kSource = TESSEL_SOURCE_DIR;

void run_timing_only(benchmark::State& state, const std::string& arch_file, const workloads::Graph& graph) {
  const arch::SystolicSpec spec = arch::load_spec(arch_file);
  sim::RunOptions options;
  options.dtype = spec.dtypes.front().dtype;
  options.check = sim::CheckMode::Never;
  uint64_t cycles = 0;
  for (auto _ : state) {
    const sim::RunResult result = sim::run_workload(spec, graph, options);
    cycles = result.totals.total_cycles;
    benchmark::DoNotOptimize(cycles);
  }
  state.counters["simulated_cycles"] = static_cast<double>(cycles);
  state.counters["layers"] = static_cast<double>(graph.gemms.size());
}

void BM_Gemm512x768x768_128x128_os(benchmark::State& state) {
  run_timing_only(state, kSource + "/configs/scalesim/os_128x128_calc.cfg", {"gemm", {{"gemm", 512, 768, 768}}});
}
BENCHMARK(BM_Gemm512x768x768_128x128_os)->Unit(benchmark::kMillisecond);

void BM_AlexNet_32x32_os_64kB(benchmark::State& state) {
  run_timing_only(state, kSource + "/configs/scalesim/os_32x32_64kB.cfg",
                  workloads::read_topology_csv(kSource + "/configs/topologies/alexnet.csv"));
}
BENCHMARK(BM_AlexNet_32x32_os_64kB)->Unit(benchmark::kMillisecond);

}  // namespace

extern "C" int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
