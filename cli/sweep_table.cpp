#include "cli/sweep_table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cli/cli_common.h"
#include "cli/sweep_point.h"
#include "sim/report/common.h"

namespace tessel::cli {

namespace fs = std::filesystem;

namespace {

std::string csv_value(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return sim::csv_field(value.get<std::string>());
  return value.dump();
}

double number_in(const std::string& cell) {
  char* end = nullptr;
  const double value = std::strtod(cell.c_str(), &end);
  return !cell.empty() && *end == '\0' ? value : std::nan("");
}

// The cells of a point's row after its key values: the figures, numerics_passed and error.
std::vector<std::string> result_cells(const SweepSpec& spec, uint64_t point, const fs::path& dir, int& status) {
  const size_t figures = sweep_figures(spec).size();
  std::ifstream skipped_file(dir / "skipped.txt");
  std::string skipped;
  if (std::getline(skipped_file, skipped)) {
    std::vector<std::string> cells(figures + 1);
    cells.push_back(sim::csv_field("skipped: " + skipped));
    return cells;
  }
  std::ifstream error_file(dir / "error.txt");
  std::string error;
  std::getline(error_file, error);
  std::ifstream summary_file(dir / "summary.json");
  if (error.empty() && !summary_file) error = "the point's worker left no results";
  if (!error.empty()) {
    std::cerr << "tessel: sweep point " << point << " (" << point_text(spec, point) << "): " << error << '\n';
    status = kExitInputError;
    std::vector<std::string> cells(figures + 1);
    cells.push_back(sim::csv_field(error));
    return cells;
  }
  const nlohmann::json summary = nlohmann::json::parse(summary_file);
  std::vector<std::string> cells;
  for (const std::string& figure : sweep_figures(spec)) {
    cells.push_back(csv_value(summary.value(figure, nlohmann::json())));
  }
  // Empty when the point checked nothing (no-check), 1 or 0 when it did.
  const nlohmann::json& passed = summary["numerics"]["passed"];
  if (passed == false && status == 0) status = kExitNumericsFailed;
  cells.push_back(passed.is_boolean() ? (passed.get<bool>() ? "1" : "0") : "");
  cells.emplace_back();
  return cells;
}

void write_row(std::ostream& out, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << cells[i];
  out << '\n';
}

}  // namespace

std::vector<std::string> table_header(const SweepSpec& spec) {
  std::vector<std::string> header = {"point"};
  for (const SweepAxis& axis : spec.axes) header.push_back(sim::csv_field(axis.key));
  const std::vector<std::string>& figures = sweep_figures(spec);
  header.insert(header.end(), figures.begin(), figures.end());
  header.insert(header.end(), {"numerics_passed", "error"});
  return header;
}

std::vector<size_t> objective_columns(const SweepSpec& spec, const std::vector<Objective>& objectives) {
  const std::vector<std::string> header = table_header(spec);
  std::vector<size_t> columns;
  for (const Objective& objective : objectives) {
    const auto at = std::find(header.begin(), header.end(), objective.column);
    if (at == header.end()) {
      std::string names;
      for (size_t i = 1; i + 2 < header.size(); ++i) names += (i > 1 ? ", " : "") + header[i];
      throw FlagError("--pareto: " + objective.column + " is not a column of sweep.csv (" + names + ")");
    }
    columns.push_back(static_cast<size_t>(at - header.begin()));
  }
  return columns;
}

int write_table(const SweepSpec& spec, const std::vector<uint64_t>& points,
                const std::function<fs::path(uint64_t)>& dir_of, std::ostream& out,
                const std::vector<size_t>& columns, std::vector<std::vector<double>>& values) {
  int status = 0;
  write_row(out, table_header(spec));
  for (const uint64_t point : points) {
    std::vector<std::string> row = {std::to_string(point)};
    const std::vector<size_t> index = spec.coordinates(point);
    for (size_t i = 0; i < spec.axes.size(); ++i) row.push_back(sim::csv_field(spec.axes[i].labels[index[i]]));
    const std::vector<std::string> cells = result_cells(spec, point, dir_of(point), status);
    row.insert(row.end(), cells.begin(), cells.end());
    write_row(out, row);
    if (columns.empty()) continue;
    std::vector<double>& numbers = values.emplace_back();
    for (const size_t column : columns) numbers.push_back(number_in(row[column]));
  }
  return status;
}

std::string pareto_csv(const fs::path& table, const std::vector<Objective>& objectives,
                       const std::vector<std::vector<double>>& values) {
  std::vector<Goal> goals;
  for (const Objective& objective : objectives) goals.push_back(objective.goal);
  std::vector<size_t> front = pareto_front(values, goals);
  std::vector<size_t> by_row = front;
  std::sort(by_row.begin(), by_row.end());
  // Each row is one line: axis values are one line each (sweep_spec) and an error is its first.
  std::ifstream file(table);
  std::string header;
  std::getline(file, header);
  std::map<size_t, std::string> lines;
  size_t row = 0;
  for (std::string line; !by_row.empty() && std::getline(file, line); ++row) {
    if (std::binary_search(by_row.begin(), by_row.end(), row)) lines[row] = line;
  }
  std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    return goals[0] == Goal::Minimize ? values[a][0] < values[b][0] : values[a][0] > values[b][0];
  });
  std::string text = header + "\n";
  for (const size_t chosen : front) text += lines[chosen] + "\n";
  return text;
}

}  // namespace tessel::cli
