// Walks the SRAM tiles of one array's slice of a GEMM in the mapping's loop order and says,
// for each tile, what must move between DRAM and the buffers and what the array does.
// The engine drives its DMA and compute processes from walkers; the analytic cost model
// (cost_model.h) sums the same quantities in closed form.
#pragma once

#include <array>
#include <cstdint>

#include "arch/spec.h"
#include "arch/systolic/tile_work.h"
#include "mapper/mapping.h"

namespace tessel::mapper {

struct TileStep {
  Extents size;                // this tile's extents (edge tiles are smaller)
  bool continues_sum;          // adds onto partial sums of an earlier K chunk
  uint64_t load_input_bytes;   // DRAM → buffer before compute; 0 when the tile is resident
  uint64_t load_weight_bytes;
  uint64_t load_partial_bytes; // partial sums spilled earlier, read back
  uint64_t store_bytes;        // buffer → DRAM after compute; 0 while the output tile stays
  arch::TileWork work;
};

class TileWalker {
 public:
  TileWalker(const arch::SystolicSpec& spec, const Extents& slice, const GemmMapping& mapping);

  // Fills `step` with the next tile; false when every tile has been visited.
  bool next(TileStep& step);
  uint64_t tile_count() const { return count_[0] * count_[1] * count_[2]; }

 private:
  using Index = std::array<uint64_t, 3>;  // tile indices along M, N, K

  uint64_t extent(Dim dim, uint64_t index) const;
  // Steps the loop nest once; false after the last tile.
  bool advance(Index& index) const;

  const arch::SystolicSpec& spec_;
  Extents slice_;
  GemmMapping mapping_;
  double macs_per_pe_per_cycle_;
  uint32_t operand_bytes_;
  Index count_;  // tiles along M, N, K
  Index index_{};
  Index prev_{};
  bool started_ = false;
  bool done_ = false;
};

// Bytes of one output element when it leaves for DRAM for good: the datapath rounds the
// accumulator back to the operand format (TPU-style activation pipeline).
uint32_t final_output_bytes(arch::DType dtype);

}  // namespace tessel::mapper
