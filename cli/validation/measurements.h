// A file of measurements of real hardware, one row a case, in the columns of the files in
// tests/data/validation and results/system_validation: id, category, hardware, workload,
// settings, metric, value, unit, kind, source, notes (quoted fields may hold commas).
#pragma once

#include <string>
#include <vector>

namespace tessel::validation {

struct Measurement {
  int line;  // in the file, 1-based
  std::string id;
  std::string category;
  std::string hardware;
  std::string workload;
  std::string settings;
  std::string metric;
  double value;
  std::string unit;
  std::string source;
};

// Throws std::runtime_error naming the file (and line) when it cannot be read, lacks a
// column, or a value is not a number.
std::vector<Measurement> read_measurements(const std::string& path);

}  // namespace tessel::validation
