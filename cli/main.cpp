// The tessel command line. libsystemc provides main() and calls sc_main().
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/describe_command.h"
#include "cli/map_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/sweep_command.h"
#include "cli/train_command.h"
#include "cli/validate_command.h"
#include "sim/report/build_info.h"

extern "C" int sc_main(int argc, char* argv[]) {
  using namespace tessel::cli;
  CLI::App app{"tessel: a cycle-approximate simulator of accelerators for transformer workloads"};
  app.set_version_flag("--version",
                       "tessel " + tessel::sim::tessel_version() + " (commit " + tessel::sim::tessel_commit() + ")",
                       "Print the version and the git commit tessel was built from, and exit");
  app.require_subcommand(1);
  RunFlags run_flags;
  MapFlags map_flags;
  DescribeFlags describe_flags;
  ValidateFlags validate_flags;
  SweepFlags sweep_flags;
  TrainFlags train_flags;
  ServeFlags serve_flags;
  CLI::App* run = add_run_command(app, run_flags);
  CLI::App* train = add_train_command(app, train_flags);
  CLI::App* serve = add_serve_command(app, serve_flags);
  CLI::App* map = add_map_command(app, map_flags);
  CLI::App* describe = add_describe_command(app, describe_flags);
  CLI::App* validate = add_validate_command(app, validate_flags);
  CLI::App* sweep = add_sweep_command(app, sweep_flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : kExitUsage;  // --help exits 0
  }
  try {
    if (run->parsed()) return run_command(run_flags);
    if (train->parsed()) return train_command(train_flags);
    if (serve->parsed()) return serve_command(serve_flags);
    if (map->parsed()) return map_command(map_flags);
    if (describe->parsed()) return describe_command(describe_flags);
    if (validate->parsed()) return validate_command(validate_flags);
    if (sweep->parsed()) return sweep_command(sweep_flags);
  } catch (const std::exception& error) {
    std::cerr << "tessel: " << error.what() << '\n';
    return kExitInputError;
  }
  return kExitUsage;
}
