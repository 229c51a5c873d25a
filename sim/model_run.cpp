#include "sim/model_run.h"

#include <cmath>
#include <limits>
#include <map>
#include <variant>

#include "arch/vector/vector_cost.h"
#include "sim/numerics/op_check.h"
#include "sim/stream_engine.h"
#include "sim/stream_plan.h"
#include "workloads/input_error.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

// What makes two ops cost the same: kind, sizes and the flags that change their work.
std::string op_identity(const Op& op) {
  std::string id = workloads::kind_name(op.kind) + " " + op.shape_text();
  if (const auto* s = std::get_if<workloads::LinearShape>(&op.shape)) id += s->bias ? " bias" : "";
  if (const auto* s = std::get_if<workloads::BatchedMatmulShape>(&op.shape)) {
    id += " shared " + std::to_string(s->b_shared_by) + " cached " + std::to_string(s->b_from_cache);
  }
  if (const auto* s = std::get_if<workloads::SoftmaxShape>(&op.shape)) id += s->causal ? " causal" : "";
  if (const auto* s = std::get_if<workloads::AttentionShape>(&op.shape)) {
    id += (s->causal ? " causal" : "") + std::string(" cached ") + std::to_string(s->kv_cached);
  }
  return id;
}

arch::Activity times(arch::Activity activity, uint64_t n) {
  activity.macs *= n;
  activity.dram_read_bytes *= n;
  activity.dram_write_bytes *= n;
  for (size_t o = 0; o < 3; ++o) {
    activity.buffer_read_bytes[o] *= n;
    activity.buffer_write_bytes[o] *= n;
  }
  activity.vector_alu_ops *= static_cast<double>(n);
  activity.vector_special_ops *= static_cast<double>(n);
  return activity;
}

arch::EnergyBreakdown times(const arch::EnergyBreakdown& energy, uint64_t n) {
  const double k = static_cast<double>(n);
  arch::EnergyBreakdown total;
  total.mac_pj = energy.mac_pj * k;
  total.sram_pj = energy.sram_pj * k;
  total.dram_pj = energy.dram_pj * k;
  total.vector_pj = energy.vector_pj * k;
  return total;
}

double dram_utilization(const ModelArch& arch, const arch::Activity& activity, uint64_t cycles) {
  if (arch.dram_bytes_per_cycle == 0 || cycles == 0) return 0;
  const double bytes = static_cast<double>(activity.dram_read_bytes + activity.dram_write_bytes);
  return bytes / (static_cast<double>(cycles) * arch.dram_bytes_per_cycle);
}

OpResult run_linear(const arch::SystolicSpec& spec, const Op& op, const ModelRunOptions& options,
                    mapper::MappingCache& mappings) {
  const auto& s = op.shape_as<workloads::LinearShape>();
  const LayerResult layer = run_gemm_layer(spec, workloads::Gemm{op.name, s.m, s.n, s.k}, options.gemm, mappings);
  OpResult result;
  result.cycles = layer.run.total_cycles;
  result.array_busy_cycles = layer.run.compute_cycles;
  result.dram_busy_cycles = layer.run.dram_busy_cycles;
  result.roofline = layer.roofline;
  result.utilization = layer.utilization;
  result.activity = layer.run.activity;
  result.energy = layer.energy;
  result.mapping = layer.map.mapping.describe();
  result.numerics = layer.numerics;
  return result;
}

// Floors no simulation can beat: the MACs at every array's peak, the vector work spread
// evenly over the cores' vector units, the op's bytes at full DRAM bandwidth.
Roofline stream_roofline(const arch::SystolicSpec& spec, const StreamPlan& plan, arch::DType dtype) {
  double compute = static_cast<double>(plan.macs) / peak_macs_per_cycle(spec, dtype);
  if (plan.vector.elements > 0) {
    const double vector = static_cast<double>(arch::vector_cost(spec.vector_unit, plan.vector).cycles);
    compute = std::max(compute, vector / spec.cores);
  }
  const double bytes = static_cast<double>(plan.load_bytes + plan.store_bytes);
  const double memory = spec.dram.unlimited ? 0.0 : bytes / spec.dram.bytes_per_cycle;
  return {static_cast<uint64_t>(std::floor(compute)), static_cast<uint64_t>(std::floor(memory))};
}


