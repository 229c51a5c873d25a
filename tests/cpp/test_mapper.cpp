#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "mapper/systolic_mapper.h"
#include "test_specs.h"

namespace tessel {
namespace {

using arch::Dataflow;
using mapper::Dim;

TEST(Mapper, LargeBuffersKeepTheWholeGemmInOneTile) {
  const auto spec = testing::ideal_array(128, 128, Dataflow::OutputStationary);
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 512, 768, 768}, mapper::MapperOptions{arch::DType::Int8});
  EXPECT_EQ(map.mapping.tile.k, 768u);  // a K split in stream runs costs the same: the fewest tiles win
  EXPECT_EQ(map.cost.compute_cycles, 24528u);
  EXPECT_GT(map.considered, 10u);
}

TEST(Mapper, ReturnsOnlyMappingsThatFit) {
  std::mt19937_64 rng(5);
  const auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 40; ++trial) {
    auto spec = testing::finite_dram(testing::ideal_array(8, 8, static_cast<Dataflow>(pick(0, 2))), 16.0, 10);
    spec.arrays_per_core = static_cast<uint32_t>(pick(1, 2));
    for (auto& buffer : spec.buffers) buffer.capacity_bytes = pick(256, 1 << 16);
    const workloads::Gemm gemm{"g", pick(1, 500), pick(1, 500), pick(1, 500)};
    const mapper::MapResult map = mapper::map_gemm(spec, gemm, mapper::MapperOptions{arch::DType::Fp32});
    EXPECT_TRUE(mapper::fits_buffers(spec, {gemm.m, gemm.n, gemm.k}, map.mapping)) << map.mapping.describe();
  }
}

TEST(Mapper, PrefersTheLoopOrderThatMovesFewerBytes) {
  // DRAM-bound: a small buffer forces tiling. No other loop order or residency of the
  // chosen tile that fits may be faster, or as fast with fewer DRAM bytes.
  auto spec = testing::finite_dram(testing::ideal_array(16, 16, Dataflow::WeightStationary, true), 4.0, 0);
  for (auto& buffer : spec.buffers) buffer.capacity_bytes = 16 * 1024;
  const mapper::Extents gemm{512, 512, 512};
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 512, 512, 512}, mapper::MapperOptions{arch::DType::Int8});
  const auto key = [](const mapper::MappingCost& c) { return std::make_pair(c.estimated_cycles, c.dram_bytes()); };
  mapper::GemmMapping other = map.mapping;
  int compared = 0;
  for (const mapper::LoopOrder& order : {mapper::LoopOrder{Dim::M, Dim::N, Dim::K}, mapper::LoopOrder{Dim::M, Dim::K, Dim::N},
                                         mapper::LoopOrder{Dim::N, Dim::K, Dim::M}, mapper::LoopOrder{Dim::K, Dim::N, Dim::M}}) {
    other.order = order;
    for (int r = 0; r < 64; ++r) {
      other.resident_loops = {static_cast<uint8_t>(r % 4), static_cast<uint8_t>(r / 4 % 4), static_cast<uint8_t>(r / 16)};
      if (!mapper::fits_buffers(spec, gemm, other)) continue;
      ++compared;
      EXPECT_LE(key(map.cost), key(mapper::analytic_cost(spec, gemm, other))) << other.describe();
    }
  }
  EXPECT_GT(compared, 4);
}

TEST(Mapper, SplitsSkinnyGemmsAlongTheLongDimension) {
  // Decode-like M = 1 on eight arrays: only an N split keeps them all busy.
  auto spec = testing::ideal_array(16, 16, Dataflow::WeightStationary);
  spec.cores = 8;
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 1, 4096, 1024}, mapper::MapperOptions{arch::DType::Int8});
  EXPECT_EQ(map.mapping.split, Dim::N);
  EXPECT_EQ(map.mapping.parts, 8u);
}

TEST(Mapper, NoFittingTileIsAClearError) {
  auto spec = testing::ideal_array(64, 64, Dataflow::OutputStationary);
  spec.buffers[0].capacity_bytes = 8;  // not even one row of A
  try {
    mapper::map_gemm(spec, {"tiny_buffers", 64, 64, 64}, mapper::MapperOptions{arch::DType::Int8});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("fits the buffers"), std::string::npos) << error.what();
  }
}

