#include "mapper/tile_walker.h"

#include <algorithm>

namespace tessel::mapper {

namespace {
constexpr size_t at(Dim dim) { return static_cast<size_t>(dim); }
using arch::Operand;
}  // namespace

uint32_t final_output_bytes(arch::DType dtype) { return arch::is_sub_byte(dtype) ? 1 : arch::bytes_of(dtype); }

TileWalker::TileWalker(const arch::SystolicSpec& spec, const Extents& slice, const GemmMapping& mapping,
                       bool fetches_input)
    : array_(spec.array),
      slice_(slice),
      mapping_(mapping),
      nest_(slice, mapping),
      macs_per_pe_per_cycle_(spec.find_dtype(mapping.dtype)->macs_per_pe_per_cycle),
      operand_bytes_(arch::element_bytes(mapping.dtype)),
      fetches_input_(fetches_input),
      streamed_(streamed_dim(mapping.dataflow)),
      forms_runs_(forms_stream_runs(nest_, mapping.dataflow)) {
  array_.dataflow = mapping.dataflow;
  done_ = slice.m == 0 || slice.n == 0 || slice.k == 0;
}

uint64_t TileWalker::tile_extent(Dim dim, uint64_t index) const {
  const uint64_t tile = mapping_.tile.along(dim);
  return std::min(tile, slice_.along(dim) - index * tile);
}

bool TileWalker::advance(Index& index) const {
  for (uint32_t level = 3; level-- > 0;) {
    const Dim dim = nest_.dim_at(level);
    if (++index[at(dim)] < nest_.trips(dim)) return true;
    index[at(dim)] = 0;
  }
  return false;
}

bool TileWalker::new_block(Operand operand, const Index& a, const Index& b) const {
  for (uint32_t level = 0; level < nest_.operand(operand).outside; ++level) {
    const Dim dim = nest_.dim_at(level);
    if (a[at(dim)] != b[at(dim)]) return true;
  }
  return false;
}

uint64_t TileWalker::block_elements(Operand operand, const Index& index) const {
  const uint32_t outside = nest_.operand(operand).outside;
  uint64_t elements = 1;
  for (uint32_t level = 0; level < 3; ++level) {
    const Dim dim = nest_.dim_at(level);
    if (!indexes(operand, dim)) continue;
    elements *= level < outside ? tile_extent(dim, index[at(dim)]) : slice_.along(dim);
  }
  return elements;
}

const arch::TileWork& TileWalker::work_of(const Extents& size, bool continues_sum, arch::StreamRun run) {
  for (const KnownWork& known : known_) {
    if (known.size.m == size.m && known.size.n == size.n && known.size.k == size.k &&
        known.continues_sum == continues_sum && known.run.continues == run.continues &&
        known.run.continued == run.continued) {
      return known.work;
    }
  }
  const arch::TileWork work = as_stored(
      arch::tile_work(array_, macs_per_pe_per_cycle_, operand_bytes_, size.m, size.n, size.k, continues_sum, run),
      mapping_, array_);
  known_.push_back({size, continues_sum, run, work});
  return known_.back().work;
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

  const uint64_t m = tile_extent(Dim::M, index_[at(Dim::M)]);
  const uint64_t n = tile_extent(Dim::N, index_[at(Dim::N)]);
  const uint64_t k = tile_extent(Dim::K, index_[at(Dim::K)]);
  const auto arrives = [&](Operand x) { return first || new_block(x, prev_, index_); };
  step.size = {m, n, k};
  step.continues_sum = index_[at(Dim::K)] > 0;
  step.load_input_bytes =
      fetches_input_ && arrives(Operand::Input) ? input_block_bytes(mapping_, block_elements(Operand::Input, index_))
                                                : 0;
  step.load_weight_bytes =
      arrives(Operand::Weight) ? weight_block_bytes(mapping_, block_elements(Operand::Weight, index_)) : 0;
  // K outside the output block: each visit of a block sums one K tile; a later visit
  // reads back the partial sums the earlier one spilled.
  const bool spills = nest_.is_outside(Operand::Output, Dim::K);
  const uint64_t k_index = index_[at(Dim::K)];
  const uint64_t output_elements = block_elements(Operand::Output, index_);
  step.load_partial_bytes =
      arrives(Operand::Output) && spills && k_index > 0 ? output_elements * arch::kAccumulatorBytes : 0;
  const arch::StreamRun run =
      forms_runs_ ? stream_run(index_[at(streamed_)], nest_.trips(streamed_)) : arch::StreamRun{};
  step.work = work_of(step.size, step.continues_sum, run);

  const bool leaves = last || new_block(Operand::Output, index_, following);
  const bool final_sums = !spills || k_index + 1 == nest_.trips(Dim::K);
  const uint32_t element_bytes = final_sums ? final_output_bytes(mapping_.dtype) : arch::kAccumulatorBytes;
  step.store_bytes = leaves ? output_elements * element_bytes : 0;
  return true;
}

}  // namespace tessel::mapper
