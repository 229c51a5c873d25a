// A device's training passes under data parallelism: its weight gradients summed over the
// replicas (reduced per layer as soon as the layer's backward pass has them, overlapped with
// what follows, a bucket a layer), ZeRO's sharding of optimizer states, gradients and
// parameters (Rajbhandari et al., 2020), and the optimizer step.
#pragma once

#include <cstdint>
#include <vector>

#include "workloads/op_graph.h"
#include "workloads/training.h"

namespace tessel::workloads {

struct DataParallelOptions {
  uint64_t replicas = 1;
  // ZeRO stage: 0 all-reduces the gradients and every replica updates every parameter; 1 shards
  // the optimizer states (master weights and moments: gradients reduce-scattered, updated
  // parameters all-gathered); 2 the gradients too (reduced every micro-batch); 3 the parameters
  // too (gathered before each layer's forward and backward pass, one layer ahead).
  uint64_t zero = 0;
  // fp16 training's loss scaling: the gradients are unscaled and checked before the update.
  bool loss_scaling = false;
};

// One device's passes for one micro-batch: the forward pass, the backward pass of a micro-batch
// that only accumulates its gradients, and that of the one whose gradients are reduced (the
// last; every one under ZeRO 2 and 3, which keep only their shard of the gradients).
struct DataParallelPasses {
  OpGraph forward;
  OpGraph backward;
  OpGraph backward_last;
};

// Throws InputError for a ZeRO stage above 3.
DataParallelPasses data_parallel_passes(const TrainingGraphs& graphs, const DataParallelOptions& options);

// The optimizer step of a device holding `chunks` (the model chunks of its pipeline stage):
// the reductions waited for, the gradients unscaled (fp16) and their norm taken for clipping,
// AdamW on the device's share of the trained parameters, under ZeRO 1 and 2 the updated
// parameters all-gathered, and under fp8 the fp8 copies of the weights cast.
OpGraph optimizer_step(const std::vector<const TrainingGraphs*>& chunks, const DataParallelOptions& options);

// What one device keeps in memory for the model's state under ZeRO, in bytes: the parameters in
// the compute format (and those of fp8 products in fp8 too, with their transposes), the fp32
// master weights and gradients, and AdamW's two fp32 moments.
struct ModelStateBytes {
  uint64_t weights = 0;
  uint64_t master_weights = 0;
  uint64_t gradients = 0;
  uint64_t optimizer_moments = 0;
  uint64_t teacher_weights = 0;  // distillation's frozen teacher, in the compute format, not sharded
  uint64_t total() const { return weights + master_weights + gradients + optimizer_moments + teacher_weights; }
};

ModelStateBytes model_state_bytes(uint64_t parameters, uint64_t trainable, uint64_t fp8_parameters,
                                  const DataParallelOptions& options, arch::DType compute);

}  // namespace tessel::workloads
