// The ring all-reduce over NVLink: what each GPU's links carry, the latencies, and the
// refusals.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "arch/load_arch.h"
#include "arch/gpu/collective_timing.h"
#include "test_files.h"

namespace tessel {
namespace {

arch::GpuSpec a100() { return arch::load_gpu_spec(std::string(TESSEL_SOURCE_DIR) + "/configs/arch/a100_sxm.yaml"); }

TEST(CollectiveTiming, OneGpuReducesForFree) { EXPECT_EQ(arch::gpu::all_reduce_seconds(a100(), 1, 1e9), 0.0); }

// On 2 GPUs each link carries the whole buffer once (half in the reduce-scatter, half in the
// all-gather) over two ring steps.
TEST(CollectiveTiming, TwoGpusMoveTheBufferOnceEachWay) {
  const arch::GpuSpec spec = a100();
  const arch::NvlinkSpec& link = *spec.nvlink;
  const double bytes = 256e6;
  const double expected = link.collective_latency_s + 2 * link.step_latency_s +
                          bytes / (link.bytes_per_second * link.achievable_fraction);
  EXPECT_DOUBLE_EQ(arch::gpu::all_reduce_seconds(spec, 2, bytes), expected);
}

// The bytes each way grow as 2(n-1)/n: 8 GPUs carry 1.75x what 2 do, 4 GPUs 1.5x.
TEST(CollectiveTiming, BandwidthTermFollowsTheRing) {
  const arch::GpuSpec spec = a100();
  auto bandwidth_part = [&](uint32_t gpus) {
    const arch::NvlinkSpec& link = *spec.nvlink;
    return arch::gpu::all_reduce_seconds(spec, gpus, 1e9) - link.collective_latency_s -
           2.0 * (gpus - 1) * link.step_latency_s;
  };
  EXPECT_NEAR(bandwidth_part(8) / bandwidth_part(2), 1.75, 1e-12);
  EXPECT_NEAR(bandwidth_part(4) / bandwidth_part(2), 1.5, 1e-12);
}

TEST(CollectiveTiming, RefusesWithoutLinksOrGpus) {
  arch::GpuSpec spec = a100();
  EXPECT_THROW(arch::gpu::all_reduce_seconds(spec, 0, 1e6), std::invalid_argument);
  spec.nvlink.reset();
  EXPECT_THROW(arch::gpu::all_reduce_seconds(spec, 4, 1e6), std::invalid_argument);
  EXPECT_EQ(arch::gpu::all_reduce_seconds(spec, 1, 1e6), 0.0);
}

}  // namespace
}  // namespace tessel
