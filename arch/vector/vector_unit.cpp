#include "arch/vector/vector_unit.h"

#include "arch/memory/sim_time.h"

namespace tessel::arch {

VectorUnit::VectorUnit(const sc_core::sc_module_name& name, const VectorUnitSpec& spec)
    : sc_core::sc_module(name), spec_(spec) {}

VectorCost VectorUnit::run(const VectorTask& task) {
  const VectorCost cost = vector_cost(spec_, task);
  const double elements = static_cast<double>(task.elements);
  busy_cycles_ += cost.cycles;
  ++tasks_;
  elements_ += task.elements;
  alu_ops_ += elements * task.alu_ops_per_element;
  special_ops_ += elements * task.special_ops_per_element;
  buffer_read_bytes_ += cost.buffer_read_bytes;
  buffer_write_bytes_ += cost.buffer_write_bytes;
  energy_pj_ += cost.energy_pj;
  wait(cycles_to_time(static_cast<double>(cost.cycles)));
  return cost;
}

}  // namespace tessel::arch
