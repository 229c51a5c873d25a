#include "sim/report.h"

#include <ostream>

#include "sim/gemm_run_report.h"
#include "sim/report_common.h"

namespace tessel::sim {

namespace {

std::string layer_key(size_t index, const LayerResult& layer) {
  return std::to_string(index) + "_" + layer.gemm.name;
}

void add_layer(StatGroup& parent, size_t index, const LayerResult& layer, const arch::SystolicSpec& spec) {
  StatGroup& group = parent.child(layer_key(index, layer), "GEMM " + layer.gemm.name);
  group.add("M", layer.gemm.m, "count", "rows of A and C")
      .add("N", layer.gemm.n, "count", "columns of B and C")
      .add("K", layer.gemm.k, "count", "reduction length")
      .add("total_cycles", layer.run.total_cycles, "cycles", "from the first load to the last store")
      .add("compute_cycles", layer.run.compute_cycles, "cycles", "the busiest array's fold cycles")
      .add("stall_cycles", layer.run.stall_cycles, "cycles", "total - compute: waiting on DRAM or buffer ports")
      .add("roofline_cycles", layer.roofline.cycles(), "cycles", "max(compute floor, memory floor)")
      .add("bound", layer.roofline.bound(), "which roofline floor is higher")
      .add("utilization", layer.utilization, "ratio", "MACs / (total cycles × peak MACs per cycle)")
      .add("mapping_efficiency", layer.mapping_efficiency, "ratio", "MACs / PE slots the folds offer")
      .add("reused", uint64_t{layer.reused}, "count", "1 when an identical earlier layer's simulation was reused");
  add_activity_stats(group, layer.run.activity);
  add_energy_stats(group, layer.energy);

  StatGroup& mapping = group.child("mapping", "the mapper's choice");
  mapping.add("mapping", layer.map.mapping.describe(), "dataflow, dtype, split, SRAM tile, loop order, buffering")
      .add("considered", layer.map.considered, "count", "mappings the mapper costed")
      .add("analytic_cycles", layer.map.cost.estimated_cycles, "cycles", "the tile-analytic estimate of this mapping")
      .add("analytic_gap", static_cast<double>(layer.map.cost.estimated_cycles) / static_cast<double>(layer.run.total_cycles) - 1.0,
           "ratio", "analytic estimate / simulated cycles - 1")
      .add("space", layer.map.space, "count", "mappings in the mapspace")
      .add("exhaustive", uint64_t{layer.map.exhaustive}, "count", "1 when the whole space was searched (with pruning)")
      .add("confirmed", uint64_t{layer.confirmed}, "count", "best-ranked mappings simulated to choose this one");

  StatGroup& dram = group.child("dram", "off-chip memory");
  dram.add("busy_cycles", layer.run.dram_busy_cycles, "cycles", "cycles the channel moved data");
  dram.add("read_bytes", layer.run.activity.dram_read_bytes, "bytes", "bytes read")
      .add("write_bytes", layer.run.activity.dram_write_bytes, "bytes", "bytes written");

  StatGroup& buffers = group.child("buffers", "on-chip buffers, per core");
  for (const BufferStats& b : layer.run.buffers) {
    buffers.child("core" + std::to_string(b.core) + "_" + b.name, "buffer " + b.name + " of core " + std::to_string(b.core))
        .add("read_bytes", b.read_bytes, "bytes", "bytes read by the arrays and the DMA")
        .add("write_bytes", b.write_bytes, "bytes", "bytes written by the arrays and the DMA");
  }
  StatGroup& arrays = group.child("arrays", "systolic arrays, one slice of the GEMM each");
  for (size_t i = 0; i < layer.run.arrays.size(); ++i) {
    const ArrayStats& a = layer.run.arrays[i];
    arrays.child("array" + std::to_string(i), std::to_string(spec.array.rows) + "x" + std::to_string(spec.array.cols) + " array")
        .add("compute_cycles", a.compute_cycles, "cycles", "fold cycles")
        .add("port_stall_cycles", a.port_stall_cycles, "cycles", "extra cycles the buffer ports needed")
        .add("finish_cycle", a.finish_cycle, "cycles", "when its last output reached DRAM")
        .add("tiles", a.tiles, "count", "SRAM tiles computed")
        .add("folds", a.folds, "count", "array folds computed")
        .add("macs", a.macs, "count", "useful multiply-accumulates");
  }
  add_numerics_stats(group.child("numerics", "datapath values vs Eigen"), layer.numerics);
}

GemmReport gemm_report(const RunResult& result) {
  const arch::SystolicSpec& spec = *result.spec;
  GemmReport report;
  report.arch = spec.name;
  report.arch_file = spec.source_file;
  report.workload = result.workload;
  report.dtype = result.dtype;
  report.dataflow = std::string(arch::to_string(spec.array.dataflow));
  report.clock_hz = spec.clock_hz;
  report.area_mm2 = spec.area_mm2();
  report.resources = spec.resources;
  report.totals = result.totals;
  report.utilization = result.utilization();
  for (const LayerResult& l : result.layers) {
    report.rows.push_back({l.gemm.name, l.gemm.m, l.gemm.n, l.gemm.k, l.run.total_cycles, l.run.compute_cycles,
                           l.run.stall_cycles, l.utilization, l.mapping_efficiency, l.run.activity, l.energy,
                           l.roofline, l.map.mapping.describe(), l.numerics, l.reused});
  }
  return report;
}

}  // namespace

StatGroup stats_tree(const RunResult& result) {
  StatGroup root("run", "tessel run of " + result.workload + " on " + result.spec->name);
  const RunTotals& t = result.totals;
  root.add("total_cycles", t.total_cycles, "cycles", "sum over layers, run one after another")
      .add("compute_cycles", t.compute_cycles, "cycles", "sum of each layer's busiest-array fold cycles")
      .add("stall_cycles", t.stall_cycles, "cycles", "total - compute")
      .add("roofline_cycles", t.roofline_cycles, "cycles", "sum of the layers' roofline floors")
      .add("seconds", result.seconds(), "s", "total cycles at the architecture's clock")
      .add("utilization", result.utilization(), "ratio", "MACs / (total cycles × peak MACs per cycle)");
  add_activity_stats(root, t.activity);
  add_energy_stats(root, t.energy);
  StatGroup& layers = root.child("layers", "one group per GEMM, in execution order");
  for (size_t i = 0; i < result.layers.size(); ++i) add_layer(layers, i, result.layers[i], *result.spec);
  return root;
}

ReportBundle report_bundle(const RunResult& result) {
  const GemmReport report = gemm_report(result);
  return {gemm_summary_json(report), printed([&](std::ostream& out) { write_gemm_layers_csv(report, out); }),
          stats_tree(result).to_json(), printed([&](std::ostream& out) { print_gemm_table(report, out); }),
          report.numerics_passed()};
}

}  // namespace tessel::sim
