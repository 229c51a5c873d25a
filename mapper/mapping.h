// The mapping of one GEMM onto a systolic accelerator: how it is split across the arrays,
// the SRAM tile each array works on, and the order in which tiles are visited.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "arch/spec.h"
#include "arch/systolic/tile_work.h"
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
  Extents tile;     // the tile the array computes at a time (edge tiles are smaller)
  LoopOrder order;  // loops over tiles, outer to inner
  // Per operand (indexed by arch::Operand), how many of the innermost loops its buffer
  // block spans: 0 keeps one tile; 3 keeps the whole slice. A larger block is fetched
  // fewer times but needs more of the buffer. For the output, spanning K keeps partial
  // sums on chip.
  std::array<uint8_t, 3> resident_loops;
  // Every buffer holds two tiles of its operands, so the next tile loads while this one
  // computes. Without it, loads, compute and stores of consecutive tiles serialise.
  bool double_buffered;
  // Bytes a weight element takes in DRAM and in its buffer when stored packed (a quantized
  // weight with its scales' share), unpacked into `dtype` at the array's edge as it enters the
  // PEs; 0: stored in dtype. A property of the GEMM, not a choice: the mapper copies it from
  // its options.
  double weight_bytes = 0;
  // The share of a pruned weight's elements kept (1: dense): the PEs skip or gate the rest as
  // the array's weight_zeros says. Copied from the mapper's options, as weight_bytes.
  double weight_density = 1;
  // Bytes an input (A) element takes as the mapping's K counts it: where the PEs take a weight's
  // N:M pattern natively, K is the kept values' and each of its elements stands for M/N
  // activations, which the PE's multiplexer picks from; 0: one element in dtype. Copied from the
  // mapper's options, as weight_bytes.
  double input_bytes = 0;

  // One line, e.g. "ws int8 split Nx8 tile 256x512x1024 order M,N,K resident 0,1,2 double-buffered".
  std::string describe() const;
};

// Bytes of `elements` of the weight (packed, weight_bytes) or of the input (input_bytes) as the
// mapping's buffers and DRAM hold them, rounded up to a byte.
uint64_t weight_block_bytes(const GemmMapping& mapping, uint64_t elements);
uint64_t input_block_bytes(const GemmMapping& mapping, uint64_t elements);
// A tile's work with its weight reads from the buffer at the packed size, its input reads at
// input_bytes, and its compute cycles the kept share when the array skips a pruned weight's zeros.
arch::TileWork as_stored(arch::TileWork work, const GemmMapping& mapping, const arch::ArraySpec& array);
// The MACs of `macs` the PEs perform and spend energy on: the kept share when they skip or gate
// zeros.
uint64_t performed_macs(uint64_t macs, const GemmMapping& mapping, const arch::ArraySpec& array);

// The slice of the GEMM that array `part` computes.
Extents part_extents(const Extents& gemm, const GemmMapping& mapping, uint32_t part);

// With N cut into equal slices, the arrays of a core walk identical sequences of input (A)
// blocks: the core's first array fetches them into the shared buffer and the others read
// them there, as a TPU core feeds one activation tile to all its MXUs.
bool shares_input(const Extents& gemm, const GemmMapping& mapping, uint32_t arrays_per_core);
// Whether array `part` fetches its input blocks itself (false: its core's first array does).
bool fetches_input(const Extents& gemm, const GemmMapping& mapping, uint32_t arrays_per_core, uint32_t part);

}  // namespace tessel::mapper
