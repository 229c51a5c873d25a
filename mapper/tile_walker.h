// Walks the tiles of one array's slice of a GEMM in the mapping's loop order and says, for
// each tile, what must move between DRAM and the buffers and what the array does. The
// engine drives its DMA and compute processes from walkers; the analytic cost model
// (cost_model.h) sums the same quantities in closed form.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "arch/spec.h"
#include "arch/systolic/tile_work.h"
#include "mapper/loop_nest.h"
#include "mapper/mapping.h"

namespace tessel::mapper {

struct TileStep {
  Extents size;                 // this tile's extents (edge tiles are smaller)
  bool continues_sum;           // adds onto partial sums of an earlier K tile
  uint64_t load_input_bytes;    // DRAM → buffer before compute: a new block, else 0
  uint64_t load_weight_bytes;
  uint64_t load_partial_bytes;  // an output block's partial sums spilled earlier, read back
  uint64_t store_bytes;         // buffer → DRAM after compute: the output block leaving, else 0
  arch::TileWork work;
};

class TileWalker {
 public:
  // `fetches_input` false: another array of the core fetches the input blocks (see
  // shares_input), so this walk loads none.
  TileWalker(const arch::SystolicSpec& spec, const Extents& slice, const GemmMapping& mapping, bool fetches_input);

  // Fills `step` with the next tile; false when every tile has been visited.
  bool next(TileStep& step);
  // How many tiles the walk visits.
  uint64_t tiles() const { return nest_.trips(Dim::M) * nest_.trips(Dim::N) * nest_.trips(Dim::K); }

 private:
  using Index = std::array<uint64_t, 3>;  // tile indices along M, N, K

  uint64_t tile_extent(Dim dim, uint64_t index) const;
  // Steps the loop nest once; false after the last tile.
  bool advance(Index& index) const;
  // Whether an index of a loop outside the operand's block differs between a and b.
  bool new_block(arch::Operand operand, const Index& a, const Index& b) const;
  uint64_t block_elements(arch::Operand operand, const Index& index) const;
  // The array's work on a tile of these extents, as stored; a walk meets few distinct tiles
  // (interior and edge, first K tile or not, place in a run), so each is worked out once.
  const arch::TileWork& work_of(const Extents& size, bool continues_sum, arch::StreamRun run);

  struct KnownWork {
    Extents size;
    bool continues_sum;
    arch::StreamRun run;
    arch::TileWork work;
  };

  arch::ArraySpec array_;  // the spec's array running the mapping's dataflow
  Extents slice_;
  GemmMapping mapping_;
  LoopNest nest_;
  double macs_per_pe_per_cycle_;
  double operand_bytes_;
  bool fetches_input_;
  Dim streamed_;
  bool forms_runs_;  // see stream_run in loop_nest.h
  Index index_{};
  Index prev_{};
  bool started_ = false;
  bool done_ = false;
  std::vector<KnownWork> known_;
};

// Bytes of one output element when it leaves for DRAM for good: the datapath rounds the
// accumulator back to the operand format (TPU-style activation pipeline), and int4 products to
// int8, the narrowest format the ops after a linear (residual adds, norms) take.
uint32_t final_output_bytes(arch::DType dtype);

}  // namespace tessel::mapper
