// The tile-level fold formula against SCALE-Sim v2's printed cycle counts (unlimited
// bandwidth, large SRAM). SCALE-Sim prints the index of the last cycle; tessel counts
// cycles, so each expectation is SCALE-Sim's figure + 1, exactly.
#include <gtest/gtest.h>

#include "arch/systolic/fold_timing.h"
#include "arch/systolic/tile_work.h"
#include "test_specs.h"

namespace tessel {
namespace {

using arch::Dataflow;

uint64_t whole_gemm_cycles(const arch::ArraySpec& array, uint64_t m, uint64_t n, uint64_t k) {
  const arch::SpatialShape shape = arch::spatial_shape(array.dataflow, m, n, k);
  const arch::FoldGrid grid = arch::fold_grid(array, shape.rows, shape.cols);
  return arch::folds_cycles(array, grid.folds(), shape.temporal, 1.0);
}

TEST(FoldTiming, MatchesScaleSimOutputStationary) {
  const auto spec = testing::ideal_array(128, 128, Dataflow::OutputStationary);
  EXPECT_EQ(whole_gemm_cycles(spec.array, 512, 768, 768), 24527u + 1);
}

TEST(FoldTiming, MatchesScaleSimWeightStationary) {
  const auto spec = testing::ideal_array(128, 128, Dataflow::WeightStationary);
  EXPECT_EQ(whole_gemm_cycles(spec.array, 128, 128, 128), 509u + 1);
}

TEST(FoldTiming, MatchesScaleSimInputStationary) {
  const auto spec = testing::ideal_array(32, 32, Dataflow::InputStationary);
  EXPECT_EQ(whole_gemm_cycles(spec.array, 100, 37, 300), 5239u + 1);
}

TEST(FoldTiming, DoubleBufferedFoldsStreamBackToBack) {
  // ws 4×4, 3 folds of T = 10: fill 4 once, 3 streams of 10 back to back, skew 4 + 4 - 2.
  auto spec = testing::ideal_array(4, 4, Dataflow::WeightStationary, true);
  EXPECT_EQ(arch::folds_cycles(spec.array, 3, 10, 1.0), 4u + 3 * 10 + 6);
  // A stream shorter than the fill: the next fold waits for its weights, the last does not.
  EXPECT_EQ(arch::folds_cycles(spec.array, 3, 2, 1.0), 4u + 2 * 4 + 2 + 6);
  // One fold gains nothing from a second weight register.
  EXPECT_EQ(arch::folds_cycles(spec.array, 1, 2, 1.0), 4u + 2 + 6);
  spec.array.weights_double_buffered = false;
  EXPECT_EQ(arch::folds_cycles(spec.array, 3, 10, 1.0), 3u * (4 + 10 + 6));
  EXPECT_EQ(arch::folds_cycles(spec.array, 1, 2, 1.0), 4u + 2 + 6);
}

TEST(FoldTiming, DoubleBufferedOutputStationaryWaitsForTheDrain) {
  // os 4×4: no fill, but a fold's results need 4 cycles to shift out of the shadow registers.
  const auto spec = testing::ideal_array(4, 4, Dataflow::OutputStationary, true);
  EXPECT_EQ(arch::folds_cycles(spec.array, 3, 10, 1.0), 2u * 10 + 10 + 6);
  EXPECT_EQ(arch::folds_cycles(spec.array, 3, 2, 1.0), 2u * 4 + 2 + 6);
}

TEST(FoldTiming, MacRateShortensTheStream) {
  const auto spec = testing::ideal_array(8, 8, Dataflow::OutputStationary);
  // Two MACs a PE a cycle halve the stream (rounded up), not the skew.
  EXPECT_EQ(arch::folds_cycles(spec.array, 1, 101, 2.0), 51u + 14);
}

TEST(TileWork, CountsOperandReadsPerFold) {
  // os 4×4 on a 8×8×5 tile: 2×2 folds; A streams once per column fold, B once per row fold.
  const auto spec = testing::ideal_array(4, 4, Dataflow::OutputStationary);
  const arch::TileWork work = arch::tile_work(spec.array, 1.0, 1, 8, 8, 5, false);
  EXPECT_EQ(work.folds, 4u);
  EXPECT_EQ(work.accesses.input_read, 8u * 5 * 2);
  EXPECT_EQ(work.accesses.weight_read, 5u * 8 * 2);
  EXPECT_EQ(work.accesses.output_write, 8u * 8 * 4);
  EXPECT_EQ(work.accesses.output_read, 0u);
  EXPECT_EQ(work.pe_slots, 4u * 16 * 5);
}

TEST(TileWork, WeightStationaryAccumulatesRowFoldsInTheOutputBuffer) {
  // ws 4×4 on M=3, N=4, K=8: two row folds (K chunks) of one column fold; the second adds
  // onto the first's sums, and a continued K chunk adds onto the buffer's sums too.
  const auto spec = testing::ideal_array(4, 4, Dataflow::WeightStationary);
  const arch::TileWork first = arch::tile_work(spec.array, 1.0, 2, 3, 4, 8, false);
  EXPECT_EQ(first.accesses.weight_read, 8u * 4 * 2);
  EXPECT_EQ(first.accesses.input_read, 3u * 8 * 2);
  EXPECT_EQ(first.accesses.output_write, 2u * 3 * 4 * 4);
  EXPECT_EQ(first.accesses.output_read, 1u * 3 * 4 * 4);
  const arch::TileWork later = arch::tile_work(spec.array, 1.0, 2, 3, 4, 8, true);
  EXPECT_EQ(later.accesses.output_read, 2u * 3 * 4 * 4);
}

}  // namespace
}  // namespace tessel
