// The PE-level systolic array: a register-level SystemC model that moves int8 operands
// through a grid of PEs one hop a clock cycle and accumulates in int32. It exists to prove
// that arch/systolic/fold_timing's cycle formula and the datapath's numbers are exact: the
// cycle count is measured by clocking the array until every PE reports its MACs done.
//
// Microarchitecture (C[M×N] = A[M×K]·B[K×N] on a rows × cols array). Every operand carries
// the index of its fold; a PE counts its MACs per fold from those tags.
//   os: M on rows, N on cols, K in time. A[i][k] enters row i at fold cycle k+i and moves
//       right, B[k][j] enters column j at cycle k+j and moves down; PE(i,j) accumulates C.
//       A PE moves its sum into its result register, which belongs to a chain that shifts
//       down a row a cycle to a collector under the array; a column starts shifting the
//       cycle after its bottom PE took its sum, and each PE stops taking from above when it
//       takes its next sum. Single-buffered, every PE takes its sum when the last PE of the
//       array finishes the fold; double-buffered, each takes it as soon as it finishes.
//   ws: K on rows, N on cols, M in time. is: K on rows, M on cols, N in time.
//       Load: the stationary operand (ws: B, is: Aᵀ) shifts down a chain of load registers,
//       the value for the bottom row first, each value addressed to its row: a PE takes a
//       passing value only if it is bound for its row or one below, so a row's register
//       changes only once the load wave reaches it. Column j loads at fold cycles j..j+rows-1.
//       Stream: the moving operand (ws: A[m][k], is: B[k][n]) enters row k at cycle
//       rows+t+k and moves right; partial sums move down; the bottom row's sums are added into
//       C (ws: C[t][col], is: C[col][t]) by an accumulator below the array, which also sums
//       the folds over K. Single-buffered, a PE multiplies by its load register; double-
//       buffered, by a copy of it taken when the fold's first operand arrives, so the next
//       fold's tile can shift in while this one streams.
// A fold is one spatial tile; partial tiles are padded with zeros so every PE works. Folds
// run in order, column folds inner. Single-buffered, a fold starts when every PE has finished
// the previous one. Double-buffered, folds start max(T, rows) cycles apart: a fold's operands
// take T cycles to enter, and each column's chain needs `rows` cycles to turn over (ws/is:
// the next tile shifts in behind the current fold's first operands; os: a fold's results
// leave a column one a cycle). A shorter interval would corrupt C, which the tests would see.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <systemc>

#include "arch/spec.h"

namespace tessel::arch {

// Beyond this the per-PE processes and signals make a run too slow to be useful.
constexpr uint32_t kPeArrayMaxSide = 32;

// C[m×n] = A[m×k]·B[k×n] with row-major int8 operands.
struct Int8Gemm {
  uint32_t m;
  uint32_t n;
  uint32_t k;
  std::vector<int8_t> a;
  std::vector<int8_t> b;
};

namespace pe_array_detail {
class Grid;
}

// The array with its clock, edge feeders and output collectors. Build it in a fresh kernel
// and run sc_start(): it calls sc_stop() when the GEMM is done and C has left the array,
// or when `cycle_limit` cycles have been counted first. Throws std::invalid_argument for an
// array over 32×32, or an empty or inconsistent GEMM.
class PeArray : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PeArray);
  PeArray(sc_core::sc_module_name name, const ArraySpec& array, Int8Gemm gemm,
          std::optional<uint64_t> cycle_limit = std::nullopt);
  ~PeArray() override;

  // Whether every fold finished before the cycle limit.
  bool finished() const { return finished_; }
  // Clock cycles from the first fold's first cycle to the last fold's last MAC.
  uint64_t cycles() const { return cycles_; }
  // C, m × n row-major; complete only when finished().
  const std::vector<int32_t>& c() const;

 private:
  enum class Phase { Idle, Computing, Draining };

  void on_falling_edge();
  bool next_fold_due() const;
  bool limit_reached() const { return cycle_limit_ && cycles_ >= *cycle_limit_; }

  sc_core::sc_clock clock_;
  std::unique_ptr<pe_array_detail::Grid> grid_;
  std::optional<uint64_t> cycle_limit_;
  std::optional<uint64_t> fold_interval_;  // double-buffered: cycles between fold starts
  Phase phase_ = Phase::Idle;
  uint64_t cycle_ = 0;   // clock cycles since the first fold started, draining included
  uint64_t cycles_ = 0;  // the same, up to the last fold's last MAC
  bool finished_ = false;
};

}  // namespace tessel::arch
