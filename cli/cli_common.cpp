#include "cli/cli_common.h"

#include <optional>

#include "arch/load_arch.h"
#include "workloads/gemm_arg.h"
#include "workloads/hf_config.h"
#include "workloads/topology_csv.h"

namespace tessel::cli {

void add_target_flags(CLI::App& command, TargetFlags& flags, bool arch_required) {
  CLI::Option* arch =
      command.add_option("--arch", flags.arch, "Architecture: tessel YAML (configs/arch/*.yaml) or SCALE-Sim .cfg");
  if (arch_required) arch->required();
  CLI::Option* gemm = command.add_option("--gemm", flags.gemm, "One GEMM M,N,K: C[MxN] = A[MxK]·B[KxN]");
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
  if (!flags.gemm.empty()) return {"gemm", {workloads::parse_gemm_arg(flags.gemm)}};
  if (!flags.topology.empty()) return workloads::read_topology_csv(flags.topology);
  throw FlagError("give a workload with --gemm M,N,K or --topology FILE");
}

workloads::ModelConfig load_model(const std::string& name_or_path) {
  const bool is_file = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.rfind(".json") == name_or_path.size() - 5);
  return is_file ? workloads::read_hf_config(name_or_path) : workloads::model_preset(name_or_path);
}

}  // namespace tessel::cli
