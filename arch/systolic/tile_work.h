// What one systolic array does for one SRAM tile of a GEMM (tm × tn × tk): the cycles it
// computes and the bytes it moves between itself and its buffers.
#pragma once

#include <cstdint>

#include "arch/spec.h"
#include "arch/systolic/fold_timing.h"

namespace tessel::arch {

// A GEMM tile laid onto the array by the dataflow (see Dataflow).
struct SpatialShape {
  uint64_t rows;      // spatial extent on the array's rows
  uint64_t cols;      // spatial extent on the array's columns
  uint64_t temporal;  // extent streamed through in time
};
SpatialShape spatial_shape(Dataflow dataflow, uint64_t m, uint64_t n, uint64_t k);

// Bytes the array reads from and writes to its buffers for one tile.
struct TileAccesses {
  uint64_t input_read;
  uint64_t weight_read;
  uint64_t output_read;   // partial sums read back to accumulate onto
  uint64_t output_write;  // partial or final sums, at accumulator width
};

struct TileWork {
  uint64_t folds;
  uint64_t compute_cycles;
  uint64_t pe_slots;  // folds × rows × cols × temporal: PE-operations the folds offer
  StreamRun run;      // the run the tile is part of: none unless it is one fold
  TileAccesses accesses;
};

// `continues_sum` is true when the tile's outputs add onto partial sums of an earlier K
// chunk. `run` places a one-fold tile in a run streamed without a break (fold_timing.h): the
// run fills and drains once, and what stays in the array is not read or written again (os:
// the partial sums; ws: the weights; is: the inputs). A tile of several folds ignores it.
// `operand_bytes`: an input's or weight's element, packed (0.5 for int4).
TileWork tile_work(const ArraySpec& array, double macs_per_pe_per_cycle, double operand_bytes,
                   uint64_t m, uint64_t n, uint64_t k, bool continues_sum, StreamRun run = {});

// tile_work(...).compute_cycles alone.
uint64_t tile_compute_cycles(const ArraySpec& array, double macs_per_pe_per_cycle, uint64_t m, uint64_t n, uint64_t k,
                             StreamRun run = {});

}  // namespace tessel::arch

namespace tessel::arch {

// Cycles the buffers' ports need to serve one tile's array-side accesses. The arrays of a
// core share its buffers, so each gets 1/arrays_per_core of every port. A tile whose port
// time exceeds its compute cycles is port-bound.
uint64_t buffer_port_cycles(const SystolicSpec& spec, const TileAccesses& accesses);

}  // namespace tessel::arch
