#include "cli/validate_command.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>

#include "arch/config_system.h"
#include "arch/load_arch.h"
#include "cli/cli_common.h"
#include "cli/validation/gpu_validation.h"
#include "sim/report/build_info.h"

namespace tessel::cli {


CLI::App* add_validate_command(CLI::App& app, ValidateFlags& flags) {
  CLI::App* validate = app.add_subcommand(
      "validate",
      "Predict measured cases (GEMM, attention, vector-op, collective, transformer-layer(-op) rows) on an "
      "architecture and report the error");
  CLI::Option* arch = validate->add_option(
      "--arch", flags.arch,
      "Architecture of the hardware measured: tessel YAML or SCALE-Sim .cfg (a GPU file's nvlink section links its "
      "node)");
  CLI::Option* system = validate->add_option(
      "--system", flags.system, "Instead of --arch: a system file, whose links price the collective rows");
  arch->excludes(system);
  validate->callback([&flags] {
    if (flags.arch.empty() && flags.system.empty()) throw CLI::RequiredError("--arch or --system");
  });
  validate->add_option("--measurements", flags.measurements,
                       "CSV of measurements: id,category,hardware,workload,settings,metric,value,unit,kind,source,notes")
      ->required();
  validate->add_option("--category", flags.category, "Only rows of this category (e.g. GEMM, vector-op)");
  validate->add_option("--hardware", flags.hardware,
                       "Only rows whose hardware column contains this text (e.g. A100); others are skipped");
  validate->add_option("--out", flags.out, "Write validation.csv and summary.json into this directory");
  validate->add_flag("--quiet", flags.quiet, "Print only the per-category summary");
  return validate;
}

namespace {

void print_cases(const validation::ValidationResult& result, std::ostream& out) {
  out << std::left << std::setw(52) << "id" << std::setw(22) << "category" << std::right << std::setw(13)
      << "predicted_ms" << std::setw(13) << "measured_ms" << std::setw(9) << "error%"
      << "  model\n";
  for (const validation::CaseResult& c : result.cases) {
    out << std::left << std::setw(52) << c.id << std::setw(22) << c.category << std::right << std::fixed
        << std::setprecision(4) << std::setw(13) << c.predicted_ms << std::setw(13) << c.measured_ms
        << std::setprecision(1) << std::setw(9) << c.error_percent() << "  " << c.model << '\n';
  }
  out << std::defaultfloat;
}

// Skipped rows grouped by category and reason, with their counts.
std::map<std::pair<std::string, std::string>, size_t> skipped_counts(const validation::ValidationResult& result) {
  std::map<std::pair<std::string, std::string>, size_t> counts;
  for (const validation::SkippedRow& row : result.skipped) ++counts[{row.category, row.reason}];
  return counts;
}

void print_summary(const validation::ValidationResult& result, std::ostream& out) {
  out << "skipped " << result.skipped.size() << " row(s):\n";
  for (const auto& [key, count] : skipped_counts(result)) {
    out << "  " << count << " " << key.first << ": " << key.second << '\n';
  }
  out << "MAPE per category (" << result.cases.size() << " case(s)):\n";
  for (const validation::CategoryError& category : validation::mape_by_category(result.cases)) {
    out << "  " << std::left << std::setw(22) << category.category << std::right << std::setw(5) << category.cases
        << " cases  " << std::fixed << std::setprecision(1) << category.mape_percent << "%\n"
        << std::defaultfloat;
  }
}

void write_outputs(const validation::ValidationResult& result, const ValidateFlags& flags) {
  std::filesystem::create_directories(flags.out);
  std::ofstream csv(std::filesystem::path(flags.out) / "validation.csv");
  csv << "id,category,predicted_ms,measured_ms,error_percent\n" << std::setprecision(9);
  for (const validation::CaseResult& c : result.cases) {
    csv << c.id << ',' << c.category << ',' << c.predicted_ms << ',' << c.measured_ms << ',' << c.error_percent()
        << '\n';
  }
  nlohmann::json summary;
  summary["arch_file"] = flags.arch;
  summary["measurements"] = flags.measurements;
  summary["cases"] = result.cases.size();
  summary["skipped"] = result.skipped.size();
  for (const validation::CategoryError& category : validation::mape_by_category(result.cases)) {
    summary["categories"][category.category] = {{"cases", category.cases}, {"mape_percent", category.mape_percent}};
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& [key, count] : skipped_counts(result)) {
    skipped.push_back({{"category", key.first}, {"reason", key.second}, {"rows", count}});
  }
  summary["skipped_reasons"] = skipped;
  sim::add_build_info(summary);
  std::ofstream(std::filesystem::path(flags.out) / "summary.json") << summary.dump(2) << '\n';
}

}  // namespace

int validate_command(const ValidateFlags& flags) {
  validation::Hardware hardware(flags.system.empty() ? arch::node_of(arch::load_arch(flags.arch))
                                                     : arch::load_system(flags.system));
  const std::vector<validation::Measurement> rows = validation::read_measurements(flags.measurements);
  const validation::ValidationResult result = validation::validate(hardware, rows, {flags.category, flags.hardware});
  if (!flags.quiet) print_cases(result, std::cout);
  print_summary(result, std::cout);
  if (!flags.out.empty()) write_outputs(result, flags);
  return 0;
}

}  // namespace tessel::cli
