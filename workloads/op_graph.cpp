#include "workloads/op_graph.h"

namespace tessel::workloads {

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

}  // namespace tessel::workloads
