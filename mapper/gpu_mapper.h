// The mapping of one GEMM onto a GPU: a thread-block tile (with its shared-memory pipeline
// stages and warps), a split of K, and the analytic cost of running the tiles in waves over
// the SMs. map_gpu_gemm costs every candidate and keeps the fastest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/gpu/gpu_spec.h"
#include "workloads/quant_recipe.h"

namespace tessel::mapper {

struct GpuGemm {
  uint64_t m;
  uint64_t n;
  uint64_t k;
  arch::DType dtype;  // A and C, and B unless stored; accumulation in fp32
  // B as a quantized weight is stored; nothing: in dtype. A narrower format is unpacked and
  // scaled to dtype in registers before the tensor cores take it, as the weight-only kernels
  // do (Marlin, TensorRT-LLM's and FasterTransformer's mixed-input GEMMs).
  std::optional<workloads::StoredFormat> b_stored = std::nullopt;
  // B pruned (a weight's sparsity): 2:4 runs on sparse tensor cores where the GPU has them;
  // unstructured zeros are loaded compressed and decompressed in shared memory, then multiplied
  // dense (Flash-LLM's load-as-sparse, compute-as-dense).
  std::optional<workloads::WeightSparsity> b_sparsity = std::nullopt;

  double a_bytes() const { return arch::element_bytes(dtype); }
  double b_bytes() const;
  // The share of the MACs the tensor cores perform: 1/2 on sparse tensor cores, else 1.
  double mac_share(const arch::GpuSpec& spec) const;
  // The tensor cores' time against the dense loop's: the share at the sparse loop's efficiency.
  double tensor_time_share(const arch::GpuSpec& spec) const;
};

// CUDA-core instructions a thread spends per element of B turning it into the tensor cores'
// format: 0 when stored in it.
double dequant_instructions_per_element(const GpuGemm& gemm);

struct ThreadBlockTile {
  uint32_t m;
  uint32_t n;
  uint32_t k;       // the K step one pipeline stage holds
  uint32_t stages;  // of A and B tiles in shared memory
  uint32_t warps;
};

// The tiles CUTLASS and cuBLAS offer for tensor-core GEMMs, large to small.
const std::vector<ThreadBlockTile>& thread_block_tiles();
// Those a GEMM may use: with B stored narrower than dtype, also the weight-only kernels' tiles
// of 16 rows (Marlin's), made for the few rows of A that decoding multiplies.
std::vector<ThreadBlockTile> tiles_for(const GpuGemm& gemm);

// Thread blocks of `tile` one SM holds at once under its shared-memory, register and thread
// limits (accumulators in fp32 registers plus 64 for fragments and addresses, at most 255 a
// thread); nothing when not even one fits.
std::optional<uint32_t> resident_blocks(const arch::GpuSpec& spec, const ThreadBlockTile& tile, const GpuGemm& gemm);

struct GpuGemmPlan {
  ThreadBlockTile tile;
  uint32_t split_k = 1;
  uint32_t resident = 1;         // thread blocks an SM runs at once
  uint64_t thread_blocks = 0;    // tiles of C times split_k
  uint64_t waves = 0;            // thread blocks on the busiest SM
  uint32_t active_sms = 0;
  uint64_t k_steps = 0;          // of one thread block's main loop
  double step_cycles = 0;        // one main-loop step: tensor cores, L2, HBM streaming or dequantizing
  // Which of them sets it: "the tensor cores", "the SM's share of L2", "HBM misses in flight" or
  // "dequantizing B".
  std::string step_bound;
  double block_cycles = 0;       // one thread block: its steps, fill and epilogue
  double hbm_bytes = 0;          // after L2 reuse
  double l2_bytes = 0;           // A and B tiles loaded into shared memory, every block
  double sm_cycles = 0;          // the busiest SM
  double hbm_cycles = 0;         // HBM moving hbm_bytes at its achievable rate
  double launch_cycles = 0;
  double cycles = 0;             // launch + max(sm_cycles, hbm_cycles + latency)

  // e.g. "thread blocks 128x128x32/4, split-K 1, 5 wave(s)" (tile M x N x K / stages).
  std::string describe() const;
};

// The cost of one tile and split; nothing when the tile does not fit an SM.
std::optional<GpuGemmPlan> cost_gpu_gemm(const arch::GpuSpec& spec, const GpuGemm& gemm, const ThreadBlockTile& tile,
                                         uint32_t split_k);

// Every tile and split of K that fits, fastest first. Throws std::invalid_argument for a
// shape with a zero size or a format the tensor cores do not take.
std::vector<GpuGemmPlan> rank_gpu_gemm(const arch::GpuSpec& spec, const GpuGemm& gemm);

// The fastest of them.
GpuGemmPlan map_gpu_gemm(const arch::GpuSpec& spec, const GpuGemm& gemm);

}  // namespace tessel::mapper
