// Sizes near the top of uint64: arithmetic that wrapped to 0 and crashed the mapper.
#include <gtest/gtest.h>

#include <cstdint>

#include "arch/types.h"
#include "mapper/systolic_mapper.h"
#include "test_specs.h"

namespace tessel {
namespace {

TEST(Overflow, CeilDivNearTheTopOfUint64) {
  EXPECT_EQ(arch::ceil_div(UINT64_MAX, 128), UINT64_MAX / 128 + 1);
  EXPECT_EQ(arch::ceil_div(UINT64_MAX, 1), UINT64_MAX);
  EXPECT_EQ(arch::ceil_div(256, 128), 2u);
}

TEST(Overflow, AsManyRunnersUpAsSizeMaxDoNotWrapTheMapper) {
  mapper::MapperOptions options{arch::DType::Int8};
  options.alternatives = SIZE_MAX;
  const mapper::MapResult map =
      mapper::map_gemm(testing::ideal_array(8, 8, arch::Dataflow::OutputStationary), {"g", 16, 16, 16}, options);
  EXPECT_EQ(map.alternatives.size() + 1, map.considered);
}

}  // namespace
}  // namespace tessel
