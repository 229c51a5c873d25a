// The mapping of one GEMM onto a systolic accelerator: how it is split across the arrays,
// the SRAM tile each array works on, and the order in which tiles are visited.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "arch/types.h"

namespace tessel::mapper {

enum class Dim { M, N, K };
std::string_view to_string(Dim dim);

struct Extents {
  uint64_t m;
  uint64_t n;
  uint64_t k;

  uint64_t along(Dim dim) const { return dim == Dim::M ? m : dim == Dim::N ? n : k; }
};

// Outer to inner loops over SRAM tiles.
using LoopOrder = std::array<Dim, 3>;

struct GemmMapping {
  arch::Dataflow dataflow;
  arch::DType dtype;
  // Spatial split across arrays: the GEMM's `split` dimension is cut into `parts` slices of
  // `part_size` (the last may be smaller); array i computes slice i. K is never split, so
  // no array waits for another's partial sums.
  Dim split;
  uint32_t parts;
  uint64_t part_size;
  Extents tile;  // SRAM tile of one array (edge tiles are smaller)
  LoopOrder order;
  // Every buffer holds two tiles of its operands, so the next tile loads while this one
  // computes. Without it, loads, compute and stores of consecutive tiles serialise.
  bool double_buffered;

  std::string describe() const;  // one line, e.g. "ws int8 split N×8 tile 256×512×1024 order M,N,K db"
};

// The slice of the GEMM that array `part` computes.
Extents part_extents(const Extents& gemm, const GemmMapping& mapping, uint32_t part);

}  // namespace tessel::mapper
