// The tile-analytic view (fidelity level 2): the closed-form cost of a mapping,
// fast enough to rank millions of mappings. The engine runs the same tiles as SystemC
// transactions; with unlimited DRAM bandwidth the two agree exactly.
#pragma once

#include <cstdint>

#include "arch/energy.h"
#include "arch/spec.h"
#include "mapper/mapping.h"
#include "mapper/tile_walker.h"

namespace tessel::mapper {

// What the arrays do, which depends only on the split, the tile, the dataflow and the
// format, and of the loop order only on whether the walk forms stream runs (loop_nest.h), not
// on residency or buffering: the mapper computes it once per tile and reuses it across every
// nest of that tile.
struct TileCost {
  struct Slice {
    uint64_t compute_cycles = 0;
    uint64_t port_cycles = 0;  // compute cycles, or the buffers' port time where longer
    uint64_t tiles = 0;
    uint64_t folds = 0;
    uint64_t pe_slots = 0;
    // Tiles a stream run goes on from (they do not drain) and their port cycles.
    uint64_t continued_tiles = 0;
    uint64_t continued_port_cycles = 0;
    arch::Activity array;  // MACs and the array's own buffer accesses
  };
  struct Slices {
    Slice full;  // every slice but the last
    Slice last;  // the last slice (the same as full when there is one part)
  };
  Slices walks[2];  // indexed by whether the walk forms stream runs
  // The cheaper walk's, a floor under every nest of the tile: runs only save fills and drains.
  const Slices& floor() const { return walks[1]; }
};

struct MappingCost {
  uint64_t compute_cycles = 0;    // the busiest array's systolic cycles
  uint64_t port_cycles = 0;       // the busiest array's cycles with buffer ports accounted
  uint64_t estimated_cycles = 0;  // whole GEMM, with DRAM transfers and their overlap
  uint64_t tiles = 0;             // tiles over all arrays
  uint64_t folds = 0;             // array folds over all arrays
  uint64_t pe_slots = 0;          // PE operations the folds offer (useful or padding)
  arch::Activity activity;        // all arrays together
  double energy_pj = 0;

  uint64_t dram_bytes() const { return activity.dram_read_bytes + activity.dram_write_bytes; }
};

TileCost tile_cost(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping);
// A closed-form lower bound on the arrays' cycles of a slice under any walk of the mapping's
// tile (tile_cost(...).floor()'s port cycles), for ordering tiles before costing them.
uint64_t array_cycles_floor(const arch::SystolicSpec& spec, const Extents& slice, const GemmMapping& mapping);
// `tiles` must come from tile_cost of the same split, tile, dataflow and format.
MappingCost analytic_cost(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping,
                          const TileCost& tiles);
MappingCost analytic_cost(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping);

// What one tile step does to the buffers, DRAM and MAC units.
arch::Activity activity_of(const TileStep& step);

// DRAM bytes no mapping can avoid: A and B read once, C written once in the operand format.
uint64_t compulsory_dram_bytes(const Extents& gemm, arch::DType dtype, double weight_bytes = 0, double input_bytes = 0);

// Cycles to move `bytes` over DRAM at full bandwidth, without latency (0 when unlimited).
double dram_transfer_cycles(const arch::DramSpec& dram, uint64_t bytes);

}  // namespace tessel::mapper
