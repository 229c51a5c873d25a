#include <gtest/gtest.h>

#include <random>

#include "mapper/systolic_mapper.h"
#include "test_specs.h"

namespace tessel {
namespace {

using arch::Dataflow;
using mapper::Dim;

TEST(Mapper, LargeBuffersKeepTheWholeGemmInOneTile) {
  const auto spec = testing::ideal_array(128, 128, Dataflow::OutputStationary);
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 512, 768, 768}, arch::DType::Int8);
  EXPECT_EQ(map.mapping.tile.k, 768u);  // splitting K would add a pipeline fill per chunk
  EXPECT_EQ(map.cost.compute_cycles, 24528u);
  EXPECT_GT(map.considered, 10u);
}

TEST(Mapper, ReturnsOnlyMappingsThatFit) {
  std::mt19937_64 rng(5);
  const auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 100; ++trial) {
    auto spec = testing::finite_dram(testing::ideal_array(8, 8, static_cast<Dataflow>(pick(0, 2))), 16.0, 10);
    spec.arrays_per_core = static_cast<uint32_t>(pick(1, 2));
    for (auto& buffer : spec.buffers) buffer.capacity_bytes = pick(256, 1 << 16);
    const workloads::Gemm gemm{"g", pick(1, 500), pick(1, 500), pick(1, 500)};
    const mapper::MapResult map = mapper::map_gemm(spec, gemm, arch::DType::Fp32);
    EXPECT_TRUE(mapper::fits_buffers(spec, map.mapping)) << map.mapping.describe();
  }
}

TEST(Mapper, PrefersTheLoopOrderThatMovesFewerBytes) {
  // DRAM-bound: a small buffer forces tiling; the chosen order must move no more bytes than
  // any other order for the same tile.
  auto spec = testing::finite_dram(testing::ideal_array(16, 16, Dataflow::WeightStationary, true), 4.0, 0);
  for (auto& buffer : spec.buffers) buffer.capacity_bytes = 16 * 1024;
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 512, 512, 512}, arch::DType::Int8);
  const auto bytes = [](const mapper::MappingCost& c) { return c.activity.dram_read_bytes + c.activity.dram_write_bytes; };
  mapper::GemmMapping other = map.mapping;
  for (const mapper::LoopOrder& order : {mapper::LoopOrder{Dim::M, Dim::N, Dim::K}, mapper::LoopOrder{Dim::M, Dim::K, Dim::N},
                                         mapper::LoopOrder{Dim::N, Dim::K, Dim::M}, mapper::LoopOrder{Dim::K, Dim::N, Dim::M}}) {
    other.order = order;
    EXPECT_LE(bytes(map.cost), bytes(mapper::analytic_cost(spec, {512, 512, 512}, other)));
  }
}

TEST(Mapper, SplitsSkinnyGemmsAlongTheLongDimension) {
  // Decode-like M = 1 on eight arrays: only an N split keeps them all busy.
  auto spec = testing::ideal_array(16, 16, Dataflow::WeightStationary);
  spec.cores = 8;
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 1, 4096, 1024}, arch::DType::Int8);
  EXPECT_EQ(map.mapping.split, Dim::N);
  EXPECT_EQ(map.mapping.parts, 8u);
}

TEST(Mapper, NoFittingTileIsAClearError) {
  auto spec = testing::ideal_array(64, 64, Dataflow::OutputStationary);
  spec.buffers[0].capacity_bytes = 8;  // not even one row of A
  try {
    mapper::map_gemm(spec, {"tiny_buffers", 64, 64, 64}, arch::DType::Int8);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("fits the buffers"), std::string::npos) << error.what();
  }
}

TEST(Mapper, UnsupportedFormatIsAClearError) {
  auto spec = testing::ideal_array(4, 4, Dataflow::OutputStationary);
  spec.dtypes.resize(1);  // int8 only
  EXPECT_THROW(mapper::map_gemm(spec, {"g", 4, 4, 4}, arch::DType::Bf16), std::runtime_error);
}

}  // namespace
}  // namespace tessel
