#include "sim/cli/run_command.h"

#include <iostream>

#include "mapper/mapping_json.h"
#include "sim/numerics/gemm_check.h"
#include "sim/report.h"
#include "sim/workload_run.h"

namespace tessel::cli {

CLI::App* add_run_command(CLI::App& app, RunFlags& flags) {
  CLI::App* run = app.add_subcommand("run", "Map and simulate GEMM layers on an architecture");
  add_target_flags(*run, flags.target);
  CLI::Option* check = run->add_flag(
      "--check", flags.check,
      "Check every layer's values against Eigen, however large (default: layers of at most " +
          std::to_string(sim::default_check_limit_macs()) + " MACs and " +
          std::to_string(sim::default_check_limit_elements()) + " elements of A, B and C, about a second each)");
  CLI::Option* no_check = run->add_flag("--no-check", flags.no_check, "Timing only: skip the numerics check");
  check->excludes(no_check);
  run->add_option("--seed", flags.seed, "Seed of the random operands of the numerics check")->capture_default_str();
  run->add_option("--confirm", flags.confirm,
                  "Simulate the mapper's best N mappings of each layer and keep the best (1: trust the analytic ranking)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run->add_option("--mapping", flags.mapping,
                  "Pin this mapping (a `tessel map --json` file) for every layer instead of searching");
  run->add_option("--out", flags.out, "Write summary.json, layers.csv and stats.json into this directory");
  run->add_flag("--quiet", flags.quiet, "Print neither the table nor progress");
  run->footer(
      "Exit status: 0 success, 1 bad input (the message names file, line and key), 2 bad usage,\n"
      "3 the numerics check failed.");
  return run;
}

int run_command(const RunFlags& flags) {
  sim::RunOptions options;
  const arch::SystolicSpec spec = load_target(flags.target, options.search_dataflows);
  const workloads::Graph graph = load_workload(flags.target);
  options.dtype = choose_dtype(spec, flags.target.dtype);
  options.objective = choose_objective(flags.target.objective);
  options.check = flags.check ? sim::CheckMode::Always : flags.no_check ? sim::CheckMode::Never : sim::CheckMode::Auto;
  options.check_limit_macs = sim::default_check_limit_macs();
  options.check_limit_elements = sim::default_check_limit_elements();
  options.seed = flags.seed;
  options.confirm = flags.confirm;
  if (!flags.mapping.empty()) options.pinned = mapper::read_mapping_file(flags.mapping);
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

}  // namespace tessel::cli
