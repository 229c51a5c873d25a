// `tessel validate`: predicts the rows of a measurement file (GEMMs, vector operators, the
// operators of Llama layers, collectives) on an architecture or a system, and prints and writes each case's
// predicted and measured latency, its error and the mean absolute percentage error per
// category.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tessel::cli {

struct ValidateFlags {
  std::string arch;
  std::string system;
  std::string measurements;
  std::string category;
  std::string hardware;
  std::string out;
  bool quiet = false;
};

CLI::App* add_validate_command(CLI::App& app, ValidateFlags& flags);
int validate_command(const ValidateFlags& flags);

}  // namespace tessel::cli
