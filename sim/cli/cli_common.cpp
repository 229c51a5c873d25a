#include "sim/cli/cli_common.h"

#include <optional>

#include "arch/config_loader.h"
#include "workloads/gemm_arg.h"
#include "workloads/hf_config.h"
#include "workloads/topology_csv.h"

namespace tessel::cli {

void add_target_flags(CLI::App& command, TargetFlags& flags) {
  command.add_option("--arch", flags.arch, "Architecture: tessel YAML (configs/arch/*.yaml) or SCALE-Sim .cfg")
      ->required();
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

arch::SystolicSpec load_target(const TargetFlags& flags, bool& search_dataflows) {
  arch::SystolicSpec spec = arch::load_spec(flags.arch);
  search_dataflows = flags.dataflow == "any";
  if (!flags.dataflow.empty() && !search_dataflows) {
    const std::optional<arch::Dataflow> dataflow = arch::parse_dataflow(flags.dataflow);
    if (!dataflow) throw FlagError("--dataflow '" + flags.dataflow + "': not one of os, ws, is, any");
    spec.array.dataflow = *dataflow;
  }
  return spec;
}

workloads::Graph load_workload(const TargetFlags& flags) {
  if (!flags.gemm.empty()) return {"gemm", {workloads::parse_gemm_arg(flags.gemm)}};
  if (!flags.topology.empty()) return workloads::read_topology_csv(flags.topology);
  throw FlagError("give a workload with --gemm M,N,K or --topology FILE");
}

arch::DType choose_dtype(const arch::SystolicSpec& spec, const std::string& requested) {
  if (requested.empty()) return spec.dtypes.front().dtype;
  const std::optional<arch::DType> dtype = arch::parse_dtype(requested);
  if (!dtype) throw FlagError("--dtype '" + requested + "': not one of int8, fp8, fp16, bf16, fp32");
  if (spec.find_dtype(*dtype) == nullptr) {
    throw FlagError("--dtype " + requested + ": " + spec.source_file + " does not list it under dtypes");
  }
  return *dtype;
}

arch::DType choose_gpu_dtype(const arch::GpuSpec& gpu, const std::string& requested) {
  if (requested.empty()) return gpu.default_dtype();
  const std::optional<arch::DType> dtype = arch::parse_dtype(requested);
  if (!dtype) throw FlagError("--dtype '" + requested + "': not one of int8, fp8, fp16, bf16, fp32");
  if (!gpu.tensor_macs_per_cycle_per_sm(*dtype)) {
    throw FlagError("--dtype " + requested + ": " + gpu.source_file + " gives its tensor cores no rate for it");
  }
  return *dtype;
}

void refuse_systolic_search_flags(const TargetFlags& flags) {
  if (!flags.dataflow.empty()) throw FlagError("--dataflow: a GPU has no dataflow to choose");
  if (choose_objective(flags.objective) != mapper::Objective::Latency) {
    throw FlagError("--objective " + flags.objective + ": the GPU mapper minimises latency only");
  }
}

mapper::Objective choose_objective(const std::string& requested) {
  const std::optional<mapper::Objective> objective = mapper::parse_objective(requested);
  if (!objective) throw FlagError("--objective '" + requested + "': not one of latency, energy, edp");
  return *objective;
}

workloads::ModelConfig load_model(const std::string& name_or_path) {
  const bool is_file = name_or_path.find('/') != std::string::npos ||
                       (name_or_path.size() > 5 && name_or_path.rfind(".json") == name_or_path.size() - 5);
  return is_file ? workloads::read_hf_config(name_or_path) : workloads::model_preset(name_or_path);
}

}  // namespace tessel::cli
