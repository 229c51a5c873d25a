// The closed-form cost (mapper/cost_model) against a tile-by-tile walk of the same mapping:
// every count must agree exactly, for any shape, tile, order and split.
#include <gtest/gtest.h>

#include <random>

#include "mapper/cost_model.h"
#include "mapper/tile_walker.h"
#include "test_specs.h"

namespace tessel {
namespace {

using mapper::Dim;

struct Walked {
  uint64_t compute_cycles = 0;  // busiest slice
  uint64_t tiles = 0;
  arch::Activity activity;
};

Walked walk_all(const arch::SystolicSpec& spec, const mapper::Extents& gemm, const mapper::GemmMapping& mapping) {
  Walked walked;
  for (uint32_t part = 0; part < mapping.parts; ++part) {
    mapper::TileWalker walker(spec, mapper::part_extents(gemm, mapping, part), mapping,
                              mapper::fetches_input(gemm, mapping, spec.arrays_per_core, part));
    mapper::TileStep step;
    uint64_t cycles = 0;
    while (walker.next(step)) {
      cycles += step.work.compute_cycles;
      walked.activity += mapper::activity_of(step);
      ++walked.tiles;
    }
    walked.compute_cycles = std::max(walked.compute_cycles, cycles);
  }
  return walked;
}

void expect_same_activity(const arch::Activity& a, const arch::Activity& b) {
  EXPECT_EQ(a.macs, b.macs);
  EXPECT_EQ(a.dram_read_bytes, b.dram_read_bytes);
  EXPECT_EQ(a.dram_write_bytes, b.dram_write_bytes);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.buffer_read_bytes[i], b.buffer_read_bytes[i]) << "operand " << i;
    EXPECT_EQ(a.buffer_write_bytes[i], b.buffer_write_bytes[i]) << "operand " << i;
  }
}

TEST(CostModel, ClosedFormEqualsTileWalkOnRandomMappings) {
  std::mt19937_64 rng(7);
  const mapper::LoopOrder orders[] = {{Dim::M, Dim::N, Dim::K}, {Dim::M, Dim::K, Dim::N}, {Dim::N, Dim::K, Dim::M},
                                      {Dim::K, Dim::M, Dim::N}, {Dim::N, Dim::M, Dim::K}, {Dim::K, Dim::N, Dim::M}};
  const arch::Dataflow dataflows[] = {arch::Dataflow::OutputStationary, arch::Dataflow::WeightStationary,
                                      arch::Dataflow::InputStationary};
  const auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 300; ++trial) {
    auto spec = testing::ideal_array(static_cast<uint32_t>(pick(1, 9)), static_cast<uint32_t>(pick(1, 9)),
                                     dataflows[pick(0, 2)], pick(0, 1) == 1);
    spec.cores = static_cast<uint32_t>(pick(1, 3));
    spec.arrays_per_core = static_cast<uint32_t>(pick(1, 3));
    const mapper::Extents gemm{pick(1, 70), pick(1, 70), pick(1, 70)};
    mapper::GemmMapping mapping{spec.array.dataflow, arch::DType::Bf16, pick(0, 1) ? Dim::M : Dim::N, 1, 0,
                                {pick(1, 40), pick(1, 40), pick(1, 40)}, orders[pick(0, 5)],
                                {static_cast<uint8_t>(pick(0, 3)), static_cast<uint8_t>(pick(0, 3)),
                                 static_cast<uint8_t>(pick(0, 3))},
                                pick(0, 1) == 1};
    const uint64_t along = gemm.along(mapping.split);
    mapping.part_size = pick(1, along);
    mapping.parts = static_cast<uint32_t>((along + mapping.part_size - 1) / mapping.part_size);

    const mapper::MappingCost cost = mapper::analytic_cost(spec, gemm, mapping);
    const Walked walked = walk_all(spec, gemm, mapping);
    SCOPED_TRACE(mapping.describe() + " on " + std::to_string(gemm.m) + "x" + std::to_string(gemm.n) + "x" +
                 std::to_string(gemm.k));
    EXPECT_EQ(cost.compute_cycles, walked.compute_cycles);
    EXPECT_EQ(cost.tiles, walked.tiles);
    expect_same_activity(cost.activity, walked.activity);
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
}

