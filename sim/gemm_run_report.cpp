#include "sim/gemm_run_report.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>

#include "sim/report_common.h"
#include "sim/stats.h"

namespace tessel::sim {

namespace {

struct NumericsSummary {
  uint64_t layers_checked = 0;
  double max_abs_error = 0;
  double max_relative_error = 0;
  double min_sqnr_db = INFINITY;
};

NumericsSummary summarise_numerics(const GemmReport& report) {
  NumericsSummary s;
  for (const GemmReportRow& row : report.rows) {
    if (!row.numerics.checked || row.reused) continue;
    ++s.layers_checked;
    s.max_abs_error = std::max(s.max_abs_error, row.numerics.max_abs_error);
    s.max_relative_error = std::max(s.max_relative_error, row.numerics.relative_error);
    s.min_sqnr_db = std::min(s.min_sqnr_db, row.numerics.sqnr_db);
  }
  return s;
}

}  // namespace

bool GemmReport::numerics_checked() const {
  return std::any_of(rows.begin(), rows.end(), [](const GemmReportRow& row) { return row.numerics.checked; });
}

bool GemmReport::numerics_passed() const {
  return std::none_of(rows.begin(), rows.end(),
                      [](const GemmReportRow& row) { return row.numerics.checked && !row.numerics.passed; });
}

nlohmann::json gemm_summary_json(const GemmReport& report) {
  const RunTotals& t = report.totals;
  const NumericsSummary numerics = summarise_numerics(report);
  nlohmann::json summary = {
      {"arch", report.arch},
      {"arch_file", report.arch_file},
      {"workload", report.workload},
      {"dtype", std::string(arch::to_string(report.dtype))},
      {"dataflow", report.dataflow},
      {"clock_hz", report.clock_hz},
      {"layers", report.rows.size()},
      {"total_cycles", t.total_cycles},
      {"compute_cycles", t.compute_cycles},
      {"stall_cycles", t.stall_cycles},
      {"roofline_cycles", t.roofline_cycles},
      {"seconds", report.seconds()},
      {"utilization", report.utilization},
      {"macs", t.macs},
      {"dram_read_bytes", t.activity.dram_read_bytes},
      {"dram_write_bytes", t.activity.dram_write_bytes},
      {"sram_read_bytes", t.activity.sram_read_bytes()},
      {"sram_write_bytes", t.activity.sram_write_bytes()},
      {"energy_pj", t.energy.total_pj()},
      {"energy_breakdown_pj", energy_breakdown_json(t.energy)},
      {"area_mm2", report.area_mm2},
      {"numerics",
       {{"checked", report.numerics_checked()},
        {"passed", report.numerics_passed()},
        {"layers_checked", numerics.layers_checked},
        {"max_abs_error", numerics.max_abs_error},
        {"max_relative_error", numerics.max_relative_error},
        {"min_sqnr_db", json_number(numerics.min_sqnr_db)}}},
  };
  add_resources_json(summary, report.resources);
  return summary;
}

void write_gemm_layers_csv(const GemmReport& report, std::ostream& out) {
  out << "layer,M,N,K,total_cycles,compute_cycles,stall_cycles,utilization,mapping_efficiency,"
         "dram_read_bytes,dram_write_bytes,sram_read_bytes,sram_write_bytes,energy_pj,"
         "roofline_cycles,bound,mapping,numerics_checked,numerics_passed\n";
  out << std::setprecision(10);
  for (const GemmReportRow& l : report.rows) {
    const arch::Activity& a = l.activity;
    out << csv_field(l.name) << ',' << l.m << ',' << l.n << ',' << l.k << ',' << l.total_cycles << ','
        << l.compute_cycles << ',' << l.stall_cycles << ',' << l.utilization << ',' << l.mapping_efficiency << ','
        << a.dram_read_bytes << ',' << a.dram_write_bytes << ',' << a.sram_read_bytes() << ','
        << a.sram_write_bytes() << ',' << l.energy.total_pj() << ',' << l.roofline.cycles() << ','
        << l.roofline.bound() << ',' << csv_field(l.mapping) << ',' << (l.numerics.checked ? 1 : 0) << ','
        << (l.numerics.checked && l.numerics.passed ? 1 : 0) << '\n';
  }
}

void print_gemm_table(const GemmReport& report, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  out << report.workload << " on " << report.arch << " (" << arch::to_string(report.dtype);
  if (report.dataflow.is_string()) out << ", " << report.dataflow.get<std::string>();
  out << ")\n";
  size_t name_width = 6;
  for (const GemmReportRow& l : report.rows) name_width = std::max(name_width, l.name.size() + 2);
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
  for (const GemmReportRow& l : report.rows) {
    const std::string check = !l.numerics.checked ? "-" : l.numerics.passed ? "pass" : "FAIL";
    row(l.name, l.m, l.n, l.k, l.total_cycles, l.stall_cycles, l.utilization, l.activity, l.energy.total_pj(),
        l.roofline.bound(), check);
  }
  const RunTotals& t = report.totals;
  const size_t checked = static_cast<size_t>(
      std::count_if(report.rows.begin(), report.rows.end(), [](const GemmReportRow& l) { return l.numerics.checked; }));
  const std::string check = checked == 0 ? "-"
                            : (report.numerics_passed() ? "pass " : "FAIL ") + std::to_string(checked) + "/" +
                                  std::to_string(report.rows.size());
  row("total", 0, 0, 0, t.total_cycles, t.stall_cycles, report.utilization, t.activity, t.energy.total_pj(), "",
      check);
  out << std::setprecision(6) << "time " << report.seconds() * 1e3 << " ms at " << report.clock_hz / 1e6
      << " MHz\n";
  out.flags(flags);
}

}  // namespace tessel::sim
