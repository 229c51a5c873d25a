#include "workloads/op_graph.h"

#include "workloads/gemm.h"

namespace tessel::workloads {

std::vector<std::vector<Op>> LayerBlock::layer_ops() const {
  if (layer_sizes.empty()) return {ops};
  std::vector<std::vector<Op>> layers;
  auto begin = ops.begin();
  for (const size_t size : layer_sizes) {
    layers.emplace_back(begin, begin + static_cast<std::ptrdiff_t>(size));
    begin += static_cast<std::ptrdiff_t>(size);
  }
  return layers;
}

uint64_t OpGraph::layer_count() const {
  uint64_t count = 0;
  for (const LayerBlock& block : layers) count += block.repeats * block.layers_per_repeat();
  return count;
}

uint64_t OpGraph::total_flops() const {
  uint64_t total = 0;
  for_each_op([&](const Op& op, uint64_t repeats) { total += op.flops() * repeats; });
  return total;
}

uint64_t OpGraph::total_macs() const {
  uint64_t total = 0;
  for_each_op([&](const Op& op, uint64_t repeats) { total += op.macs() * repeats; });
  return total;
}

ElementCounts OpGraph::total_elements() const {
  ElementCounts total;
  for_each_op([&](const Op& op, uint64_t repeats) {
    const ElementCounts counts = op.elements();
    total.read += counts.read * repeats;
    total.written += counts.written * repeats;
  });
  return total;
}

uint64_t OpGraph::total_parameters() const {
  uint64_t total = 0;
  for_each_op([&](const Op& op, uint64_t repeats) { total += op.parameters() * repeats; });
  return total;
}

uint64_t OpGraph::total_parameter_bytes(arch::DType compute) const {
  uint64_t total = 0;
  for_each_op([&](const Op& op, uint64_t repeats) { total += op.parameter_bytes(compute) * repeats; });
  return total;
}

OpGraph linear_graph(const Graph& graph) {
  OpGraph ops;
  ops.name = graph.name;
  for (const Gemm& gemm : graph.gemms) ops.prologue.emplace_back(gemm.name, OpKind::Linear, LinearShape{gemm.m, gemm.n, gemm.k});
  return ops;
}

}  // namespace tessel::workloads
