// The mapping of one GEMM onto a CPU, blocked for its caches as oneDNN and BLIS block theirs:
// the cores take blocks of C (block m x n) in waves, each walking K in steps of block k whose
// panels of A and B sit in the core's L2 while its engine multiplies them; the panels come
// from the shared L3, and what the L3 cannot keep from DDR. The engine (AMX tiles, AVX-512)
// and the block are searched; map_cpu_gemm keeps the fastest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/cpu/cpu_spec.h"
#include "workloads/quant_recipe.h"

namespace tessel::mapper {

struct CpuGemm {
  uint64_t m;
  uint64_t n;
  uint64_t k;
  arch::DType dtype;  // A, and B unless stored; accumulation in fp32 or int32
  // B as a quantized weight is stored; nothing: in dtype. A narrower format is unpacked and
  // scaled into dtype on the core's vector units, a panel at a time, before the engine takes
  // it (oneDNN's and IPEX's weight-only int4/int8 matmuls).
  std::optional<workloads::StoredFormat> b_stored = std::nullopt;
  // B pruned: its kept values and their indices or bitmask are expanded into a dense panel on
  // the vector units (no CPU engine skips zeros).
  std::optional<workloads::WeightSparsity> b_sparsity = std::nullopt;

  double a_bytes() const { return arch::bytes_of(dtype); }
  double b_bytes() const;
};

// Vector-lane operations per element of B turning it into the engine's format: 0 when stored in it.
double dequant_lane_ops_per_element(const CpuGemm& gemm);

struct CpuBlock {
  uint32_t m;
  uint32_t n;
  uint32_t k;  // the K step whose panels one L2 holds
};

struct CpuGemmPlan {
  size_t engine = 0;  // index into spec.engines
  std::string engine_name;
  CpuBlock block{};
  uint64_t blocks = 0;  // of C
  uint32_t active_cores = 0;
  uint64_t waves = 0;    // blocks on the busiest core
  uint64_t k_steps = 0;  // of one block
  double step_cycles = 0;
  // Which sets it: "the <engine> engine", "the core's share of L3", "the core's share of DDR"
  // or "dequantizing B".
  std::string step_bound;
  double block_cycles = 0;  // one block: its steps and its C written
  double dram_bytes = 0;    // A and B after L3 reuse, and C
  double l3_bytes = 0;      // panels of A and B loaded into the cores' L2, every block
  double core_cycles = 0;   // the busiest core
  double dram_cycles = 0;   // DDR moving dram_bytes at its achievable rate
  double start_cycles = 0;  // the parallel region's fork and join
  double cycles = 0;        // start + max(core_cycles, dram_cycles + latency)
  double padded_macs = 0;   // the engine's work with each block padded to its instructions' tiles

  // e.g. "amx blocks 64x256x512, 12 wave(s)".
  std::string describe() const;
};

// The cost of one engine and block; nothing when the engine lacks the format or the block's
// panels do not fit a core's L2 (double-buffered, beside C's fp32 block).
std::optional<CpuGemmPlan> cost_cpu_gemm(const arch::CpuSpec& spec, const CpuGemm& gemm, size_t engine,
                                         const CpuBlock& block);

// Every engine and block that fits, fastest first. Throws std::invalid_argument for a shape
// with a zero size or a format no engine takes.
std::vector<CpuGemmPlan> rank_cpu_gemm(const arch::CpuSpec& spec, const CpuGemm& gemm);

// The fastest of them.
CpuGemmPlan map_cpu_gemm(const arch::CpuSpec& spec, const CpuGemm& gemm);

}  // namespace tessel::mapper
