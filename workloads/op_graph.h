// The operators of one model phase, with each run of identical layers held once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/op.h"

namespace tessel::workloads {

// `repeats` identical runs of layers, held once: a simulator simulates one and counts it
// `repeats` times. A run is one layer, or with layer_sizes several different ones (a layer of
// sliding-window attention and a global one, in turn), their ops one after another.
struct LayerBlock {
  std::vector<Op> ops;
  uint64_t repeats = 1;
  std::vector<size_t> layer_sizes;  // each layer's ops in a run of several; empty: a run is one layer

  uint64_t layers_per_repeat() const { return layer_sizes.empty() ? 1 : layer_sizes.size(); }
  // Each layer's ops of the run, in order.
  std::vector<std::vector<Op>> layer_ops() const;
};

// prologue, then each block of layers in order, then epilogue. The layers of a dense
// transformer are one block of num_hidden_layers; a mixture-of-experts model whose first
// layers are dense has two; alternating layers are a block of a run of both. A plain list of
// ops (the linears of a GEMM workload) is a graph with only a prologue.
struct OpGraph {
  std::string name;
  std::vector<Op> prologue;
  std::vector<LayerBlock> layers;
  std::vector<Op> epilogue;

  uint64_t layer_count() const;

  // Calls visit(op, repeats) for each op in execution order, a block's ops once each with
  // repeats = the block's, the others with repeats = 1.
  template <typename Visit>
  void for_each_op(Visit&& visit) const {
    for (const Op& op : prologue) visit(op, uint64_t{1});
    for (const LayerBlock& block : layers) {
      for (const Op& op : block.ops) visit(op, block.repeats);
    }
    for (const Op& op : epilogue) visit(op, uint64_t{1});
  }

  // Sums over the whole phase, each layer op counted layer_repeats times.
  uint64_t total_flops() const;
  uint64_t total_macs() const;
  ElementCounts total_elements() const;
  uint64_t total_parameters() const;
  // Their bytes as stored when the run computes in `compute` (Op::parameter_bytes).
  uint64_t total_parameter_bytes(arch::DType compute) const;
};

struct Graph;

// The GEMMs of `graph` as Linear ops, in order, in the prologue of a graph of that name.
OpGraph linear_graph(const Graph& graph);

}  // namespace tessel::workloads
