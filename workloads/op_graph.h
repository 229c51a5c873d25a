// The operators of one model phase, with each run of identical layers held once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/op.h"

namespace tessel::workloads {

// `repeats` identical layers, held once: a simulator simulates one and counts it `repeats`
// times.
struct LayerBlock {
  std::vector<Op> ops;
  uint64_t repeats = 1;
};

// prologue, then each block of layers in order, then epilogue. The layers of a dense
// transformer are one block of num_hidden_layers; a mixture-of-experts model whose first
// layers are dense has two. A plain list of ops (the linears of a GEMM workload) is a graph
// with only a prologue.
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
};

struct Graph;

// The GEMMs of `graph` as Linear ops, in order, in the prologue of a graph of that name.
OpGraph linear_graph(const Graph& graph);

}  // namespace tessel::workloads