TEST(Mapper, UnsupportedFormatIsAClearError) {
  auto spec = testing::ideal_array(4, 4, Dataflow::OutputStationary);
  spec.dtypes.resize(1);  // int8 only
  EXPECT_THROW(mapper::map_gemm(spec, {"g", 4, 4, 4}, mapper::MapperOptions{arch::DType::Bf16}), std::runtime_error);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

using arch::Dataflow;
using mapper::Dim;

// Every mapping of the mapspace, costed without pruning: the reference the search must meet.
double brute_force_best(const arch::SystolicSpec& spec, const mapper::Extents& gemm, const mapper::MapperOptions& options) {
  const mapper::LoopOrder orders[] = {{Dim::M, Dim::N, Dim::K}, {Dim::M, Dim::K, Dim::N}, {Dim::N, Dim::M, Dim::K},
                                      {Dim::N, Dim::K, Dim::M}, {Dim::K, Dim::M, Dim::N}, {Dim::K, Dim::N, Dim::M}};
  double best = std::numeric_limits<double>::infinity();
  const mapper::Extents units = mapper::array_units(spec.array, spec.array.dataflow);
  for (uint64_t tm : mapper::tile_candidates(gemm.m, units.m)) {
    for (uint64_t tn : mapper::tile_candidates(gemm.n, units.n)) {
      for (uint64_t tk : mapper::tile_candidates(gemm.k, units.k)) {
        for (const mapper::LoopOrder& order : orders) {
          for (int r = 0; r < 64; ++r) {
            for (bool db : {true, false}) {
              const mapper::GemmMapping mapping{spec.array.dataflow, options.dtype, Dim::M, 1, gemm.m, {tm, tn, tk}, order,
                                                {static_cast<uint8_t>(r % 4), static_cast<uint8_t>(r / 4 % 4),
                                                 static_cast<uint8_t>(r / 16)},
                                                db};
              if (!mapper::fits_buffers(spec, gemm, mapping)) continue;
              best = std::min(best, mapper::objective_value(options.objective, mapper::analytic_cost(spec, gemm, mapping)));
            }
          }
        }
      }
    }
  }
  return best;
}

TEST(MapperSearch, PrunedSearchFindsTheExhaustiveOptimum) {
  std::mt19937_64 rng(17);
  const auto pick = [&](uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng); };
  for (int trial = 0; trial < 12; ++trial) {
    auto spec = testing::finite_dram(testing::ideal_array(4, 4, static_cast<Dataflow>(pick(0, 2)), pick(0, 1) == 1),
                                     static_cast<double>(pick(1, 16)), pick(0, 50));
    for (auto& buffer : spec.buffers) buffer.capacity_bytes = pick(128, 2048);
    const mapper::Extents gemm{pick(4, 40), pick(4, 40), pick(4, 40)};
    for (mapper::Objective objective : {mapper::Objective::Latency, mapper::Objective::Energy, mapper::Objective::EnergyDelay}) {
      mapper::MapperOptions options{arch::DType::Int8};
      options.objective = objective;
      const double reference = brute_force_best(spec, gemm, options);
      if (!std::isfinite(reference)) continue;  // nothing fits: the error path has its own test
      const mapper::MapResult map = mapper::map_gemm(spec, {"g", gemm.m, gemm.n, gemm.k}, options);
      EXPECT_TRUE(map.exhaustive);
      EXPECT_DOUBLE_EQ(mapper::objective_value(objective, map.cost), reference)
          << mapper::to_string(objective) << " " << gemm.m << "x" << gemm.n << "x" << gemm.k;
    }
  }
}

TEST(MapperSearch, ObjectivesTradeTimeForEnergy) {
  auto spec = testing::finite_dram(testing::ideal_array(16, 16, Dataflow::WeightStationary, true), 8.0, 100);
  for (auto& buffer : spec.buffers) buffer.capacity_bytes = 64 * 1024;
  mapper::MapperOptions options{arch::DType::Int8};
  const mapper::MapResult fastest = mapper::map_gemm(spec, {"g", 300, 500, 700}, options);
  options.objective = mapper::Objective::Energy;
  const mapper::MapResult frugal = mapper::map_gemm(spec, {"g", 300, 500, 700}, options);
  EXPECT_LE(fastest.cost.estimated_cycles, frugal.cost.estimated_cycles);
  EXPECT_LE(frugal.cost.energy_pj, fastest.cost.energy_pj);
}

