#include "arch/vector/vector_cost.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tessel::arch {

namespace {

void require_rate(double value, const char* name) {
  if (!std::isfinite(value) || value < 0.0) {
    throw std::invalid_argument(std::string("vector task: ") + name +
                                " must be a finite number >= 0, got " + std::to_string(value));
  }
}

// The scale keeps rounding noise in a quotient from adding a whole cycle (and takes none
// away below 10^12 cycles).
uint64_t whole_cycles(double cycles) {
  return static_cast<uint64_t>(std::ceil(cycles * (1.0 - 1e-12)));
}

}  // namespace

VectorCost vector_cost(const VectorUnitSpec& unit, const VectorTask& task) {
  require_rate(task.alu_ops_per_element, "alu_ops_per_element");
  require_rate(task.special_ops_per_element, "special_ops_per_element");
  require_rate(task.passes, "passes");
  if (task.element_bytes == 0) throw std::invalid_argument("vector task: element_bytes is 0");

  const double elements = static_cast<double>(task.elements);
  const double alu_ops = elements * task.alu_ops_per_element;
  const double special_ops = elements * task.special_ops_per_element;

  VectorCost cost{};
  cost.buffer_read_bytes =
      static_cast<uint64_t>(std::round(task.passes * elements * task.element_bytes));
  cost.buffer_write_bytes = task.bytes_written;

  const double alu = alu_ops / (unit.lanes * unit.ops_per_lane_per_cycle);
  const double special = special_ops / unit.special_ops_per_cycle;
  const double buffer = static_cast<double>(cost.buffer_read_bytes + cost.buffer_write_bytes) /
                        unit.buffer_bytes_per_cycle;
  cost.alu_cycles = whole_cycles(alu);
  cost.special_cycles = whole_cycles(special);
  cost.buffer_cycles = whole_cycles(buffer);

  cost.cycles = std::max({cost.alu_cycles, cost.special_cycles, cost.buffer_cycles});
  cost.bound = "alu";
  if (special > alu) cost.bound = "special";
  if (buffer > std::max(alu, special)) cost.bound = "buffer";
  cost.energy_pj = alu_ops * unit.op_energy_pj + special_ops * unit.special_op_energy_pj;
  return cost;
}

}  // namespace tessel::arch
