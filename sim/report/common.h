// Pieces every report shares: CSV quoting, and the activity, energy and numerics figures as
// stats-tree entries and JSON.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/energy.h"
#include "sim/numerics/gemm_check.h"
#include "sim/stats.h"

namespace tessel::sim {

// The text as one CSV field, quoted when it holds a comma, quote or newline.
std::string csv_field(const std::string& text);

void add_activity_stats(StatGroup& group, const arch::Activity& activity);
void add_energy_stats(StatGroup& group, const arch::EnergyBreakdown& energy);
void add_numerics_stats(StatGroup& group, const NumericsReport& numerics);

// summary.json's numerics.passed: null when nothing was checked, so that an unchecked run never
// reads as a passed one.
nlohmann::json numerics_passed_json(bool checked, bool passed);

// What a run reports, ready to print or to write: the same for the command line and Python.
struct ReportBundle {
  nlohmann::json summary;  // summary.json
  std::string layers_csv;  // layers.csv
  nlohmann::json stats;    // stats.json
  std::string table;       // what `tessel run` prints
  bool numerics_passed = true;
  std::string trace;       // the timeline (--trace) in the Trace Event Format; empty when not recorded
};

// What `write` prints, as a string (the CSV and the table of a bundle).
std::string printed(const std::function<void(std::ostream&)>& write);

// Writes summary.json, layers.csv and stats.json into `directory`, creating it; throws
// std::runtime_error naming a file it cannot write.
void write_report_files(const ReportBundle& reports, const std::string& directory);

// Writes `text` into the file at `path`; throws std::runtime_error naming it when it cannot.
void write_text_file(const std::string& text, const std::string& path);

// Adds "resources" (each resource's name, used, available, utilization) to a summary, for
// architectures built on a device's fixed resources (FPGA designs); adds nothing otherwise.
void add_resources_json(nlohmann::json& summary, const std::vector<arch::ResourceUse>& resources);

// {"mac", "sram", "dram", "vector"} in pJ.
nlohmann::json energy_breakdown_json(const arch::EnergyBreakdown& energy);

}  // namespace tessel::sim
