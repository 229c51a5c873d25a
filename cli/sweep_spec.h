// A design-space sweep file: an architecture, the values each of some of its keys takes, and
// the `tessel run` flags every point runs with. Every combination of the values is a point.
//
//   name: tpu_v4_dram                      # optional; names the output
//   arch: ../arch/tpu_v4_like.yaml         # a tessel YAML file, relative to this one
//   vary:                                  # dotted keys of that file (a list is indexed)
//     dram.bandwidth_gb_s: [600, 1200, 2400]
//     array.rows: [64, 128]
//   run:                                   # `tessel run` flags without their dashes
//     model: llama2-7b
//     phase: decode
//     no-check: true
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace tessel::cli {

struct SweepAxis {
  std::string key;                  // dotted, e.g. "dram.bandwidth_gb_s"
  std::vector<YAML::Node> values;   // scalars, in the file's order
  std::vector<std::string> labels;  // the values as written
};

struct SweepSpec {
  std::string file;
  std::string name;
  std::string arch_file;  // resolved against the spec's folder
  YAML::Node arch;        // the architecture file's root
  std::vector<SweepAxis> axes;
  std::vector<std::string> run_args;  // e.g. {"--model", "llama2-7b", "--no-check"}

  uint64_t points() const;
  // The value index of each axis at `point` (the last axis varies fastest).
  std::vector<size_t> coordinates(uint64_t point) const;
};

// Throws arch::ConfigError naming the file, line and key: an unknown key, a vary key the
// architecture file does not have or that is not a scalar there, an empty or non-scalar
// value list, a run flag that the sweep sets itself (arch, out, quiet), or help.
SweepSpec read_sweep_spec(const std::string& path);

// The architecture at `point`: a copy of spec.arch with each axis's value set.
YAML::Node arch_at(const SweepSpec& spec, uint64_t point);

}  // namespace tessel::cli
