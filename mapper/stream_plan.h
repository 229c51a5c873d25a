// How an operator other than a Linear runs on a core: as a stream of chunks through the
// core's buffer. The op splits into independent units (rows of a row-wise op, column blocks
// of a batched matmul's instances, key blocks of attention's K/V groups, tokens of a copy); the cores take even shares
// of the units and each works through its share in chunks, loading the next chunk while it
// computes this one (ops run kernel by kernel, each over DRAM).
#pragma once

#include <cstdint>

#include "arch/spec.h"
#include "arch/vector/vector_cost.h"
#include "workloads/op.h"

namespace tessel::mapper {

// One chunk of units, in hardware terms.
struct StreamChunk {
  uint64_t load_bytes = 0;    // DRAM to buffer
  uint64_t store_bytes = 0;   // buffer to DRAM
  uint64_t macs = 0;
  uint64_t array_cycles = 0;  // the core's arrays together, in parallel with the vector unit
  arch::VectorTask vector{};  // elements 0: no vector work
};

struct StreamPlan {
  uint64_t units = 0;
  uint64_t units_per_chunk = 0;
  uint64_t load_bytes = 0;   // the whole op
  uint64_t store_bytes = 0;
  uint64_t macs = 0;
  // One unit's matrix work on one array (ports included), and the same unit cut across all
  // of a core's arrays; a chunk takes the better of waves of whole units and cut units.
  uint64_t unit_array_cycles = 0;
  uint64_t unit_split_array_cycles = 0;
  uint32_t arrays_per_core = 1;
  arch::VectorTask vector{};  // the whole op's vector work
  // The products run on the vector unit (two ALU ops a MAC, in `vector`), not the arrays.
  bool matrix_on_vector_unit = false;

  // Units [first, first + count): every total splits by cumulative rounding, so the chunks
  // of any partition add up to the op exactly.
  StreamChunk chunk(uint64_t first, uint64_t count) const;
  // Units [first, first + count) of core `core`.
  uint64_t core_first_unit(uint32_t core, uint32_t cores) const;
  uint64_t core_units(uint32_t core, uint32_t cores) const;
};

// The bytes of one chunk, double-buffered in the core's activation buffer: small enough that
// loads, compute and stores overlap over most of an op, large enough that the DRAM latency is
// paid only once per chunk of a microsecond or so.
uint64_t stream_chunk_bytes(const arch::SystolicSpec& spec);

// The ops that read the KV cache (attention, and the batched matmuls of unfused attention)
// load their cached K/V themselves: the kernel overlaps those reads with its compute, so the
// graph's KvCacheRead op is not a kernel of its own.
// Matrix products run on the arrays, or on the vector unit when that is faster for the op
// (decode attention: one query row per head).
// Throws std::invalid_argument for a Linear (the GEMM engine runs those), a KvCacheRead and a
// dtype the architecture does not support. With search_dataflows, matrix work takes the fastest of the
// three dataflows, else the array's own.
StreamPlan plan_stream(const arch::SystolicSpec& spec, const workloads::Op& op, arch::DType dtype,
                       bool search_dataflows);

}  // namespace tessel::mapper
