// What the tessel subcommands share: exit codes, flag errors, and turning the architecture,
// workload and setting flags into values.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "arch/system_spec.h"
#include "sim/device.h"
#include "sim/report/common.h"
#include "sim/run_workload.h"
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

// `arch_required`: false where another flag (run's --system) may name the hardware instead.
void add_target_flags(CLI::App& command, TargetFlags& flags, bool arch_required = true);

// The device an architecture file describes, whatever its kind (read once).
std::unique_ptr<sim::Device> load_device(const std::string& path);
// A file's whole text; empty when it cannot be read.
std::string read_text(const std::filesystem::path& path);
// The settings --dtype, --dataflow and --objective ask for (the device checks them).
sim::RunSettings target_settings(const TargetFlags& flags);
workloads::Graph load_workload(const TargetFlags& flags);
// A preset name, or a Hugging Face config.json (a path: it holds a '/' or ends in .json); with
// `quant` (--quant: presets or a recipe file) its precision recipe, which replaces the
// config.json's quantization_config.
workloads::ModelConfig load_model(const std::string& name_or_path, const std::string& quant = "");
// The --quant help text.
std::string quant_help();

// What a model runs on: the --system file, or the node an --arch file implies (a GPU file's
// nvlink section; else the one device), which must hold `devices`.
arch::SystemSpec load_hardware(const std::string& system, const std::string& arch, uint64_t devices);
// --stage-layers "20,20,20,20" and --collective ALG.
std::vector<uint64_t> parse_stage_layers(const std::string& text);
arch::CollectiveAlgorithm parse_collective(const std::string& text);
// What `run` and `train` do with their reports: print the table (unless quiet), write the
// files (--out DIR, --trace FILE), and return the exit status (kExitNumericsFailed when a
// check failed).
int finish_command(const sim::ReportBundle& reports, bool quiet, const std::string& out, const std::string& trace);

// The summary's "warnings" (the model config's, capacities exceeded), each on a line of stderr.
void print_warnings(const nlohmann::json& summary);
void print_warnings(const std::vector<std::string>& warnings);

// Progress on stderr: each step of several ("[2/5] decode batch 8, ..."), and with `ops` each
// op of a GEMM list; nothing when `quiet`.
sim::RunObserver progress_observer(bool quiet, bool ops);

}  // namespace tessel::cli
