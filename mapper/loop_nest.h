// The loop nest of a mapping over one array's slice: trip counts, and for each operand the
// loops outside its buffer block (each change of one of them brings a new block) and the
// block's extents. The tile walker and the closed-form cost model both read it, so they
// cannot disagree on what is resident.
#pragma once

#include <array>
#include <cstdint>

#include "arch/systolic/fold_timing.h"
#include "arch/types.h"
#include "mapper/mapping.h"

namespace tessel::mapper {

// Whether an operand's elements are indexed by a dimension: A by M, K; B by K, N; C by M, N.
bool indexes(arch::Operand operand, Dim dim);

// The dimension a dataflow streams through the array in time: K for os, M for ws, N for is.
Dim streamed_dim(arch::Dataflow dataflow);

struct OperandNest {
  // Loop levels (0 = outermost) outside the block are [0, outside). Canonical: loops that
  // iterate once, or that do not index the operand, just inside that boundary are taken
  // into the block, since spanning them costs no buffer space or no refetch.
  uint32_t outside;
  Extents block;  // the block's extents (the slice's extent along the loops it spans)
};

class LoopNest {
 public:
  LoopNest(const Extents& slice, const GemmMapping& mapping);

  uint64_t trips(Dim dim) const { return trips_[static_cast<size_t>(dim)]; }
  uint64_t trips_at(uint32_t level) const { return trips(order_[level]); }
  Dim dim_at(uint32_t level) const { return order_[level]; }
  const OperandNest& operand(arch::Operand operand) const { return operands_[static_cast<size_t>(operand)]; }
  uint64_t steps() const { return trips_[0] * trips_[1] * trips_[2]; }

  // Whether consecutive tiles of the walk differ only along `dim` until its loop wraps:
  // every loop inside it iterates once.
  bool steps_along(Dim dim) const;
  // Whether the loop over `dim` lies outside the operand's block.
  bool is_outside(arch::Operand operand, Dim dim) const;
  // Product of the trip counts of the loops outside an operand's block: how many blocks
  // it fetches (the output: how many times blocks are visited).
  uint64_t block_visits(arch::Operand operand) const;
  // The same over the outside loops that do not index the operand: its refetch factor.
  uint64_t refetch_factor(arch::Operand operand) const;

 private:
  LoopOrder order_;
  std::array<uint64_t, 3> trips_;  // by Dim
  std::array<OperandNest, 3> operands_;
};

// Whether the array streams runs of tiles without a break (arch/systolic/fold_timing.h): when
// the walk steps along the dimension the dataflow streams.
bool forms_stream_runs(const LoopNest& nest, arch::Dataflow dataflow);
// Where the tile at `index` of `tiles` along the streamed dimension sits in its run, in a walk
// that forms runs. Whether the tile is one fold, as a run needs, is for tile_work to say.
arch::StreamRun stream_run(uint64_t index, uint64_t tiles);

}  // namespace tessel::mapper
