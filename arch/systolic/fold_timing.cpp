#include "arch/systolic/fold_timing.h"

#include <algorithm>
#include <cmath>

namespace tessel::arch {

FoldGrid fold_grid(const ArraySpec& array, uint64_t spatial_rows, uint64_t spatial_cols) {
  return {ceil_div(spatial_rows, array.rows), ceil_div(spatial_cols, array.cols)};
}

uint64_t fill_cycles(const ArraySpec& array) {
  return array.dataflow == Dataflow::OutputStationary ? 0 : array.rows;
}

uint64_t stream_cycles(uint64_t temporal, double macs_per_pe_per_cycle) {
  return static_cast<uint64_t>(std::ceil(static_cast<double>(temporal) / macs_per_pe_per_cycle));
}

uint64_t folds_cycles(const ArraySpec& array, uint64_t folds, uint64_t temporal,
                      double macs_per_pe_per_cycle) {
  if (folds == 0) return 0;
  const uint64_t fill = fill_cycles(array);
  const uint64_t stream = stream_cycles(temporal, macs_per_pe_per_cycle);
  const uint64_t skew = uint64_t{array.rows} + array.cols - 2;
  if (!array.weights_double_buffered) return folds * (fill + stream + skew);
  return fill + (folds - 1) * std::max(stream, uint64_t{array.rows}) + stream + skew;
}

uint64_t run_fold_cycles(const ArraySpec& array, uint64_t temporal, double macs_per_pe_per_cycle, StreamRun run) {
  const uint64_t fill = run.continues ? 0 : fill_cycles(array);
  const uint64_t skew = run.continued ? 0 : uint64_t{array.rows} + array.cols - 2;
  return fill + stream_cycles(temporal, macs_per_pe_per_cycle) + skew;
}

}  // namespace tessel::arch
