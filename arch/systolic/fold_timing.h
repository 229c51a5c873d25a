// Cycle counts of a systolic array executing folds, the hardware formula that the
// PE-level model (arch/systolic/pe_array) reproduces by moving operands.
//
// A fold maps one spatial tile (at most rows × cols) of the GEMM onto the array and streams
// the temporal dimension T through it (K for os, M for ws, N for is). The array is a fixed
// pipeline: a partial fold pads with zeros and still takes the full array's skew, as in
// SCALE-Sim and in hardware with fixed-length skew buffers at the array edges.
//
//   fill   = rows for ws/is (the stationary operand shifts in from the top, a row a cycle),
//            0 for os (the previous fold's results shift out under the next fold's skew).
//   stream = ceil(T / macs_per_pe_per_cycle)
//   skew   = rows + cols - 2 (the last operand enters at row rows-1 and crosses every column)
//
// Not double-buffered: each fold fills, streams and drains before the next starts:
//   folds × (fill + stream + skew)
// Double-buffered stationary registers (weights for ws, inputs for is, results for os): folds
// stream back to back at the array edge, but a fold cannot start before the previous one's
// shadow registers have turned over, which takes `rows` cycles (ws/is: the next stationary
// tile shifts in; os: the previous results shift out):
//   fill + (folds - 1) × max(stream, rows) + stream + skew
//
// A run of one-fold tiles that differ only along the streamed dimension (buffer tiles of K
// for os, of M for ws, of N for is) is one fold to the array: its stationary state (os: the
// partial sums in the PEs; ws/is: the loaded tile) stays, and the next tile's operands enter
// right behind the last one's. Only the run's first tile fills and only its last drains:
//   first: fill + stream, middle: stream, last: stream + skew.
// SCALE-Sim's folds assume this: its compute cycles do not depend on the buffer sizes.
#pragma once

#include <cstdint>

#include "arch/spec.h"

namespace tessel::arch {

struct FoldGrid {
  uint64_t row_folds;
  uint64_t col_folds;
  uint64_t folds() const { return row_folds * col_folds; }
};

// How many folds cover a spatial extent of sr × sc on the array.
FoldGrid fold_grid(const ArraySpec& array, uint64_t spatial_rows, uint64_t spatial_cols);

uint64_t fill_cycles(const ArraySpec& array);
uint64_t stream_cycles(uint64_t temporal, double macs_per_pe_per_cycle);

// Cycles for `folds` consecutive folds of temporal extent `temporal`.
uint64_t folds_cycles(const ArraySpec& array, uint64_t folds, uint64_t temporal,
                      double macs_per_pe_per_cycle);

// Where a one-fold tile sits in a run the array streams without a break (see above).
struct StreamRun {
  bool continues = false;  // the tile before streamed into this one: no fill
  bool continued = false;  // the next tile streams on from this one: no drain
  bool any() const { return continues || continued; }
};

// Cycles of one fold that is part of a run.
uint64_t run_fold_cycles(const ArraySpec& array, uint64_t temporal, double macs_per_pe_per_cycle, StreamRun run);

}  // namespace tessel::arch
