#include "sim/report/gemm_layout.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>

#include "sim/report/common.h"

namespace tessel::sim {

namespace {

const std::vector<workloads::Gemm>& gemms(const RunResult& result) {
  return std::get<GemmWorkload>(result.workload).graph.gemms;
}

const std::string& workload_name(const RunResult& result) {
  return std::get<GemmWorkload>(result.workload).graph.name;
}

const std::vector<OpResult>& rows(const RunResult& result) { return result.steps.front().ops; }

struct Totals {
  uint64_t total_cycles = 0;
  uint64_t compute_cycles = 0;  // each GEMM's busiest array's or SM's compute cycles, summed
  uint64_t stall_cycles = 0;
  uint64_t roofline_cycles = 0;
  uint64_t macs = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
  double utilization = 0;  // MACs / (total cycles × peak MACs a cycle)
};

Totals totals(const RunResult& result) {
  const StepResult& step = result.steps.front();
  Totals t;
  t.total_cycles = step.cycles;
  t.roofline_cycles = step.roofline_cycles;
  t.macs = step.macs;
  t.activity = step.activity;
  t.energy = step.energy;
  for (const OpResult& op : step.ops) {
    t.compute_cycles += op.array_busy_cycles;
    t.stall_cycles += op.stall_cycles();
  }
  t.utilization = static_cast<double>(t.macs) /
                  (static_cast<double>(t.total_cycles) * result.device.peak_macs_per_cycle(result.dtype()));
  return t;
}

double seconds(const RunResult& result, const Totals& t) {
  return static_cast<double>(t.total_cycles) / result.device.clock_hz;
}

bool numerics_checked(const RunResult& result) {
  return std::any_of(rows(result).begin(), rows(result).end(), [](const OpResult& op) { return op.numerics.checked; });
}

struct NumericsSummary {
  uint64_t layers_checked = 0;
  double max_abs_error = 0;
  double max_relative_error = 0;
  double min_sqnr_db = INFINITY;
};

NumericsSummary summarise_numerics(const RunResult& result) {
  NumericsSummary s;
  for (const OpResult& op : rows(result)) {
    if (!op.numerics.checked || op.reused) continue;
    ++s.layers_checked;
    s.max_abs_error = std::max(s.max_abs_error, op.numerics.max_abs_error);
    s.max_relative_error = std::max(s.max_relative_error, op.numerics.relative_error);
    s.min_sqnr_db = std::min(s.min_sqnr_db, op.numerics.sqnr_db);
  }
  return s;
}

nlohmann::json optional_json(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

void add_layer_stats(StatGroup& parent, size_t index, const workloads::Gemm& gemm, const OpResult& op) {
  StatGroup& group = parent.child(std::to_string(index) + "_" + gemm.name, "GEMM " + gemm.name);
  group.add("M", gemm.m, "count", "rows of A and C")
      .add("N", gemm.n, "count", "columns of B and C")
      .add("K", gemm.k, "count", "reduction length")
      .add("total_cycles", op.cycles, "cycles",
           "from the first load to the last store (a GPU kernel's launch included)")
      .add("compute_cycles", op.array_busy_cycles, "cycles",
           "the busiest array's fold cycles, or SM's tensor-core cycles")
      .add("stall_cycles", op.stall_cycles(), "cycles", "total - compute: waiting on memory or buffer ports")
      .add("roofline_cycles", op.roofline.cycles(), "cycles", "max(compute floor, memory floor)")
      .add("bound", op.roofline.bound(), "which roofline floor is higher")
      .add("utilization", op.utilization, "ratio", "MACs / (total cycles × peak MACs per cycle)")
      .add("mapping_efficiency", op.mapping_efficiency, "ratio", "MACs / the MAC slots of the mapping's tiles")
      .add("reused", uint64_t{op.reused}, "count", "1 when an identical earlier layer's simulation was reused");
  add_activity_stats(group, op.activity);
  add_energy_stats(group, op.energy);
  for (const StatGroup& details : op.details) group.adopt(details);
  add_numerics_stats(group.child("numerics", "datapath values vs Eigen"), op.numerics);
}

}  // namespace

nlohmann::json gemm_summary_json(const RunResult& result) {
  const Totals t = totals(result);
  const NumericsSummary numerics = summarise_numerics(result);
  const DeviceFacts& device = result.device;
  nlohmann::json summary = {
      {"arch", device.name},
      {"arch_file", device.source_file},
      {"workload", workload_name(result)},
      {"dtype", std::string(arch::to_string(result.dtype()))},
      {"quant", quant_json(std::get<GemmWorkload>(result.workload).quant)},
      {"dataflow", optional_json(device.dataflow)},
      {"clock_hz", device.clock_hz},
      {"layers", rows(result).size()},
      {"total_cycles", t.total_cycles},
      {"compute_cycles", t.compute_cycles},
      {"stall_cycles", t.stall_cycles},
      {"roofline_cycles", t.roofline_cycles},
      {"seconds", seconds(result, t)},
      {"utilization", t.utilization},
      {"macs", t.macs},
      {"dram_read_bytes", t.activity.dram_read_bytes},
      {"dram_write_bytes", t.activity.dram_write_bytes},
      {"sram_read_bytes", t.activity.sram_read_bytes()},
      {"sram_write_bytes", t.activity.sram_write_bytes()},
      {"energy_pj", t.energy.total_pj()},
      {"energy_breakdown_pj", energy_breakdown_json(t.energy)},
      {"area_mm2", optional_json(device.area_mm2)},
      {"numerics",
       {{"checked", numerics_checked(result)},
        {"passed", numerics_passed_json(numerics_checked(result), result.numerics_passed())},
        {"layers_checked", numerics.layers_checked},
        {"max_abs_error", numerics.max_abs_error},
        {"max_relative_error", numerics.max_relative_error},
        {"min_sqnr_db", json_number(numerics.min_sqnr_db)},
        {"scheme", scheme_json(result.scheme_numerics())}}},
  };
  add_resources_json(summary, device.resources);
  return summary;
}

void write_gemm_layers_csv(const RunResult& result, std::ostream& out) {
  out << "layer,M,N,K,total_cycles,compute_cycles,stall_cycles,utilization,mapping_efficiency,"
         "dram_read_bytes,dram_write_bytes,sram_read_bytes,sram_write_bytes,energy_pj,"
         "roofline_cycles,bound,mapping,numerics_checked,numerics_passed,core_clock_mhz,power_w\n";
  out << std::setprecision(10);
  for (size_t i = 0; i < rows(result).size(); ++i) {
    const workloads::Gemm& g = gemms(result)[i];
    const OpResult& l = rows(result)[i];
    const arch::Activity& a = l.activity;
    out << csv_field(g.name) << ',' << g.m << ',' << g.n << ',' << g.k << ',' << l.cycles << ','
        << l.array_busy_cycles << ',' << l.stall_cycles() << ',' << l.utilization << ',' << l.mapping_efficiency << ','
        << a.dram_read_bytes << ',' << a.dram_write_bytes << ',' << a.sram_read_bytes() << ','
        << a.sram_write_bytes() << ',' << l.energy.total_pj() << ',' << l.roofline.cycles() << ','
        << l.roofline.bound() << ',' << csv_field(l.mapping) << ',' << (l.numerics.checked ? 1 : 0) << ','
        << (l.numerics.checked && l.numerics.passed ? 1 : 0) << ',' << l.core_hz() / 1e6 << ',' << l.power_w() << '\n';
  }
}

StatGroup gemm_stats_tree(const RunResult& result) {
  const Totals t = totals(result);
  StatGroup root("run", "tessel run of " + workload_name(result) + " on " + result.device.name);
  root.add("total_cycles", t.total_cycles, "cycles", "sum over layers, run one after another")
      .add("compute_cycles", t.compute_cycles, "cycles", "sum of each layer's busiest-array or -SM compute cycles")
      .add("stall_cycles", t.stall_cycles, "cycles", "total - compute")
      .add("roofline_cycles", t.roofline_cycles, "cycles", "sum of the layers' roofline floors")
      .add("seconds", seconds(result, t), "s", "total cycles at the architecture's clock")
      .add("utilization", t.utilization, "ratio", "MACs / (total cycles × peak MACs per cycle)");
  add_activity_stats(root, t.activity);
  add_energy_stats(root, t.energy);
  StatGroup& layers = root.child("layers", "one group per GEMM, in execution order");
  for (size_t i = 0; i < rows(result).size(); ++i) add_layer_stats(layers, i, gemms(result)[i], rows(result)[i]);
  return root;
}

void print_gemm_table(const RunResult& result, std::ostream& out) {
  const Totals t = totals(result);
  const std::ios::fmtflags flags = out.flags();
  out << workload_name(result) << " on " << result.device.name << " (" << arch::to_string(result.dtype());
  if (result.device.dataflow) out << ", " << *result.device.dataflow;
  out << ")\n";
  size_t name_width = 6;
  for (const workloads::Gemm& g : gemms(result)) name_width = std::max(name_width, g.name.size() + 2);
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
  for (size_t i = 0; i < rows(result).size(); ++i) {
    const workloads::Gemm& g = gemms(result)[i];
    const OpResult& l = rows(result)[i];
    const std::string check = !l.numerics.checked ? "-" : l.numerics.passed ? "pass" : "FAIL";
    row(g.name, g.m, g.n, g.k, l.cycles, l.stall_cycles(), l.utilization, l.activity, l.energy.total_pj(),
        l.roofline.bound(), check);
  }
  const size_t checked = static_cast<size_t>(
      std::count_if(rows(result).begin(), rows(result).end(), [](const OpResult& l) { return l.numerics.checked; }));
  const std::string check = checked == 0 ? "-"
                            : (result.numerics_passed() ? "pass " : "FAIL ") + std::to_string(checked) + "/" +
                                  std::to_string(rows(result).size());
  row("total", 0, 0, 0, t.total_cycles, t.stall_cycles, t.utilization, t.activity, t.energy.total_pj(), "", check);
  out << std::setprecision(6) << "time " << seconds(result, t) * 1e3 << " ms at " << result.device.clock_hz / 1e6
      << " MHz\n";
  out.flags(flags);
}

}  // namespace tessel::sim
