#include "cli/describe_command.h"

#include <iostream>

#include "cli/cli_common.h"

namespace tessel::cli {

CLI::App* add_describe_command(CLI::App& app, DescribeFlags& flags) {
  CLI::App* describe = app.add_subcommand(
      "describe",
      "Print an architecture's derived figures (systolic, FPGA, GPU or CPU): peaks, memories, area, FPGA resources, links");
  describe->add_option("--arch", flags.arch, "Architecture: tessel YAML (systolic, fpga or gpu) or SCALE-Sim .cfg")
      ->required();
  return describe;
}

int describe_command(const DescribeFlags& flags) {
  load_device(flags.arch)->describe(std::cout);
  return 0;
}

}  // namespace tessel::cli
