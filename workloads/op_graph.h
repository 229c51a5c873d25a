// The operators of one model phase, with the repeated layer held once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/op.h"

namespace tessel::workloads {

// prologue, then `layer` run layer_repeats times, then epilogue. A plain list of ops (the
// linears of a GEMM workload) is a graph with only a prologue. The layers of a transformer
// are identical in shape, so the graph holds ONE copy: a simulator simulates it once and
// counts it layer_repeats (= num_hidden_layers) times.
struct OpGraph {
  std::string name;
  std::vector<Op> prologue;
  std::vector<Op> layer;
  uint64_t layer_repeats = 1;
  std::vector<Op> epilogue;

  // Calls visit(op, repeats) for each op in execution order, the layer's once each with
  // repeats = layer_repeats, the others with repeats = 1.
  template <typename Visit>
  void for_each_op(Visit&& visit) const {
    for (const Op& op : prologue) visit(op, uint64_t{1});
    for (const Op& op : layer) visit(op, layer_repeats);
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
