#include "sim/gpu_workload_report.h"

#include "sim/gemm_run_report.h"
#include "sim/stats.h"

namespace tessel::sim {

namespace {

GemmReport gemm_report(const GpuRunResult& result) {
  const arch::GpuSpec& spec = *result.spec;
  GemmReport report;
  report.arch = spec.name;
  report.arch_file = spec.source_file;
  report.workload = result.workload;
  report.dtype = result.dtype;
  report.clock_hz = spec.clock_hz;
  report.totals = result.totals;
  report.utilization = result.utilization();
  for (const GpuLayerResult& l : result.layers) {
    const OpResult& op = l.op;
    report.rows.push_back({l.gemm.name, l.gemm.m, l.gemm.n, l.gemm.k, op.cycles, op.array_busy_cycles,
                           l.stall_cycles(), op.utilization, l.mapping_efficiency, op.activity, op.energy,
                           op.roofline, op.mapping, op.numerics, l.reused});
  }
  return report;
}

StatGroup stats_tree(const GpuRunResult& result, const GemmReport& report) {
  StatGroup root("run", "tessel run of " + result.workload + " on " + result.spec->name);
  const RunTotals& t = result.totals;
  root.add("total_cycles", t.total_cycles, "cycles", "sum over the GEMMs' kernels, launches included")
      .add("compute_cycles", t.compute_cycles, "cycles", "sum of each kernel's busiest-SM tensor-core cycles")
      .add("stall_cycles", t.stall_cycles, "cycles", "total - compute")
      .add("roofline_cycles", t.roofline_cycles, "cycles", "sum of the GEMMs' roofline floors")
      .add("seconds", report.seconds(), "s", "total cycles at the GPU's clock")
      .add("utilization", report.utilization, "ratio", "MACs / (total cycles × the tensor cores' peak)");
  add_activity_stats(root, t.activity);
  add_energy_stats(root, t.energy);
  StatGroup& layers = root.child("layers", "one group per GEMM, in execution order");
  for (size_t i = 0; i < result.layers.size(); ++i) {
    const GpuLayerResult& l = result.layers[i];
    const mapper::GpuGemmPlan& p = l.plan;
    StatGroup& group = layers.child(std::to_string(i) + "_" + l.gemm.name, "GEMM " + l.gemm.name);
    group.add("M", l.gemm.m, "count", "rows of A and C")
        .add("N", l.gemm.n, "count", "columns of B and C")
        .add("K", l.gemm.k, "count", "reduction length")
        .add("total_cycles", l.op.cycles, "cycles", "the kernel, its launch included")
        .add("compute_cycles", l.op.array_busy_cycles, "cycles", "the busiest SM's tensor cores")
        .add("roofline_cycles", l.op.roofline.cycles(), "cycles", "max(compute floor, memory floor)")
        .add("bound", l.op.roofline.bound(), "which roofline floor is higher")
        .add("utilization", l.op.utilization, "ratio", "MACs / (total cycles × the tensor cores' peak)")
        .add("mapping_efficiency", l.mapping_efficiency, "ratio", "MACs / the MAC slots of the thread-block tiles")
        .add("reused", uint64_t{l.reused}, "count", "1 when an identical earlier GEMM's run was reused");
    group.child("mapping", "the GPU mapper's choice")
        .add("mapping", l.op.mapping, "thread-block tile, pipeline stages, split-K, waves")
        .add("thread_blocks", p.thread_blocks, "count", "tiles of C times split-K")
        .add("resident_blocks", uint64_t{p.resident}, "count", "thread blocks an SM runs at once")
        .add("waves", p.waves, "count", "thread blocks on the busiest SM")
        .add("active_sms", uint64_t{p.active_sms}, "count", "SMs given at least one block")
        .add("analytic_cycles", p.cycles, "cycles", "the mapper's closed-form estimate")
        .add("l2_bytes", p.l2_bytes, "bytes", "A and B tiles loaded into shared memory, every block")
        .add("hbm_bytes", p.hbm_bytes, "bytes", "after L2 reuse across thread blocks");
    add_activity_stats(group, l.op.activity);
    add_energy_stats(group, l.op.energy);
    add_numerics_stats(group.child("numerics", "datapath values vs Eigen"), l.op.numerics);
  }
  return root;
}

}  // namespace

ReportBundle report_bundle(const GpuRunResult& result) {
  const GemmReport report = gemm_report(result);
  return {gemm_summary_json(report), printed([&](std::ostream& out) { write_gemm_layers_csv(report, out); }),
          stats_tree(result, report).to_json(), printed([&](std::ostream& out) { print_gemm_table(report, out); }),
          report.numerics_passed()};
}

}  // namespace tessel::sim