OpResult run_streamed(const arch::SystolicSpec& spec, const Op& op, const ModelRunOptions& options) {
  const arch::DType dtype = options.gemm.dtype;
  const StreamPlan plan = plan_stream(spec, op, dtype, options.gemm.search_dataflows);
  const StreamRun run = simulate_stream(spec, plan);
  OpResult result;
  result.cycles = run.total_cycles;
  result.array_busy_cycles = run.array_cycles;
  result.vector_busy_cycles = run.vector_cycles;
  result.dram_busy_cycles = run.dram_busy_cycles;
  result.roofline = stream_roofline(spec, plan, dtype);
  result.activity = run.activity;
  result.energy = arch::energy_of(spec, dtype, run.activity);
  const double cycles = static_cast<double>(std::max<uint64_t>(run.total_cycles, 1));
  if (plan.macs > 0 && !plan.matrix_on_vector_unit) {
    result.utilization = static_cast<double>(plan.macs) / (cycles * peak_macs_per_cycle(spec, dtype));
  } else if (plan.vector.elements > 0) {
    const uint64_t busy = arch::vector_cost(spec.vector_unit, plan.vector).cycles;
    result.utilization = static_cast<double>(busy) / (cycles * spec.cores);
  }
  result.mapping = "stream: " + std::to_string(plan.units) + " units over " + std::to_string(spec.cores) +
                   " cores in chunks of " + std::to_string(plan.units_per_chunk) +
                   (plan.matrix_on_vector_unit ? "; products on the vector unit" : "");
  result.numerics = check_model_op(op, options);
  return result;
}

class StepRunner {
 public:
  StepRunner(const ModelArch& arch, const OpEngine& engine, const ModelRunOptions& options)
      : arch_(arch), engine_(engine), options_(options) {}

  void stop_checking() { options_.gemm.check = CheckMode::Never; }

  StepResult run(const workloads::OpGraph& graph, const workloads::Phase& phase) {
    StepResult step;
    step.phase = phase;
    for (const Op& op : graph.prologue) add(step, op, 1, false);
    for (const Op& op : graph.layer) add(step, op, graph.layer_repeats, true);
    for (const Op& op : graph.epilogue) add(step, op, 1, false);
    return step;
  }

 private:
  void add(StepResult& step, const Op& op, uint64_t repeats, bool in_layer) {
    const std::string id = op_identity(op);
    auto seen = simulated_.find(id);
    OpResult result;
    if (seen != simulated_.end()) {
      result = seen->second;
      result.reused = true;
    } else {
      result = engine_(op, options_);
      result.dram_utilization = dram_utilization(arch_, result.activity, result.cycles);
      simulated_.emplace(id, result);
    }
    result.name = op.name;
    result.kind = op.kind;
    result.shape = op.shape_text();
    result.repeats = repeats;
    result.in_layer = in_layer;
    result.flops = op.flops();
    result.macs = op.macs();

    step.cycles += result.cycles * repeats;
    if (in_layer) step.layer_cycles += result.cycles;
    step.roofline_cycles += result.roofline.cycles() * repeats;
    step.flops += result.flops * repeats;
    step.macs += result.macs * repeats;
    step.activity += times(result.activity, repeats);
    step.energy += times(result.energy, repeats);
    step.ops.push_back(std::move(result));
  }

  const ModelArch& arch_;
  const OpEngine& engine_;
  ModelRunOptions options_;
  std::map<std::string, OpResult> simulated_;
};

std::vector<workloads::Phase> phases_of(const ModelRequest& request) {
  const auto require = [](uint64_t value, const char* flag) {
    if (value == 0) throw workloads::InputError(std::string(flag) + " must be at least 1");
  };
  require(request.batch, "--batch");
  switch (request.kind) {
    case ModelRequest::Prefill:
      require(request.seq, "--seq");
      return {workloads::Phase::prefill(request.batch, request.seq)};
    case ModelRequest::Decode:
      return {workloads::Phase::decode(request.batch, request.cached)};
    case ModelRequest::Generate: {
      require(request.input, "--input");
      require(request.output, "--output");
      std::vector<workloads::Phase> phases{workloads::Phase::prefill(request.batch, request.input)};
      for (uint64_t i = 0; i < request.output; ++i) {
        phases.push_back(workloads::Phase::decode(request.batch, request.input + i));
      }
      return phases;
    }
  }
  return {};
}

}  // namespace

std::string request_kind_name(ModelRequest::Kind kind) {
  switch (kind) {
    case ModelRequest::Prefill: return "prefill";
    case ModelRequest::Decode: return "decode";
    case ModelRequest::Generate: return "generate";
  }
  return "unknown";
}

NumericsReport check_model_op(const Op& op, const ModelRunOptions& options) {
  if (options.gemm.check == CheckMode::Never) return {};
  OpCheckLimits limits = default_op_check_limits();
  if (options.gemm.check == CheckMode::Always) {
    limits.max_elements = std::numeric_limits<uint64_t>::max();
    limits.max_macs = std::numeric_limits<uint64_t>::max();
  }
  return check_op(op, options.gemm.dtype, options.gemm.seed, limits);
}

