// What one non-GEMM operator costs the vector unit: cycles, buffer traffic and energy. The
// unit is bound by whichever of its ALU lanes, special-function units or buffer path
// needs the most cycles; the three work in parallel.
#pragma once

#include <cstdint>

#include "arch/spec.h"

namespace tessel::arch {

// What a non-matmul operator asks of the vector unit, in hardware terms (the caller
// translates the operator's algorithmic counts into this).
struct VectorTask {
  uint64_t elements;               // elements of the operator's main tensor
  double alu_ops_per_element;      // adds, muls, compares, max ...
  double special_ops_per_element;  // exp, rsqrt, tanh, reciprocal
  double passes;                   // passes over the buffered data, each reading the tensor once
  uint64_t bytes_written;          // results written back to the buffers
  double element_bytes;
};

struct VectorCost {
  uint64_t cycles;  // the most of the three below
  uint64_t alu_cycles;
  uint64_t special_cycles;
  uint64_t buffer_cycles;
  uint64_t buffer_read_bytes;
  uint64_t buffer_write_bytes;
  double energy_pj;   // ALU and special ops only: the caller knows which buffer to charge
  const char* bound;  // "alu", "special" or "buffer"; a tie goes to the first of these
};

// Throws std::invalid_argument for negative or non-finite ops per element or passes, and for
// element_bytes 0.
VectorCost vector_cost(const VectorUnitSpec& unit, const VectorTask& task);

}  // namespace tessel::arch