// The mapper orders tiles by array_cycles_floor before costing them, which is exact only if
// the closed form never exceeds the arrays' cycles of the tile's cheapest walk.
TEST(CostModel, ArrayCyclesFloorIsTheStreamRunWalksComputeCycles) {
  std::mt19937_64 rng(11);
  const arch::Dataflow dataflows[] = {arch::Dataflow::OutputStationary, arch::Dataflow::WeightStationary,
                                      arch::Dataflow::InputStationary};
  const auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 500; ++trial) {
    auto spec = testing::ideal_array(static_cast<uint32_t>(pick(1, 9)), static_cast<uint32_t>(pick(1, 9)),
                                     dataflows[pick(0, 2)], pick(0, 1) == 1);
    spec.dtypes[2].macs_per_pe_per_cycle = static_cast<double>(pick(1, 4)) / 2.0;
    // Narrow ports make some tiles wait on the buffers, which only raises their cycles.
    for (auto& buffer : spec.buffers) buffer.read_bytes_per_cycle = static_cast<double>(pick(1, 64));
    const bool sparse = pick(0, 2) == 0;
    if (sparse) spec.array.weight_zeros = arch::ZeroHandling::Skip;
    const mapper::Extents gemm{pick(1, 90), pick(1, 90), pick(1, 90)};
    mapper::GemmMapping mapping{dataflows[pick(0, 2)], arch::DType::Bf16, Dim::M, 1, gemm.m,
                                {pick(1, 40), pick(1, 40), pick(1, 40)}, {Dim::M, Dim::N, Dim::K}, {0, 0, 0}, true};
    if (sparse) mapping.weight_density = static_cast<double>(pick(1, 9)) / 10.0;
    const mapper::TileCost tiles = mapper::tile_cost(spec, gemm, mapping);
    const mapper::TileCost::Slice& walk = tiles.floor().full;
    const uint64_t floor = mapper::array_cycles_floor(spec, gemm, mapping);
    SCOPED_TRACE(mapping.describe() + " on " + std::to_string(gemm.m) + "x" + std::to_string(gemm.n) + "x" +
                 std::to_string(gemm.k));
    EXPECT_LE(floor, walk.compute_cycles);
    EXPECT_LE(walk.compute_cycles, walk.port_cycles);
    // Dense, it is those cycles exactly; with skipped zeros, within a cycle a tile of them.
    if (sparse) {
      EXPECT_LE(walk.compute_cycles, floor + walk.tiles + 1);
    } else {
      EXPECT_EQ(floor, walk.compute_cycles);
    }
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
}

TEST(CostModel, OperandsOutsideTheInnermostLoopAreRefetched) {
  // Blocks of one tile (no residency): K innermost keeps partial sums on chip, so C leaves
  // once, while A and B are fetched again for every tile of the loop that does not index them.
  const auto spec = testing::ideal_array(4, 4, arch::Dataflow::OutputStationary);
  const mapper::Extents gemm{16, 16, 16};
  mapper::GemmMapping mapping{spec.array.dataflow, arch::DType::Int8, Dim::M, 1, 16, {8, 8, 8},
                              {Dim::M, Dim::N, Dim::K}, {0, 0, 0}, true};
  const mapper::MappingCost k_inner = mapper::analytic_cost(spec, gemm, mapping);
  EXPECT_EQ(k_inner.activity.dram_write_bytes, 16u * 16);            // int8 outputs, once
  EXPECT_EQ(k_inner.activity.dram_read_bytes, 2u * (16 * 16) * 2);  // A and B twice each
  mapping.order = {Dim::M, Dim::K, Dim::N};                         // N innermost: A once
  const mapper::MappingCost n_inner = mapper::analytic_cost(spec, gemm, mapping);
  // Two K tiles: the first spills int32 partial sums, read back for the second.
  EXPECT_EQ(n_inner.activity.dram_write_bytes, 16u * 16 * 4 + 16 * 16);
  EXPECT_EQ(n_inner.activity.dram_read_bytes, 16u * 16 + 16 * 16 * 2 + 16 * 16 * 4);
}

TEST(CostModel, ResidentBlocksRemoveRefetches) {
  // The TPU v1 case: weights stream through once, activations stay. Order N, K, M over
  // tiles of 8: A spanning the two inner loops (K and M) is fetched once however many N
  // tiles pass; C spanning M keeps its sums on chip across K.
  const auto spec = testing::ideal_array(4, 4, arch::Dataflow::WeightStationary);
  const mapper::Extents gemm{16, 32, 24};
  mapper::GemmMapping mapping{spec.array.dataflow, arch::DType::Int8, Dim::M, 1, 16, {8, 8, 8},
                              {Dim::N, Dim::K, Dim::M}, {2, 0, 1}, true};
  const mapper::MappingCost resident = mapper::analytic_cost(spec, gemm, mapping);
  EXPECT_EQ(resident.activity.dram_read_bytes, 16u * 24 + 24 * 32);  // A once; B once (M innermost)
  EXPECT_EQ(resident.activity.dram_write_bytes, 16u * 32);               // no spills
  mapping.resident_loops = {0, 0, 0};
  const mapper::MappingCost streamed = mapper::analytic_cost(spec, gemm, mapping);
  EXPECT_EQ(streamed.activity.dram_read_bytes - resident.activity.dram_read_bytes,
            16u * 24 * 3 + 16 * 32 * 4 * 2);  // A three more times, partial sums read back twice
}

}  // namespace
}  // namespace tessel
