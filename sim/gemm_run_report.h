// What a GEMM run's reports (summary.json, layers.csv, the printed table) show, whatever
// architecture ran it: a row per layer, the totals, and the few things only some
// architectures have (a dataflow, an area, FPGA resources). The systolic and GPU runs each
// fill one and share the writers, so their files have the same columns and keys.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/energy.h"
#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "sim/roofline.h"
#include "sim/workload_run.h"

namespace tessel::sim {

struct GemmReportRow {
  std::string name;
  uint64_t m = 0, n = 0, k = 0;
  uint64_t total_cycles = 0;
  uint64_t compute_cycles = 0;  // the busiest array's or SM's tensor-core cycles
  uint64_t stall_cycles = 0;
  double utilization = 0;
  double mapping_efficiency = 0;  // MACs / the MAC slots the tiles offer
  arch::Activity activity;
  arch::EnergyBreakdown energy;
  Roofline roofline{};
  std::string mapping;
  NumericsReport numerics;
  bool reused = false;
};

struct GemmReport {
  std::string arch;
  std::string arch_file;
  std::string workload;
  arch::DType dtype{};
  nlohmann::json dataflow;  // a systolic design's; null for a GPU
  double clock_hz = 0;
  nlohmann::json area_mm2;  // null when the architecture states none
  std::vector<arch::ResourceUse> resources;
  std::vector<GemmReportRow> rows;
  RunTotals totals;
  double utilization = 0;  // MACs / (total cycles × peak MACs a cycle)

  double seconds() const { return static_cast<double>(totals.total_cycles) / clock_hz; }
  bool numerics_checked() const;
  bool numerics_passed() const;  // every checked layer passed (true when none was checked)
};

nlohmann::json gemm_summary_json(const GemmReport& report);
void write_gemm_layers_csv(const GemmReport& report, std::ostream& out);
void print_gemm_table(const GemmReport& report, std::ostream& out);

}  // namespace tessel::sim
