// The tessel command line. libsystemc provides main() and calls sc_main().
#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include "arch/config_loader.h"
#include "sim/numerics/gemm_check.h"
#include "sim/report.h"
#include "sim/workload_run.h"
#include "workloads/gemm_arg.h"
#include "workloads/topology_csv.h"

namespace {

using namespace tessel;

// Exit codes a script can tell apart.
constexpr int kExitInputError = 1;      // bad architecture, workload or flag value
constexpr int kExitUsage = 2;           // flags that do not parse
constexpr int kExitNumericsFailed = 3;  // the datapath's values disagreed with Eigen

// A flag whose value tessel cannot use (exit 1, like any other bad input).
class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunFlags {
  std::string arch;
  std::string gemm;
  std::string topology;
  std::string dataflow;
  std::string dtype;
  bool check = false;
  bool no_check = false;
  uint64_t seed = 1;
  std::string out;
  bool quiet = false;
};

void add_run_command(CLI::App& app, RunFlags& flags) {
  CLI::App* run = app.add_subcommand("run", "Map and simulate GEMM layers on an architecture");
  run->add_option("--arch", flags.arch, "Architecture: tessel YAML (configs/arch/*.yaml) or SCALE-Sim .cfg")
      ->required();
  CLI::Option* gemm = run->add_option("--gemm", flags.gemm, "One GEMM M,N,K: C[MxN] = A[MxK]·B[KxN]");
  CLI::Option* topology =
      run->add_option("--topology", flags.topology, "SCALE-Sim topology CSV (conv or GEMM layout)");
  gemm->excludes(topology);
  run->add_option("--dataflow", flags.dataflow, "Override the architecture's dataflow: os | ws | is");
  run->add_option("--dtype", flags.dtype,
                  "Number format: int8 | fp8 | fp16 | bf16 | fp32 (default: the first the architecture lists)");
  CLI::Option* check = run->add_flag(
      "--check", flags.check,
      "Check every layer's values against Eigen, however large (default: layers of at most " +
          std::to_string(sim::default_check_limit_macs()) + " MACs and " +
          std::to_string(sim::default_check_limit_elements()) +
          " elements of A, B and C, about a second each)");
  CLI::Option* no_check = run->add_flag("--no-check", flags.no_check, "Timing only: skip the numerics check");
  check->excludes(no_check);
  run->add_option("--seed", flags.seed, "Seed of the random operands the numerics check uses")->capture_default_str();
  run->add_option("--out", flags.out, "Write summary.json, layers.csv and stats.json into this directory");
  run->add_flag("--quiet", flags.quiet, "Print neither the table nor progress");
  run->footer(
      "Exit status: 0 success, 1 bad input (the message names file, line and key), 2 bad usage,\n"
      "3 the numerics check failed.");
}

workloads::Graph load_workload(const RunFlags& flags) {
  if (!flags.gemm.empty()) return {"gemm", {workloads::parse_gemm_arg(flags.gemm)}};
  if (!flags.topology.empty()) return workloads::read_topology_csv(flags.topology);
  throw FlagError("run: give a workload with --gemm M,N,K or --topology FILE");
}

arch::DType choose_dtype(const arch::SystolicSpec& spec, const std::string& requested) {
  if (requested.empty()) return spec.dtypes.front().dtype;
  const std::optional<arch::DType> dtype = arch::parse_dtype(requested);
  if (!dtype) throw FlagError("--dtype '" + requested + "': not one of int8, fp8, fp16, bf16, fp32");
  if (spec.find_dtype(*dtype) == nullptr) {
    throw FlagError("--dtype " + requested + ": " + spec.source_file + " does not list it under dtypes");
  }
  return *dtype;
}

int run_command(const RunFlags& flags) {
  arch::SystolicSpec spec = arch::load_spec(flags.arch);
  if (!flags.dataflow.empty()) {
    const std::optional<arch::Dataflow> dataflow = arch::parse_dataflow(flags.dataflow);
    if (!dataflow) throw FlagError("--dataflow '" + flags.dataflow + "': not one of os, ws, is");
    spec.array.dataflow = *dataflow;
  }
  const workloads::Graph graph = load_workload(flags);

  sim::RunOptions options;
  options.dtype = choose_dtype(spec, flags.dtype);
  options.check = flags.check ? sim::CheckMode::Always : flags.no_check ? sim::CheckMode::Never : sim::CheckMode::Auto;
  options.check_limit_macs = sim::default_check_limit_macs();
  options.check_limit_elements = sim::default_check_limit_elements();
  options.seed = flags.seed;
  if (!flags.quiet && graph.gemms.size() > 1) {
    options.on_layer = [](size_t i, size_t count, const workloads::Gemm& gemm) {
      std::cerr << "[" << i + 1 << "/" << count << "] " << gemm.name << '\n';
    };
  }

  const sim::RunResult result = sim::run_workload(spec, graph, options);
  if (!flags.quiet) sim::print_table(result, std::cout);
  if (!flags.out.empty()) sim::write_reports(result, flags.out);
  if (!result.numerics_passed()) {
    std::cerr << "tessel: the numerics check failed: see the numerics entries in "
              << (flags.out.empty() ? "the table" : flags.out + "/stats.json") << '\n';
    return kExitNumericsFailed;
  }
  return 0;
}

}  // namespace

extern "C" int sc_main(int argc, char* argv[]) {
  CLI::App app{"tessel: a cycle-approximate simulator of accelerators for transformer workloads"};
  app.require_subcommand(1);
  RunFlags flags;
  add_run_command(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : kExitUsage;  // --help exits 0
  }
  try {
    return run_command(flags);
  } catch (const std::exception& error) {
    std::cerr << "tessel: " << error.what() << '\n';
    return kExitInputError;
  }
}
