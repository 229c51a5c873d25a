#include "mapper/loop_nest.h"

#include <algorithm>

namespace tessel::mapper {

namespace {
using arch::ceil_div;
constexpr arch::Operand kOperands[] = {arch::Operand::Input, arch::Operand::Weight, arch::Operand::Output};
}  // namespace

bool indexes(arch::Operand operand, Dim dim) {
  switch (operand) {
    case arch::Operand::Input: return dim != Dim::N;
    case arch::Operand::Weight: return dim != Dim::M;
    case arch::Operand::Output: return dim != Dim::K;
  }
  return false;
}

Dim streamed_dim(arch::Dataflow dataflow) {
  switch (dataflow) {
    case arch::Dataflow::OutputStationary: return Dim::K;
    case arch::Dataflow::WeightStationary: return Dim::M;
    case arch::Dataflow::InputStationary: return Dim::N;
  }
  return Dim::K;
}

bool LoopNest::steps_along(Dim dim) const {
  uint32_t level = 2;
  while (dim_at(level) != dim) {
    if (trips_at(level) != 1) return false;
    --level;
  }
  return true;
}

bool forms_stream_runs(const LoopNest& nest, arch::Dataflow dataflow) {
  return nest.steps_along(streamed_dim(dataflow));
}

arch::StreamRun stream_run(uint64_t index, uint64_t tiles) { return {index > 0, index + 1 < tiles}; }

LoopNest::LoopNest(const Extents& slice, const GemmMapping& mapping)
    : order_(mapping.order),
      trips_{ceil_div(slice.m, mapping.tile.m), ceil_div(slice.n, mapping.tile.n), ceil_div(slice.k, mapping.tile.k)} {
  for (arch::Operand x : kOperands) {
    const auto i = static_cast<size_t>(x);
    uint32_t outside = 3 - std::min<uint32_t>(mapping.resident_loops[i], 3);
    while (outside > 0 && (trips_at(outside - 1) == 1 || !indexes(x, dim_at(outside - 1)))) --outside;
    Extents block{std::min(mapping.tile.m, slice.m), std::min(mapping.tile.n, slice.n),
                  std::min(mapping.tile.k, slice.k)};
    for (uint32_t level = outside; level < 3; ++level) {
      const Dim dim = dim_at(level);
      if (dim == Dim::M) block.m = slice.m;
      if (dim == Dim::N) block.n = slice.n;
      if (dim == Dim::K) block.k = slice.k;
    }
    operands_[i] = {outside, block};
  }
}

bool LoopNest::is_outside(arch::Operand operand, Dim dim) const {
  for (uint32_t level = 0; level < this->operand(operand).outside; ++level) {
    if (dim_at(level) == dim) return true;
  }
  return false;
}

uint64_t LoopNest::block_visits(arch::Operand operand) const {
  uint64_t visits = 1;
  for (uint32_t level = 0; level < this->operand(operand).outside; ++level) visits *= trips_at(level);
  return visits;
}

uint64_t LoopNest::refetch_factor(arch::Operand operand) const {
  uint64_t factor = 1;
  for (uint32_t level = 0; level < this->operand(operand).outside; ++level) {
    if (!indexes(operand, dim_at(level))) factor *= trips_at(level);
  }
  return factor;
}

}  // namespace tessel::mapper
