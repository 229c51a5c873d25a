// A transformer phase run operator by operator: Linear ops on the GEMM engine (mapped and
// simulated as any GEMM), every other op streamed through the cores' buffers, arrays and
// vector units (sim/stream_plan). Ops run one after another, as kernels do. The graph's
// layer is simulated once and counted num_hidden_layers times (its layers are identical in
// shape), and an op identical to one already simulated, in this step or an earlier one,
// reuses that simulation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "arch/energy.h"
#include "arch/spec.h"
#include "sim/numerics/gemm_check.h"
#include "sim/roofline.h"
#include "sim/workload_run.h"
#include "workloads/model_config.h"
#include "workloads/op.h"
#include "workloads/transformer.h"

namespace tessel::sim {

struct OpResult {
  std::string name;
  workloads::OpKind kind;
  std::string shape;
  uint64_t repeats = 1;  // executions in the step: num_hidden_layers for a layer's ops
  bool in_layer = false;
  // Figures of ONE execution.
  uint64_t flops = 0;
  uint64_t macs = 0;
  uint64_t cycles = 0;
  Roofline roofline{};
  // Busy fraction of what does the op's arithmetic: the arrays for matrix products, else the
  // vector units; 0 for pure data movement.
  double utilization = 0;
  double dram_utilization = 0;  // DRAM bytes / (cycles × bandwidth)
  // What kept the op busy, one execution: the busiest array or core's arrays, the busiest
  // core's vector unit, the DRAM channel.
  uint64_t array_busy_cycles = 0;
  uint64_t vector_busy_cycles = 0;
  double dram_busy_cycles = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
  std::string mapping;  // Linear: the mapping; else how the op streamed
  NumericsReport numerics;
  bool reused = false;
};

struct StepResult {
  workloads::Phase phase;
  std::vector<OpResult> ops;  // execution order; a layer's ops once
  // The whole step: each op's figures times its repeats.
  uint64_t cycles = 0;
  uint64_t layer_cycles = 0;  // one layer
  uint64_t roofline_cycles = 0;
  uint64_t flops = 0;
  uint64_t macs = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
};

struct ModelRequest {
  enum Kind { Prefill, Decode, Generate };
  Kind kind = Prefill;
  uint64_t batch = 1;
  uint64_t seq = 1;     // prefill: prompt tokens
  uint64_t cached = 0;  // decode: tokens already in the KV cache
  uint64_t input = 1;   // generate: prompt tokens
  uint64_t output = 1;  // generate: decode steps after the prefill, one token each
};

// "prefill", "decode" or "generate".
std::string request_kind_name(ModelRequest::Kind kind);

struct ModelRunOptions {
  RunOptions gemm;  // dtype, objective, dataflow search, confirm, numerics check, seed
  workloads::AttentionImpl attention = workloads::AttentionImpl::Fused;
  // GPUs of one node sharing every layer (Megatron tensor parallelism); 1: a single chip. The
  // run is one GPU's shard and its collectives: each GPU does the same.
  uint64_t tensor_parallel = 1;
  // Called before each step with its index (0-based), the step count and the phase.
  std::function<void(size_t, size_t, const workloads::Phase&)> on_step;
};

// What the reports need of the architecture a model ran on, whatever its kind.
struct ModelArch {
  std::string name;
  std::string source_file;
  double clock_hz = 0;
  double peak_macs_per_cycle = 0;   // in the run's format
  double dram_bytes_per_cycle = 0;  // peak; 0: unlimited
  uint64_t dram_capacity_bytes = 0;  // 0: not stated
  std::vector<arch::ResourceUse> resources;  // FPGA designs only
};

struct ModelRunResult {
  ModelArch arch;
  workloads::ModelConfig model;
  ModelRequest request;
  arch::DType dtype{};
  workloads::AttentionImpl attention{};
  std::vector<StepResult> steps;  // generate: the prefill, then one per decode step
  uint64_t tensor_parallel = 1;   // GPUs running the same shard-sized work at once
  // What must stay in DRAM (of one GPU when tensor-parallel): every parameter and the KV
  // cache at its longest.
  uint64_t weight_bytes = 0;
  uint64_t kv_cache_bytes = 0;

  uint64_t cycles() const;
  double seconds() const;
  double step_seconds(size_t step) const;
  // Generate only: the prefill's time, the mean decode step, batch × output / seconds.
  double ttft_s() const;
  double tpot_s() const;
  double tokens_per_s() const;
  uint64_t footprint_bytes() const { return weight_bytes + kv_cache_bytes; }
  // Whether the footprint fits the architecture's DRAM; nothing when its capacity is not
  // stated. Timing never depends on it: a model too large for one chip is simulated as if it
  // fitted, as a model sharded over chips would run without their interconnect.
  std::optional<bool> fits_in_dram() const;
  uint64_t ops_checked() const;
  bool numerics_passed() const;  // every checked op passed (true when none was checked)
};

// Throws InputError for an invalid request (a size of 0, decode of an encoder) and
// std::invalid_argument for a dtype the architecture does not support or tensor parallelism
// (a systolic design has no interconnect to other chips).
ModelRunResult run_model(const arch::SystolicSpec& spec, const workloads::ModelConfig& model,
                         const ModelRequest& request, const ModelRunOptions& options);

// What one operator costs on some architecture (cycles, roofline, activity, energy, mapping,
// numerics); the driver below fills in the op's name, shape, repeats and totals.
using OpEngine = std::function<OpResult(const workloads::Op&, const ModelRunOptions&)>;

// The numerics check of an op other than a Linear per options.gemm.check (op_check's limits
// for Auto, no limits for Always); not checked for Never.
NumericsReport check_model_op(const workloads::Op& op, const ModelRunOptions& options);

// The KvCacheRead op's result on every architecture: the attention kernels that follow read
// the cache themselves, overlapped with their compute, so it takes no time and moves no bytes
// of its own (they are counted in the attention rows).
OpResult kv_cache_read_by_attention();

// The phases of `request`, each op costed once by `engine` (identical ops reuse their run),
// the layer counted num_hidden_layers times. run_model for each kind of architecture calls it.
ModelRunResult run_model_on(const ModelArch& arch, const OpEngine& engine, const workloads::ModelConfig& model,
                            const ModelRequest& request, const ModelRunOptions& options);

}  // namespace tessel::sim
