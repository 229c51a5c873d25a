// `tessel map`: the mapper's choice for one GEMM, as a loop nest per memory level, with its
// cost, how much of the mapspace was searched and the runners-up.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_common.h"

namespace tessel::cli {

struct MapFlags {
  TargetFlags target;
  std::string layer;
  // An operator of a transformer instead of --gemm/--topology.
  std::string model;  // preset name or Hugging Face config.json
  std::string op;     // e.g. mlp.up_proj
  std::string phase = "prefill";
  uint64_t batch = 1;
  uint64_t seq = 2048;    // prefill tokens per sequence
  uint64_t kv_len = 2048; // decode: tokens already cached
  uint64_t seed = 1;
  size_t top = 5;
  std::string json;
};

CLI::App* add_map_command(CLI::App& app, MapFlags& flags);
int map_command(const MapFlags& flags);

}  // namespace tessel::cli
