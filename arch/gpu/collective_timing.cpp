#include "arch/gpu/collective_timing.h"

#include <stdexcept>

namespace tessel::arch::gpu {

namespace {

// `steps` ring steps moving `bytes_each_way` through each GPU's links.
double ring_seconds(const GpuSpec& spec, uint32_t gpus, double steps, double bytes_each_way) {
  if (gpus == 0) throw std::invalid_argument("a collective needs at least one GPU");
  if (gpus == 1) return 0.0;
  if (!spec.nvlink) throw std::invalid_argument(spec.name + " has no nvlink section: it runs no collectives");
  const NvlinkSpec& link = *spec.nvlink;
  return link.collective_latency_s + steps * link.step_latency_s +
         bytes_each_way / (link.bytes_per_second * link.achievable_fraction);
}

}  // namespace

double all_reduce_link_bytes(uint32_t gpus, double bytes) {
  return gpus > 1 ? 2.0 * (gpus - 1) / gpus * bytes : 0.0;
}

double all_gather_link_bytes(uint32_t gpus, double shard_bytes) { return gpus > 1 ? (gpus - 1.0) * shard_bytes : 0.0; }

double all_reduce_seconds(const GpuSpec& spec, uint32_t gpus, double bytes) {
  return ring_seconds(spec, gpus, 2.0 * (gpus > 0 ? gpus - 1 : 0), all_reduce_link_bytes(gpus, bytes));
}

double all_gather_seconds(const GpuSpec& spec, uint32_t gpus, double shard_bytes) {
  return ring_seconds(spec, gpus, gpus > 0 ? gpus - 1.0 : 0.0, all_gather_link_bytes(gpus, shard_bytes));
}

}  // namespace tessel::arch::gpu
