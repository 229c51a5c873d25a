// The one driver: a workload (a list of GEMMs, or a transformer phase) run op by op on one
// device, kernel after kernel. Each op is run by the device (sim/device.h) once per identity:
// an op identical to one already run, in this step or an earlier one, reuses its result, and
// a model's repeated layer is run once and counted num_hidden_layers times. A generate run
// simulates some of its decode steps and interpolates the others (sim/decode_steps.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sim/device.h"
#include "workloads/gemm.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::sim {

class DecodeReplay;

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

// The steps a request runs: its prefill, one decode step, or a prefill then `output` decode
// steps over a growing cache. Throws InputError for a size of 0.
std::vector<workloads::Phase> phases_of(const ModelRequest& request);

// GEMM layers (--gemm, a SCALE-Sim topology), run as Linear ops.
struct GemmWorkload {
  workloads::Graph graph;
  // --quant: each GEMM's B is a weight stored as the recipe says.
  workloads::QuantRecipe quant = {};
};

// A transformer's prefill, decode step or generate run.
struct ModelWorkload {
  workloads::ModelConfig model;
  ModelRequest request;
  workloads::AttentionImpl attention = workloads::AttentionImpl::Fused;
  // A mixture of experts' routing: the busiest expert gets this many times the mean of the
  // tokens (1: uniform).
  double expert_skew = 1.0;
};

using Workload = std::variant<GemmWorkload, ModelWorkload>;

// Ops [first, first + count) of a step are a block of `repeats` identical runs of `layers`
// layers (workloads::LayerBlock).
struct StepBlock {
  size_t first = 0;
  size_t count = 0;
  uint64_t repeats = 1;
  uint64_t layers = 1;
};

struct StepResult {
  std::optional<workloads::Phase> phase;  // none for a GEMM workload
  std::vector<OpResult> ops;              // execution order; a layer's ops once
  std::vector<StepBlock> blocks;          // the layers among them
  // The whole step: each op's figures times its repeats.
  uint64_t cycles = 0;
  uint64_t layers = 0;        // the step's layers
  uint64_t layer_cycles = 0;  // their mean (one layer when they are identical)
  double layer_energy_pj = 0;  // their mean

  // Layers simulated: one of each run of identical ones (one for a dense model).
  uint64_t simulated_layers() const;
  uint64_t roofline_cycles = 0;
  uint64_t flops = 0;
  uint64_t macs = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
};

// `then` run after `first` as one step: its ops appended, its blocks moved past first's ops,
// the totals summed.
StepResult join_steps(StepResult first, const StepResult& then);

struct RunResult {
  DeviceFacts device;
  Workload workload;
  RunSettings settings;  // as the device configured them: the format is resolved
  // A GEMM workload: one; generate: the prefill, then one per decode step. Every step's totals;
  // a generate run keeps the ops of its prefill and its first and last decode steps only, and
  // for_each_step rebuilds the others' (sim/decode_steps.h).
  std::vector<StepResult> steps;
  std::shared_ptr<const DecodeReplay> replay;
  // A model's footprint in the device's main memory (one device's share when
  // tensor-parallel): every parameter and the KV cache at its longest.
  uint64_t weight_bytes = 0;
  uint64_t kv_cache_bytes = 0;
  // A model's precision recipe checked on a whole decoder layer (quant_layer_check.h): nothing
  // when the run checks nothing, the recipe changes no numbers or the run computes in int8.
  std::optional<NumericsReport> scheme_layer;
  // Devices sharing each layer when this is one device's tensor-parallel shard of a system run.
  uint64_t tensor_parallel = 1;

  arch::DType dtype() const { return *settings.dtype; }
  const ModelWorkload* model() const { return std::get_if<ModelWorkload>(&workload); }
  uint64_t cycles() const;
  double seconds() const;
  double step_seconds(size_t step) const;
  // Generate only: the prefill's time, the mean decode step, batch × output / seconds.
  double ttft_s() const;
  double tpot_s() const;
  double tokens_per_s() const;
  uint64_t footprint_bytes() const { return weight_bytes + kv_cache_bytes; }
  // Whether the footprint fits the device's main memory; nothing when its capacity is not
  // stated. Timing never depends on it: a model too large for one device is simulated as if
  // it fitted.
  std::optional<bool> fits_in_dram() const;
  // visit(i, step i with its ops) for each step in order.
  void for_each_step(const std::function<void(size_t, const StepResult&)>& visit) const;
  uint64_t ops_checked() const;   // checked ops, each counted once (reuses not)
  bool numerics_passed() const;   // every checked op (and scheme_layer) passed (true when none was checked)
  // The worst figures over the checked linears a precision recipe quantized; nothing when none was.
  std::optional<NumericsReport> scheme_numerics() const;
};

// Progress: before each step of several (index, count, what), before each op of a GEMM
// workload of several.
struct RunObserver {
  std::function<void(size_t, size_t, const std::string&)> on_step;
  std::function<void(size_t, size_t, const std::string&)> on_op;
};

// Throws SettingError for a setting the device cannot honour, InputError for an invalid
// request (a size of 0, decode of an encoder).
RunResult run_workload(Device& device, const Workload& workload, const RunSettings& settings,
                       const RunObserver& observer = {});

}  // namespace tessel::sim
