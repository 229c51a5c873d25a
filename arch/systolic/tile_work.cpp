#include "arch/systolic/tile_work.h"

#include <algorithm>
#include <cmath>

namespace tessel::arch {

SpatialShape spatial_shape(Dataflow dataflow, uint64_t m, uint64_t n, uint64_t k) {
  switch (dataflow) {
    case Dataflow::OutputStationary: return {m, n, k};
    case Dataflow::WeightStationary: return {k, n, m};
    case Dataflow::InputStationary: return {k, m, n};
  }
  return {0, 0, 0};
}

namespace {

// ws/is: each row fold (a K chunk of the array's height) emits partial sums at the bottom
// edge, which add onto what the output buffer already holds for those outputs.
void accumulate_at_bottom_edge(TileAccesses& accesses, uint64_t outputs, uint64_t row_folds,
                               bool continues_sum) {
  const uint64_t reads = row_folds - 1 + (continues_sum ? 1 : 0);
  accesses.output_write = outputs * row_folds * kAccumulatorBytes;
  accesses.output_read = outputs * reads * kAccumulatorBytes;
}

uint64_t fold_cycles(const ArraySpec& array, const FoldGrid& grid, uint64_t temporal, double macs_per_pe_per_cycle,
                     StreamRun run) {
  return grid.folds() == 1 && run.any() ? run_fold_cycles(array, temporal, macs_per_pe_per_cycle, run)
                                        : folds_cycles(array, grid.folds(), temporal, macs_per_pe_per_cycle);
}

}  // namespace

uint64_t tile_compute_cycles(const ArraySpec& array, double macs_per_pe_per_cycle, uint64_t m, uint64_t n, uint64_t k,
                             StreamRun run) {
  const SpatialShape shape = spatial_shape(array.dataflow, m, n, k);
  return fold_cycles(array, fold_grid(array, shape.rows, shape.cols), shape.temporal, macs_per_pe_per_cycle, run);
}

TileWork tile_work(const ArraySpec& array, double macs_per_pe_per_cycle, double operand_bytes,
                   uint64_t m, uint64_t n, uint64_t k, bool continues_sum, StreamRun run) {
  const SpatialShape shape = spatial_shape(array.dataflow, m, n, k);
  const FoldGrid grid = fold_grid(array, shape.rows, shape.cols);
  if (grid.folds() != 1) run = {};
  TileWork work{};
  work.run = run;
  work.folds = grid.folds();
  work.compute_cycles = fold_cycles(array, grid, shape.temporal, macs_per_pe_per_cycle, run);
  work.pe_slots = work.folds * array.rows * array.cols * shape.temporal;

  const auto packed = [&](uint64_t elements) {
    return static_cast<uint64_t>(std::ceil(static_cast<double>(elements) * operand_bytes));
  };
  const uint64_t a = packed(m * k);
  const uint64_t b = packed(k * n);
  const uint64_t outputs = m * n;
  switch (array.dataflow) {
    case Dataflow::OutputStationary:
      // A's row slab streams once per column fold, B's column slab once per row fold;
      // sums stay in the PEs across K and are written out once per tile (once per run).
      work.accesses.input_read = a * grid.col_folds;
      work.accesses.weight_read = b * grid.row_folds;
      work.accesses.output_write = run.continued ? 0 : outputs * kAccumulatorBytes;
      work.accesses.output_read = continues_sum && !run.continues ? outputs * kAccumulatorBytes : 0;
      break;
    case Dataflow::WeightStationary:
      accumulate_at_bottom_edge(work.accesses, outputs, grid.row_folds, continues_sum);
      work.accesses.weight_read = run.continues ? 0 : b;
      work.accesses.input_read = a * grid.col_folds;
      break;
    case Dataflow::InputStationary:
      accumulate_at_bottom_edge(work.accesses, outputs, grid.row_folds, continues_sum);
      work.accesses.input_read = run.continues ? 0 : a;
      work.accesses.weight_read = b * grid.col_folds;
      break;
  }
  return work;
}

}  // namespace tessel::arch

namespace tessel::arch {

uint64_t buffer_port_cycles(const SystolicSpec& spec, const TileAccesses& accesses) {
  const uint64_t reads[3] = {accesses.input_read, accesses.weight_read, accesses.output_read};
  double slowest = 0.0;
  for (const BufferSpec& buffer : spec.buffers) {
    uint64_t read = 0;
    uint64_t written = 0;
    for (Operand operand : buffer.holds) {
      read += reads[static_cast<size_t>(operand)];
      if (operand == Operand::Output) written += accesses.output_write;
    }
    const double share = 1.0 / spec.arrays_per_core;
    slowest = std::max({slowest, static_cast<double>(read) / (buffer.read_bytes_per_cycle * share),
                        static_cast<double>(written) / (buffer.write_bytes_per_cycle * share)});
  }
  return static_cast<uint64_t>(std::ceil(slowest));
}

}  // namespace tessel::arch
