#include "mapper/tile_walker.h"

#include <algorithm>

namespace tessel::mapper {

namespace {
uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
constexpr size_t at(Dim dim) { return static_cast<size_t>(dim); }
}  // namespace

uint32_t final_output_bytes(arch::DType dtype) { return arch::bytes_of(dtype); }

TileWalker::TileWalker(const arch::SystolicSpec& spec, const Extents& slice,
                       const GemmMapping& mapping)
    : spec_(spec),
      slice_(slice),
      mapping_(mapping),
      macs_per_pe_per_cycle_(spec.find_dtype(mapping.dtype)->macs_per_pe_per_cycle),
      operand_bytes_(arch::bytes_of(mapping.dtype)),
      count_{ceil_div(slice.m, mapping.tile.m), ceil_div(slice.n, mapping.tile.n),
             ceil_div(slice.k, mapping.tile.k)} {
  done_ = slice.m == 0 || slice.n == 0 || slice.k == 0;
}

uint64_t TileWalker::extent(Dim dim, uint64_t index) const {
  const uint64_t tile = mapping_.tile.along(dim);
  return std::min(tile, slice_.along(dim) - index * tile);
}

bool TileWalker::advance(Index& index) const {
  for (auto loop = mapping_.order.rbegin(); loop != mapping_.order.rend(); ++loop) {
    if (++index[at(*loop)] < count_[at(*loop)]) return true;
    index[at(*loop)] = 0;
  }
  return false;
}

bool TileWalker::next(TileStep& step) {
  if (done_) return false;
  const bool first = !started_;
  if (started_) {
    prev_ = index_;
    advance(index_);
  }
  started_ = true;
  Index following = index_;
  const bool last = !advance(following);
  done_ = last;

  const uint64_t m = extent(Dim::M, index_[at(Dim::M)]);
  const uint64_t n = extent(Dim::N, index_[at(Dim::N)]);
  const uint64_t k = extent(Dim::K, index_[at(Dim::K)]);
  const auto changed = [&](Dim a, Dim b) {
    return first || index_[at(a)] != prev_[at(a)] || index_[at(b)] != prev_[at(b)];
  };
  step.size = {m, n, k};
  step.continues_sum = index_[at(Dim::K)] > 0;
  step.load_input_bytes = changed(Dim::M, Dim::K) ? m * k * operand_bytes_ : 0;
  step.load_weight_bytes = changed(Dim::K, Dim::N) ? k * n * operand_bytes_ : 0;
  // A new output tile that is not the first K chunk continues sums spilled to DRAM.
  step.load_partial_bytes =
      changed(Dim::M, Dim::N) && step.continues_sum ? m * n * arch::kAccumulatorBytes : 0;
  step.work = arch::tile_work(spec_.array, macs_per_pe_per_cycle_, operand_bytes_, m, n, k,
                              step.continues_sum);

  // The output tile leaves for DRAM when the next step works on another one.
  const bool output_leaves = last || following[at(Dim::M)] != index_[at(Dim::M)] ||
                             following[at(Dim::N)] != index_[at(Dim::N)];
  const bool final_chunk = index_[at(Dim::K)] + 1 == count_[at(Dim::K)];
  const uint64_t element_bytes =
      final_chunk ? final_output_bytes(mapping_.dtype) : arch::kAccumulatorBytes;
  step.store_bytes = output_leaves ? m * n * element_bytes : 0;
  return true;
}

}  // namespace tessel::mapper
