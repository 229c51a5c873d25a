#include "cli/cli_common.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli/flag_bounds.h"
#include "workloads/hf_config.h"
#include "workloads/topology_csv.h"

namespace tessel::cli {

void add_target_flags(CLI::App& command, TargetFlags& flags, bool arch_required) {
  CLI::Option* arch =
      command.add_option("--arch", flags.arch, "Architecture: tessel YAML (configs/arch/*.yaml) or SCALE-Sim .cfg");
  if (arch_required) arch->required();
  CLI::Option* gemm =
      command.add_option("--gemm", flags.gemm, "One GEMM M,N,K: C[MxN] = A[MxK]·B[KxN]")->check(gemm_check());
  CLI::Option* topology =
      command.add_option("--topology", flags.topology, "SCALE-Sim topology CSV (conv or GEMM layout)");
  gemm->excludes(topology);
  command.add_option("--dataflow", flags.dataflow,
                     "Override the architecture's dataflow: os | ws | is, or any to let the mapper choose per layer");
  command.add_option("--dtype", flags.dtype,
                     "Number format: int8 | fp8 | fp16 | bf16 | fp32 (default: the first the architecture lists)");
  command.add_option("--objective", flags.objective, "What the mapper minimises: latency | energy | edp")
      ->capture_default_str();
}

std::unique_ptr<sim::Device> load_device(const std::string& path) { return sim::make_device(arch::load_arch(path)); }

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

sim::RunSettings target_settings(const TargetFlags& flags) {
  sim::RunSettings settings;
  if (!flags.dtype.empty()) {
    settings.dtype = arch::parse_dtype(flags.dtype);
    if (!settings.dtype) throw FlagError("--dtype '" + flags.dtype + "': not one of int8, fp8, fp16, bf16, fp32");
  }
  settings.search_dataflows = flags.dataflow == "any";
  if (!flags.dataflow.empty() && !settings.search_dataflows) {
    settings.dataflow = arch::parse_dataflow(flags.dataflow);
    if (!settings.dataflow) throw FlagError("--dataflow '" + flags.dataflow + "': not one of os, ws, is, any");
  }
  const std::optional<mapper::Objective> objective = mapper::parse_objective(flags.objective);
  if (!objective) throw FlagError("--objective '" + flags.objective + "': not one of latency, energy, edp");
  settings.objective = *objective;
  return settings;
}

workloads::Graph load_workload(const TargetFlags& flags) {
  if (!flags.gemm.empty()) return {"gemm", {gemm_flag(flags.gemm)}};
  if (!flags.topology.empty()) return workloads::read_topology_csv(flags.topology);
  throw FlagError("give a workload with --gemm M,N,K or --topology FILE");
}

workloads::ModelConfig load_model(const std::string& name_or_path, const std::string& quant) {
  const bool is_file = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.rfind(".json") == name_or_path.size() - 5);
  workloads::ModelConfig model = is_file ? workloads::read_hf_config(name_or_path) : workloads::model_preset(name_or_path);
  return quant.empty() ? model : workloads::with_recipe(std::move(model), workloads::parse_quant(quant));
}

std::string quant_help() {
  return "The precision recipe (with --gemm or --topology each B a weight), presets joined by commas (" + workloads::quant_presets_text() +
         ") or a recipe .yaml (configs/quant/); weights and KV cache are stored, moved and dequantized as it says";
}

arch::SystemSpec load_hardware(const std::string& system, const std::string& arch, uint64_t devices) {
  if (!system.empty()) return arch::load_system(system);
  arch::SystemSpec node = arch::node_of(arch::load_arch(arch));
  if (devices > 1 && node.device_count() == 1) {
    throw FlagError("--tp/--pp/--dp: " + arch +
                    " describes one device with no links to others; give a system of several with --system FILE");
  }
  return node;
}

std::vector<uint64_t> parse_stage_layers(const std::string& text) {
  std::vector<uint64_t> layers;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos || item.size() > 9) {
      throw FlagError("--stage-layers '" + text + "': give whole numbers separated by commas, e.g. 20,20,20,20");
    }
    layers.push_back(std::stoull(item));
  }
  return layers;
}

arch::CollectiveAlgorithm parse_collective(const std::string& text) {
  const std::optional<arch::CollectiveAlgorithm> algorithm = arch::parse_collective_algorithm(text);
  if (!algorithm || *algorithm == arch::CollectiveAlgorithm::Direct) {
    throw FlagError("--collective '" + text + "': not one of ring, tree, hierarchical, torus, in-switch");
  }
  return *algorithm;
}

int finish_command(const sim::ReportBundle& reports, bool quiet, const std::string& out, const std::string& trace) {
  if (!quiet) reports.print_table(std::cout);
  if (!out.empty()) sim::write_report_files(reports, out);
  if (!trace.empty()) sim::write_file(reports.write_trace, trace);
  if (reports.numerics_passed) return 0;
  std::cerr << "tessel: the numerics check failed: see the numerics entries in "
            << (out.empty() ? "the table" : out + "/stats.json") << '\n';
  return kExitNumericsFailed;
}

void print_warnings(const std::vector<std::string>& warnings) {
  for (const std::string& warning : warnings) std::cerr << "tessel: warning: " << warning << '\n';
}

void print_warnings(const nlohmann::json& summary) {
  // A GEMM run's summary has no warnings.
  print_warnings(summary.value("warnings", std::vector<std::string>()));
}

sim::RunObserver progress_observer(bool quiet, bool ops) {
  sim::RunObserver observer;
  if (quiet) return observer;
  // The first and last of each count, and between them a line every half second: a long
  // generate run has as many steps as output tokens.
  const auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  const auto progress = [last](size_t i, size_t count, const std::string& what) {
    const auto now = std::chrono::steady_clock::now();
    if (i != 0 && i + 1 != count && now - *last < std::chrono::milliseconds(500)) return;
    *last = now;
    std::cerr << "[" << i + 1 << "/" << count << "] " << what << '\n';
  };
  if (ops) observer.on_op = progress;
  observer.on_step = progress;
  return observer;
}

}  // namespace tessel::cli
