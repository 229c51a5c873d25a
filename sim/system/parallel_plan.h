// How a model is spread over a system's devices: tensor parallelism inside each layer,
// pipeline stages of consecutive layers, data-parallel replicas, experts of a
// mixture-of-experts layer spread over replicas, and micro-batches through the pipeline.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "arch/link/collective_cost.h"

namespace tessel::sim {

struct ParallelPlan {
  uint64_t tensor = 1;    // --tp: devices sharing every layer (Megatron)
  uint64_t pipeline = 1;  // --pp: stages
  uint64_t data = 1;      // --dp: replicas, each serving batch / dp sequences
  uint64_t expert = 1;    // --ep: replicas whose devices share a mixture-of-experts layer's experts
  // --microbatches: groups of a replica's sequences that flow through the stages one after
  // another; 0: one a stage (fewer when the replica serves fewer sequences).
  uint64_t microbatches = 0;
  std::vector<uint64_t> stage_layers;  // --stage-layers: layers of each stage; empty: balanced
  std::optional<arch::CollectiveAlgorithm> collective;  // --collective: pinned; none: the fastest

  uint64_t devices() const { return tensor * pipeline * data; }
};

}  // namespace tessel::sim
