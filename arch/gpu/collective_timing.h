// Collectives between the GPUs of one node over NVLink, as a ring: an all-reduce of S bytes
// on n GPUs is a reduce-scatter and an all-gather, 2(n-1) steps in which every GPU sends and
// receives S/n bytes, so each GPU's links carry 2(n-1)/n x S each way.
#pragma once

#include <cstdint>

#include "arch/gpu/gpu_spec.h"

namespace tessel::arch::gpu {

// Seconds for an all-reduce of `bytes` (each GPU's buffer) over `gpus` GPUs: the fixed cost,
// a step latency per ring step, and the bytes at the links' achievable bandwidth. Zero on one
// GPU. Throws std::invalid_argument when the GPU has no NVLink or `gpus` is zero.
double all_reduce_seconds(const GpuSpec& spec, uint32_t gpus, double bytes);

}  // namespace tessel::arch::gpu
