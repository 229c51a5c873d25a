// What the tessel subcommands share: exit codes, flag errors, and turning the workload and
// architecture flags into values.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

#include "arch/gpu/gpu_spec.h"
#include "arch/spec.h"
#include "mapper/systolic_mapper.h"
#include "workloads/gemm.h"
#include "workloads/model_config.h"

namespace tessel::cli {

// Exit codes a script can tell apart.
constexpr int kExitInputError = 1;      // bad architecture, workload or flag value
constexpr int kExitUsage = 2;           // flags that do not parse
constexpr int kExitNumericsFailed = 3;  // the datapath's values disagreed with Eigen

// A flag whose value tessel cannot use (exit 1, like any other bad input).
class FlagError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Flags every subcommand that maps GEMMs onto an architecture takes.
struct TargetFlags {
  std::string arch;
  std::string gemm;
  std::string topology;
  std::string dataflow;  // os | ws | is, or any: the mapper tries all three
  std::string dtype;
  std::string objective = "latency";
};

void add_target_flags(CLI::App& command, TargetFlags& flags);

// The architecture with the --dataflow override applied; `search_dataflows` tells whether
// --dataflow any asked for all three.
arch::SystolicSpec load_target(const TargetFlags& flags, bool& search_dataflows);
workloads::Graph load_workload(const TargetFlags& flags);
arch::DType choose_dtype(const arch::SystolicSpec& spec, const std::string& requested);
// The GPU's first tensor-core format, or the one asked for when its tensor cores take it.
arch::DType choose_gpu_dtype(const arch::GpuSpec& gpu, const std::string& requested);
// Throws FlagError for the systolic search's flags a GPU's GEMM mapper has no use for: a
// dataflow, an objective other than latency.
void refuse_systolic_search_flags(const TargetFlags& flags);
mapper::Objective choose_objective(const std::string& requested);
// A preset name, or a Hugging Face config.json (a path: it holds a '/' or ends in .json).
workloads::ModelConfig load_model(const std::string& name_or_path);

}  // namespace tessel::cli
