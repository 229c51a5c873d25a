// A design-space sweep file: an architecture (or a system of devices), the values each of some
// of its keys and of some run flags takes, and the `tessel run` (or `tessel train`) flags every
// point runs with. Every combination of the values is a point.
//
//   name: tpu_v4_dram                      # optional; names the output
//   arch: ../arch/tpu_v4_like.yaml         # a tessel YAML file, relative to this one, or
//                                          # system: ../systems/dgx_a100.yaml
//   vary:                                  # dotted keys of that file (a list is indexed),
//     dram.bandwidth_gb_s: [600, 1200, 2400]
//     array.rows: [64, 128]
//     run.batch: [1, 8]                    # or run.<flag>: a `tessel run` flag
//   run:                                   # `tessel run` flags without their dashes, or
//     model: llama2-7b                     # train: `tessel train`'s (then vary train.<flag>)
//     phase: decode
//     no-check: true
//   sample: grid                           # optional: every combination (grid, the default),
//                                          # zip (the i-th value of each axis), or
//                                          # {random: N, seed: S} / {latin: N, seed: S}
//   derive:                                # optional: keys set from the point's values
//     buffers.0.capacity_kib: array.rows * array.cols / 4
//   constraints:                           # optional: a point that breaks one is skipped
//     - area_mm2 <= 400
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace tessel::cli {

struct SweepAxis {
  std::string key;                  // dotted, e.g. "dram.bandwidth_gb_s", or "run.batch"
  std::vector<YAML::Node> values;   // scalars, in the file's order
  std::vector<std::string> labels;  // the values as written
  // A run flag's axis ("run.<flag>" or "train.<flag>"): the flag it sets, e.g. "batch"; empty
  // for a key of the hardware file.
  std::string run_flag;
};

struct SweepSpec {
  std::string file;
  std::string name;
  std::string hardware_flag = "arch";  // "arch" or "system": what the file is, the flag a point passes it with
  std::string hardware_file;           // resolved against the spec's folder
  YAML::Node hardware;                 // its root
  std::string command = "run";         // "run" or "train": what each point runs
  std::vector<SweepAxis> axes;
  std::vector<std::string> run_args;  // the command's flags, e.g. {"--model", "llama2-7b", "--no-check"}
  // The points a sampler chose, each a value index per axis; empty for the full grid.
  std::vector<std::vector<size_t>> sampled;
  // Hardware keys set at each point from an expression (cli/sweep_expression.h) over its
  // keys, in the file's order, each after the axes and the ones before it.
  std::vector<std::pair<std::string, std::string>> derived;
  // Comparisons over the point's keys and its device's figures (kDeviceFigures); a point that
  // breaks one is skipped with the reason.
  std::vector<std::string> constraints;

  uint64_t points() const;
  // The value index of each axis at `point` (the grid's last axis varies fastest).
  std::vector<size_t> coordinates(uint64_t point) const;
  // The run flags of `point`: run_args, then each run-flag axis's flag and value.
  std::vector<std::string> run_args_at(uint64_t point) const;
};

// The device figures a constraint may name besides the architecture's keys.
inline const std::vector<std::string> kDeviceFigures = {"area_mm2", "clock_hz", "peak_macs_per_cycle",
                                                        "dram_capacity_bytes", "dram_bytes_per_cycle"};

// Throws arch::ConfigError naming the file, line and key: an unknown key, both or neither of
// arch and system, of run and train, a vary key the hardware file does not have or that is not
// a scalar there, an empty or non-scalar value list, a run flag that the sweep sets itself
// (arch, system, out, quiet), or help, or one both set under run and varied, one varied under
// the other command's prefix; a sampler of more points than the grid has (random), or zip over
// lists of different lengths; a derived key that is no scalar of the architecture or is varied,
// an expression that does not parse or names what has no value.
SweepSpec read_sweep_spec(const std::string& path);

// Appends a run flag as `tessel run` (or train) takes it: "--flag value", the flag alone for
// true, nothing for false.
void append_run_flag(std::vector<std::string>& args, const std::string& flag, const std::string& value);

// The number `key` holds in the hardware file `root`; nothing when it holds none.
std::optional<double> number_at(const YAML::Node& root, const std::string& key);

// The hardware file at `point`: a copy of spec.hardware with each axis's value set, then each
// derived key's, and a system's device file named by its absolute path (the point's file is
// written elsewhere). Throws ExpressionError for a derived value the point cannot compute.
YAML::Node hardware_at(const SweepSpec& spec, uint64_t point);

}  // namespace tessel::cli
