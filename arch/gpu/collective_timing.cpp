#include "arch/gpu/collective_timing.h"

#include <stdexcept>

namespace tessel::arch::gpu {

double all_reduce_seconds(const GpuSpec& spec, uint32_t gpus, double bytes) {
  if (gpus == 0) throw std::invalid_argument("an all-reduce needs at least one GPU");
  if (gpus == 1) return 0.0;
  if (!spec.nvlink) throw std::invalid_argument(spec.name + " has no nvlink section: it runs no collectives");
  const NvlinkSpec& link = *spec.nvlink;
  const double steps = 2.0 * (gpus - 1);
  const double bytes_each_way = steps / gpus * bytes;
  return link.collective_latency_s + steps * link.step_latency_s +
         bytes_each_way / (link.bytes_per_second * link.achievable_fraction);
}

}  // namespace tessel::arch::gpu
