#include "sim/report.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

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

struct NumericsSummary {
  uint64_t layers_checked = 0;
  double max_abs_error = 0;
  double max_relative_error = 0;
  double min_sqnr_db = INFINITY;
};

NumericsSummary summarise_numerics(const RunResult& result) {
  NumericsSummary s;
  for (const LayerResult& layer : result.layers) {
    if (!layer.numerics.checked || layer.reused) continue;
    ++s.layers_checked;
    s.max_abs_error = std::max(s.max_abs_error, layer.numerics.max_abs_error);
    s.max_relative_error = std::max(s.max_relative_error, layer.numerics.relative_error);
    s.min_sqnr_db = std::min(s.min_sqnr_db, layer.numerics.sqnr_db);
  }
  return s;
}

}  // namespace

nlohmann::json summary_json(const RunResult& result) {
  const RunTotals& t = result.totals;
  const arch::SystolicSpec& spec = *result.spec;
  const NumericsSummary numerics = summarise_numerics(result);
  nlohmann::json summary = {
      {"arch", spec.name},
      {"arch_file", spec.source_file},
      {"workload", result.workload},
      {"dtype", std::string(arch::to_string(result.dtype))},
      {"dataflow", std::string(arch::to_string(spec.array.dataflow))},
      {"clock_hz", spec.clock_hz},
      {"layers", result.layers.size()},
      {"total_cycles", t.total_cycles},
      {"compute_cycles", t.compute_cycles},
      {"stall_cycles", t.stall_cycles},
      {"roofline_cycles", t.roofline_cycles},
      {"seconds", result.seconds()},
      {"utilization", result.utilization()},
      {"macs", t.macs},
      {"dram_read_bytes", t.activity.dram_read_bytes},
      {"dram_write_bytes", t.activity.dram_write_bytes},
      {"sram_read_bytes", t.activity.sram_read_bytes()},
      {"sram_write_bytes", t.activity.sram_write_bytes()},
      {"energy_pj", t.energy.total_pj()},
      {"energy_breakdown_pj", energy_breakdown_json(t.energy)},
      {"area_mm2", spec.area_mm2()},
      {"numerics",
       {{"checked", result.numerics_checked()},
        {"passed", result.numerics_passed()},
        {"layers_checked", numerics.layers_checked},
        {"max_abs_error", numerics.max_abs_error},
        {"max_relative_error", numerics.max_relative_error},
        {"min_sqnr_db", json_number(numerics.min_sqnr_db)}}},
  };
  add_resources_json(summary, spec.resources);
  return summary;
}

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

void write_layers_csv(const RunResult& result, std::ostream& out) {
  out << "layer,M,N,K,total_cycles,compute_cycles,stall_cycles,utilization,mapping_efficiency,"
         "dram_read_bytes,dram_write_bytes,sram_read_bytes,sram_write_bytes,energy_pj,"
         "roofline_cycles,bound,mapping,numerics_checked,numerics_passed\n";
  out << std::setprecision(10);
  for (const LayerResult& l : result.layers) {
    const arch::Activity& a = l.run.activity;
    out << csv_field(l.gemm.name) << ',' << l.gemm.m << ',' << l.gemm.n << ',' << l.gemm.k << ','
        << l.run.total_cycles << ',' << l.run.compute_cycles << ',' << l.run.stall_cycles << ','
        << l.utilization << ',' << l.mapping_efficiency << ',' << a.dram_read_bytes << ','
        << a.dram_write_bytes << ',' << a.sram_read_bytes() << ',' << a.sram_write_bytes() << ','
        << l.energy.total_pj() << ',' << l.roofline.cycles() << ',' << l.roofline.bound() << ','
        << csv_field(l.map.mapping.describe()) << ',' << (l.numerics.checked ? 1 : 0) << ','
        << (l.numerics.checked && l.numerics.passed ? 1 : 0) << '\n';
  }
}

void print_table(const RunResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  out << result.workload << " on " << result.spec->name << " (" << arch::to_string(result.dtype) << ", "
      << arch::to_string(result.spec->array.dataflow) << ")\n";
  size_t name_width = 6;
  for (const LayerResult& l : result.layers) name_width = std::max(name_width, l.gemm.name.size() + 2);
  const int name_column = static_cast<int>(name_width);
  out << std::left << std::setw(name_column) << "layer" << std::right << std::setw(8) << "M" << std::setw(8) << "N"
      << std::setw(8) << "K" << std::setw(14) << "cycles" << std::setw(12) << "stall" << std::setw(8) << "util"
      << std::setw(12) << "DRAM MB" << std::setw(12) << "energy uJ" << std::setw(9) << "bound" << std::setw(9)
      << "check" << '\n';
  const auto row = [&](const std::string& name, uint64_t m, uint64_t n, uint64_t k, uint64_t cycles,
                       uint64_t stall, double util, const arch::Activity& a, double energy_pj,
                       const std::string& bound, const std::string& check) {
    out << std::left << std::setw(name_column) << name << std::right << std::setw(8)
        << (m ? std::to_string(m) : "") << std::setw(8) << (n ? std::to_string(n) : "") << std::setw(8)
        << (k ? std::to_string(k) : "") << std::setw(14) << cycles << std::setw(12) << stall << std::fixed
        << std::setprecision(3) << std::setw(8) << util << std::setprecision(2) << std::setw(12)
        << static_cast<double>(a.dram_read_bytes + a.dram_write_bytes) / 1e6 << std::setw(12) << energy_pj / 1e6
        << std::setw(9) << bound << std::setw(9) << check << '\n';
    out.flags(flags);
  };
  for (const LayerResult& l : result.layers) {
    const std::string check = !l.numerics.checked ? "-" : l.numerics.passed ? "pass" : "FAIL";
    row(l.gemm.name, l.gemm.m, l.gemm.n, l.gemm.k, l.run.total_cycles, l.run.stall_cycles, l.utilization,
        l.run.activity, l.energy.total_pj(), l.roofline.bound(), check);
  }
  const RunTotals& t = result.totals;
  size_t checked = 0;
  for (const LayerResult& l : result.layers) checked += l.numerics.checked ? 1 : 0;
  const std::string check = checked == 0 ? "-"
                            : (result.numerics_passed() ? "pass " : "FAIL ") + std::to_string(checked) + "/" +
                                  std::to_string(result.layers.size());
  row("total", 0, 0, 0, t.total_cycles, t.stall_cycles, result.utilization(), t.activity, t.energy.total_pj(), "",
      check);
  out << std::setprecision(6) << "time " << result.seconds() * 1e3 << " ms at " << result.spec->clock_hz / 1e6
      << " MHz\n";
  out.flags(flags);
}

ReportBundle report_bundle(const RunResult& result) {
  ReportBundle reports;
  reports.summary = summary_json(result);
  std::ostringstream layers;
  write_layers_csv(result, layers);
  reports.layers_csv = layers.str();
  reports.stats = stats_tree(result).to_json();
  std::ostringstream table;
  print_table(result, table);
  reports.table = table.str();
  reports.numerics_passed = result.numerics_passed();
  return reports;
}

}  // namespace tessel::sim