TEST(MapperSearch, SampledSearchIsDeterministicPerSeed) {
  auto spec = testing::finite_dram(testing::ideal_array(8, 8, Dataflow::OutputStationary, true), 8.0, 20);
  for (auto& buffer : spec.buffers) buffer.capacity_bytes = 16 * 1024;
  mapper::MapperOptions options{arch::DType::Int8};
  options.exhaustive_limit = 20'000;  // forces sampling
  const workloads::Gemm gemm{"g", 700, 900, 1100};
  const mapper::MapResult first = mapper::map_gemm(spec, gemm, options);
  const mapper::MapResult again = mapper::map_gemm(spec, gemm, options);
  EXPECT_FALSE(first.exhaustive);
  EXPECT_EQ(first.mapping.describe(), again.mapping.describe());
  EXPECT_EQ(first.cost.estimated_cycles, again.cost.estimated_cycles);
  EXPECT_TRUE(mapper::fits_buffers(spec, {gemm.m, gemm.n, gemm.k}, first.mapping));
  // Sampling can only do as well as the whole search.
  options.exhaustive_limit = mapper::MapperOptions{arch::DType::Int8}.exhaustive_limit;
  EXPECT_GE(first.cost.estimated_cycles, mapper::map_gemm(spec, gemm, options).cost.estimated_cycles);
}

TEST(MapperSearch, KeepsRankedAlternatives) {
  const auto spec = testing::finite_dram(testing::ideal_array(8, 8, Dataflow::OutputStationary), 8.0, 20);
  mapper::MapperOptions options{arch::DType::Int8};
  options.alternatives = 4;
  const mapper::MapResult map = mapper::map_gemm(spec, {"g", 100, 100, 100}, options);
  ASSERT_EQ(map.alternatives.size(), 4u);
  uint64_t previous = map.cost.estimated_cycles;
  for (const mapper::RankedMapping& other : map.alternatives) {
    EXPECT_GE(other.cost.estimated_cycles, previous);
    previous = other.cost.estimated_cycles;
  }
  EXPECT_GT(map.space, map.considered);  // pruning skipped part of the space
}

TEST(MapperSearch, CacheMapsIdenticalShapesOnce) {
  const auto spec = testing::ideal_array(8, 8, Dataflow::OutputStationary);
  mapper::MappingCache cache(spec);
  const mapper::MapperOptions options{arch::DType::Int8};
  const mapper::MapResult& first = cache.map({"a", 64, 64, 64}, options);
  const mapper::MapResult& second = cache.map({"b", 64, 64, 64}, options);
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(cache.hits(), 1u);
  cache.map({"c", 64, 64, 32}, options);
  EXPECT_EQ(cache.hits(), 1u);
}

TEST(MapperSearch, PinnedMappingsAreChecked) {
  auto spec = testing::ideal_array(8, 8, Dataflow::OutputStationary);
  spec.cores = 2;
  const mapper::Extents gemm{64, 64, 64};
  mapper::GemmMapping mapping{Dataflow::OutputStationary, arch::DType::Int8, Dim::N, 2, 32, {16, 16, 16},
                              {Dim::M, Dim::N, Dim::K}, {0, 0, 0}, true};
  EXPECT_NO_THROW(mapper::check_mapping(spec, gemm, mapping, "l"));
  mapping.parts = 3;
  EXPECT_THROW(mapper::check_mapping(spec, gemm, mapping, "l"), std::runtime_error);  // more parts than arrays
  mapping.parts = 2;
  mapping.part_size = 16;
  EXPECT_THROW(mapper::check_mapping(spec, gemm, mapping, "l"), std::runtime_error);  // slices miss N
  mapping.part_size = 32;
  spec.buffers[2].capacity_bytes = 1000;  // C block 16x16 int32, twice: 2048 bytes
  try {
    mapper::check_mapping(spec, gemm, mapping, "layer7");
    FAIL() << "expected an overflow";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("layer7"), std::string::npos) << message;
    EXPECT_NE(message.find("ofmap"), std::string::npos) << message;
    EXPECT_NE(message.find("2048"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace tessel
