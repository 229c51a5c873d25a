// Collectives between the GPUs of one node over NVLink, as a ring: an all-reduce of S bytes
// on n GPUs is a reduce-scatter and an all-gather, 2(n-1) steps in which every GPU sends and
// receives S/n bytes, so each GPU's links carry 2(n-1)/n x S each way; an all-gather alone is
// n-1 steps of one shard.
#pragma once

#include <cstdint>

#include "arch/gpu/gpu_spec.h"

namespace tessel::arch::gpu {

// Bytes each GPU's links carry each way in an all-reduce of `bytes` (each GPU's buffer) and
// in an all-gather of `shard_bytes` a GPU.
double all_reduce_link_bytes(uint32_t gpus, double bytes);
double all_gather_link_bytes(uint32_t gpus, double shard_bytes);

// Seconds for an all-reduce of `bytes` (each GPU's buffer) over `gpus` GPUs: the fixed cost,
// a step latency per ring step, and the bytes at the links' achievable bandwidth. Zero on one
// GPU. Throws std::invalid_argument when the GPU has no NVLink or `gpus` is zero.
double all_reduce_seconds(const GpuSpec& spec, uint32_t gpus, double bytes);

// Seconds for an all-gather in which each GPU adds `shard_bytes`: the ring's n-1 steps, each
// passing one shard on. Zero on one GPU; throws as all_reduce_seconds.
double all_gather_seconds(const GpuSpec& spec, uint32_t gpus, double shard_bytes);

}  // namespace tessel::arch::gpu