OpResult kv_cache_read_by_attention() {
  OpResult result;
  result.mapping = "read by the attention kernels that follow: bytes and time counted there";
  return result;
}

ModelRunResult run_model_on(const ModelArch& arch, const OpEngine& engine, const workloads::ModelConfig& model,
                            const ModelRequest& request, const ModelRunOptions& options) {
  ModelRunResult result;
  result.arch = arch;
  result.model = model;
  result.request = request;
  result.dtype = options.gemm.dtype;
  result.attention = options.attention;
  result.tensor_parallel = options.tensor_parallel;
  const std::vector<workloads::Phase> phases = phases_of(request);
  const uint32_t element_bytes = arch::bytes_of(options.gemm.dtype);
  const uint64_t gpus = options.tensor_parallel;
  result.weight_bytes =
      workloads::build_model(model, phases.front(), options.attention, gpus).total_parameters() * element_bytes;
  if (model.causal) {
    const uint64_t positions = phases.back().kv_len;
    const uint64_t kv_heads = workloads::tensor_parallel_shard(model, gpus).num_key_value_heads;
    result.kv_cache_bytes =
        request.batch * positions * kv_heads * model.head_dim * 2 * model.num_hidden_layers * element_bytes;
  }
  StepRunner runner(result.arch, engine, options);
  for (size_t i = 0; i < phases.size(); ++i) {
    if (options.on_step) options.on_step(i, phases.size(), phases[i]);
    // Decode steps after the first differ from it only in the cache length: their new
    // operators run timing-only, so a long generate run is not dominated by checks.
    if (i == 2) runner.stop_checking();
    result.steps.push_back(runner.run(workloads::build_model(model, phases[i], options.attention, gpus), phases[i]));
  }
  return result;
}

ModelRunResult run_model(const arch::SystolicSpec& spec, const workloads::ModelConfig& model,
                         const ModelRequest& request, const ModelRunOptions& options) {
  if (options.tensor_parallel > 1) {
    throw std::invalid_argument("architecture '" + spec.name +
                                "': tensor parallelism needs GPUs linked by NVLink (a kind: gpu file with nvlink)");
  }
  if (spec.find_dtype(options.gemm.dtype) == nullptr) {
    throw std::invalid_argument("architecture '" + spec.name + "' does not support " +
                                std::string(arch::to_string(options.gemm.dtype)));
  }
  ModelArch arch{spec.name,
                 spec.source_file,
                 spec.clock_hz,
                 peak_macs_per_cycle(spec, options.gemm.dtype),
                 spec.dram.unlimited ? 0.0 : spec.dram.bytes_per_cycle,
                 spec.dram.capacity_bytes,
                 spec.resources};
  mapper::MappingCache mappings(spec);
  const OpEngine engine = [&](const Op& op, const ModelRunOptions& op_options) {
    switch (op.kind) {
      case OpKind::Linear: return run_linear(spec, op, op_options, mappings);
      case OpKind::KvCacheRead: return kv_cache_read_by_attention();
      default: return run_streamed(spec, op, op_options);
    }
  };
  return run_model_on(arch, engine, model, request, options);
}

uint64_t ModelRunResult::cycles() const {
  uint64_t total = 0;
  for (const StepResult& step : steps) total += step.cycles;
  return total;
}

double ModelRunResult::seconds() const { return static_cast<double>(cycles()) / arch.clock_hz; }

double ModelRunResult::step_seconds(size_t step) const {
  return static_cast<double>(steps.at(step).cycles) / arch.clock_hz;
}

double ModelRunResult::ttft_s() const { return step_seconds(0); }

double ModelRunResult::tpot_s() const {
  if (steps.size() < 2) return 0;
  return (seconds() - ttft_s()) / static_cast<double>(steps.size() - 1);
}

double ModelRunResult::tokens_per_s() const {
  return static_cast<double>(request.batch * request.output) / seconds();
}

std::optional<bool> ModelRunResult::fits_in_dram() const {
  if (arch.dram_capacity_bytes == 0) return std::nullopt;
  return footprint_bytes() <= arch.dram_capacity_bytes;
}

uint64_t ModelRunResult::ops_checked() const {
  uint64_t checked = 0;
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) checked += op.numerics.checked && !op.reused ? 1 : 0;
  }
  return checked;
}

bool ModelRunResult::numerics_passed() const {
  for (const StepResult& step : steps) {
    for (const OpResult& op : step.ops) {
      if (op.numerics.checked && !op.numerics.passed) return false;
    }
  }
  return true;
}

}  // namespace tessel::sim
