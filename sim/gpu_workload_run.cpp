#include "sim/gpu_workload_run.h"

#include "sim/gpu_model_run.h"

namespace tessel::sim {

namespace {

GpuLayerResult run_layer(const arch::GpuSpec& spec, const workloads::Gemm& gemm, const RunOptions& options) {
  GpuLayerResult layer{};
  layer.gemm = gemm;
  const GpuGemmChoice choice = choose_gpu_gemm(spec, {gemm.m, gemm.n, gemm.k, options.dtype}, options.confirm);
  layer.plan = choice.plan;
  ModelRunOptions op_options;
  op_options.gemm = options;
  const workloads::Op op(gemm.name, workloads::OpKind::Linear, workloads::LinearShape{gemm.m, gemm.n, gemm.k});
  layer.op = run_gpu_linear(spec, choice, op, op_options);
  const double slots = static_cast<double>(arch::ceil_div(gemm.m, layer.plan.tile.m) * layer.plan.tile.m) *
                       static_cast<double>(arch::ceil_div(gemm.n, layer.plan.tile.n) * layer.plan.tile.n) *
                       static_cast<double>(gemm.k);
  layer.mapping_efficiency = static_cast<double>(gemm.macs()) / slots;
  return layer;
}

}  // namespace

GpuRunResult run_gpu_workload(const arch::GpuSpec& spec, const workloads::Graph& graph, const RunOptions& options) {
  GpuRunResult result{&spec, graph.name, options.dtype, {}, {}};
  result.layers = run_layers_reusing_shapes<GpuLayerResult>(
      graph, options, [&](const workloads::Gemm& gemm) { return run_layer(spec, gemm, options); });
  for (const GpuLayerResult& layer : result.layers) {
    const OpResult& op = layer.op;
    RunTotals& t = result.totals;
    t.total_cycles += op.cycles;
    t.compute_cycles += op.array_busy_cycles;
    t.stall_cycles += layer.stall_cycles();
    t.roofline_cycles += op.roofline.cycles();
    t.macs += layer.gemm.macs();
    t.activity += op.activity;
    t.energy += op.energy;
  }
  return result;
}

double GpuRunResult::utilization() const {
  const double peak = *spec->tensor_macs_per_cycle_per_sm(dtype) * spec->sms;
  return static_cast<double>(totals.macs) / (static_cast<double>(totals.total_cycles) * peak);
}

}  // namespace tessel::sim
