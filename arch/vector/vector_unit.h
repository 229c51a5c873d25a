// The tile-level model of a core's vector unit (fidelity level 3): runs one non-GEMM task at
// a time for the cycles arch::vector_cost computes and counts what it did.
#pragma once

#include <cstdint>
#include <systemc>

#include "arch/spec.h"
#include "arch/vector/vector_cost.h"

namespace tessel::arch {

class VectorUnit : public sc_core::sc_module {
 public:
  VectorUnit(const sc_core::sc_module_name& name, const VectorUnitSpec& spec);

  // Blocks the calling SC_THREAD while the task runs; returns what it cost.
  VectorCost run(const VectorTask& task);

  uint64_t busy_cycles() const { return busy_cycles_; }
  uint64_t tasks() const { return tasks_; }
  uint64_t elements() const { return elements_; }
  double alu_ops() const { return alu_ops_; }
  double special_ops() const { return special_ops_; }
  uint64_t buffer_read_bytes() const { return buffer_read_bytes_; }
  uint64_t buffer_write_bytes() const { return buffer_write_bytes_; }
  double energy_pj() const { return energy_pj_; }

 private:
  const VectorUnitSpec& spec_;
  uint64_t busy_cycles_ = 0;
  uint64_t tasks_ = 0;
  uint64_t elements_ = 0;
  double alu_ops_ = 0.0;
  double special_ops_ = 0.0;
  uint64_t buffer_read_bytes_ = 0;
  uint64_t buffer_write_bytes_ = 0;
  double energy_pj_ = 0.0;
};

}  // namespace tessel::arch
