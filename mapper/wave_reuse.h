// Main-memory bytes of a GEMM's A and B when its blocks of C run in waves over parallel
// workers (a GPU's SMs, a CPU's cores) that share one last-level cache: the GPU and CPU
// mappers both cost their plans' traffic with it.
#pragma once

#include <cstdint>

namespace tessel::mapper {

struct WaveReuse {
  uint64_t m, n, k;      // the GEMM
  double a_bytes;        // per element of A
  double b_bytes;        // per element of B (packed weights: their scales' share included)
  uint64_t block_m;      // a block of C
  uint64_t block_n;
  uint64_t workers;      // blocks running at once
  double cache_bytes;    // the shared cache
};

// When A and B both fit the cache each byte crosses main memory once. Otherwise each wave of
// blocks (raster order along N) reads the rows of A and the columns of B its blocks touch (a
// block's padding past M or N reads nothing), and nothing survives from one wave to the next;
// the last wave holds only the blocks left.
double wave_input_bytes(const WaveReuse& w);

}  // namespace tessel::mapper
