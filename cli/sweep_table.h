// sweep.csv and pareto.csv from a sweep's point folders. The table is streamed, a row as each
// point's folder is read, so a sweep of a hundred thousand points holds one row at a time; the
// Pareto front keeps only each row's objective values and takes its rows back from the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "cli/pareto.h"
#include "cli/sweep_spec.h"

namespace tessel::cli {

// sweep.csv's columns: point, each varied key, the figures of the sweep's command (sweep_point.h),
// numerics_passed and error.
std::vector<std::string> table_header(const SweepSpec& spec);

// The columns of the objectives; throws FlagError naming one the table lacks.
std::vector<size_t> objective_columns(const SweepSpec& spec, const std::vector<Objective>& objectives);

// Writes the header, then a row per point of `points` from its folder (dir_of) to `out`, and
// says on stderr why each failed point failed; `values` gets each row's numbers in `columns`
// (NaN where a cell holds none). Returns the exit status the rows make: a point that failed
// (kExitInputError), or failed its numerics check (kExitNumericsFailed), else 0.
int write_table(const SweepSpec& spec, const std::vector<uint64_t>& points,
                const std::function<std::filesystem::path(uint64_t)>& dir_of, std::ostream& out,
                const std::vector<size_t>& columns, std::vector<std::vector<double>>& values);

// pareto.csv: the header and the rows of the written `table` (write_table's, with `values` of
// the objectives' columns) on the front, best first by the first objective; a row whose
// objectives are not all numbers is on no front.
std::string pareto_csv(const std::filesystem::path& table, const std::vector<Objective>& objectives,
                       const std::vector<std::vector<double>>& values);

}  // namespace tessel::cli
