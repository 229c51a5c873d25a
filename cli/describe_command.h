// `tessel describe`: what an architecture file amounts to once loaded: peak rates, buffers,
// DRAM, vector unit, area, and an FPGA design's use of its device. A quick check that a
// config says what its author meant.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tessel::cli {

struct DescribeFlags {
  std::string arch;
};

CLI::App* add_describe_command(CLI::App& app, DescribeFlags& flags);
int describe_command(const DescribeFlags& flags);

}  // namespace tessel::cli
