#include "cli/validation/measurements.h"

#include <libfccp/csv.h>

#include <cstdlib>
#include <set>
#include <stdexcept>

namespace tessel::validation {

namespace {

constexpr unsigned kColumns = 11;
using CsvReader = io::CSVReader<kColumns, io::trim_chars<' ', '\t'>, io::double_quote_escape<',', '"'>,
                                io::throw_on_overflow, io::empty_line_comment>;

[[noreturn]] void fail(const std::string& path, unsigned line, const std::string& problem) {
  throw std::runtime_error(path + ":" + std::to_string(line) + ": " + problem);
}

}  // namespace

std::vector<Measurement> read_measurements(const std::string& path) {
  std::vector<Measurement> rows;
  try {
    CsvReader csv(path);
    csv.read_header(io::ignore_no_column, "id", "category", "hardware", "workload", "settings", "metric", "value",
                    "unit", "kind", "source", "notes");
    for (const char* column : {"id", "category", "workload", "settings", "value", "unit"}) {
      if (!csv.has_column(column)) fail(path, 1, std::string("no column '") + column + "'");
    }
    Measurement row{};
    std::string value, kind, notes;
    std::set<std::string> ids;
    while (csv.read_row(row.id, row.category, row.hardware, row.workload, row.settings, row.metric, value, row.unit,
                        kind, row.source, notes)) {
      row.line = static_cast<int>(csv.get_file_line());
      // The id names the row in every output; a row without one, or with another's, could not be told apart.
      if (row.id.empty()) fail(path, csv.get_file_line(), "column 'id' is empty: every measurement needs one");
      if (!ids.insert(row.id).second) fail(path, csv.get_file_line(), "id '" + row.id + "' appears twice");
      char* end = nullptr;
      row.value = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') fail(path, csv.get_file_line(), "value '" + value + "' is not a number");
      rows.push_back(row);
    }
  } catch (const io::error::can_not_open_file&) {
    throw std::runtime_error(path + ": cannot open");
  } catch (const io::error::base& error) {
    // The parser's errors carry the line where they have one; the header's have none: line 1.
    const auto* at = dynamic_cast<const io::error::with_file_line*>(&error);
    fail(path, at && at->file_line > 0 ? static_cast<unsigned>(at->file_line) : 1, error.what());
  }
  return rows;
}

}  // namespace tessel::validation
