#include "mapper/gpu_mapper.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "arch/gpu/gpu_timing.h"
#include "mapper/wave_reuse.h"

namespace tessel::mapper {

namespace {

constexpr uint32_t kThreadsPerWarp = 32;
constexpr uint32_t kMaxRegistersPerThread = 255;
constexpr uint32_t kOverheadRegisters = 64;  // A/B fragments, addresses, loop counters
constexpr uint32_t kAccumulatorBytes = 4;    // fp32 partial sums
constexpr uint32_t kSplits[] = {1, 2, 3, 4, 6, 8, 12, 16};

using arch::ceil_div;

}  // namespace

const std::vector<ThreadBlockTile>& thread_block_tiles() {
  static const std::vector<ThreadBlockTile> tiles = {
      {256, 128, 32, 3, 8}, {128, 256, 32, 3, 8}, {256, 128, 64, 3, 8}, {128, 256, 64, 3, 8},
      {128, 128, 32, 4, 4}, {128, 128, 64, 3, 4}, {128, 64, 32, 4, 4},  {64, 128, 32, 4, 4},
      {128, 64, 64, 3, 4},  {64, 128, 64, 3, 4},  {64, 64, 32, 6, 4},   {64, 64, 64, 4, 4},
  };
  return tiles;
}

double GpuGemm::b_bytes() const {
  return workloads::stored_weight_bytes_per_element(k, n, dtype, b_stored, b_sparsity);
}

double GpuGemm::mac_share(const arch::GpuSpec& spec) const {
  return b_sparsity && b_sparsity->structured() && spec.sparse_2_4 ? b_sparsity->kept() : 1.0;
}

double GpuGemm::tensor_time_share(const arch::GpuSpec& spec) const {
  const double share = mac_share(spec);
  return share < 1.0 ? share * spec.tensor_efficiency / spec.sparse_efficiency : 1.0;
}

double dequant_instructions_per_element(const GpuGemm& gemm) {
  // Decompressing unstructured zeros from a bitmask: a population count and a shared-memory
  // scatter an element, besides any unpacking of the values.
  const double decompress = gemm.b_sparsity && !gemm.b_sparsity->structured() ? 2.0 : 0.0;
  if (!gemm.b_stored || gemm.b_stored->format == gemm.dtype) return decompress;
  // Unpacking: one lop3 or prmt and one packed subtract per element pair-slot, as the fast
  // int4/int8-to-fp16 conversions of FasterTransformer and Marlin do (8 instructions for the 8
  // int4 values of a register, 4 for 4 int8 values): 1 an element. Scales of groups along K
  // cannot wait for the epilogue: one packed fma per two elements applies them (and the zero
  // point); a scale per channel or tensor is applied to C in the epilogue instead.
  const bool grouped = gemm.b_stored->scales == workloads::ScaleGranularity::Group;
  return decompress + 1.0 + (grouped ? 0.5 : 0.0);
}

std::vector<ThreadBlockTile> tiles_for(const GpuGemm& gemm) {
  std::vector<ThreadBlockTile> tiles = thread_block_tiles();
  if (dequant_instructions_per_element(gemm) > 0) {
    // Marlin's two shapes (thread_n x thread_k 256x64 and 128x128) on a 16-row block of A, with
    // 4 pipeline stages and 8 warps.
    tiles.push_back({16, 256, 64, 4, 8});
    tiles.push_back({16, 128, 128, 4, 8});
  }
  return tiles;
}

std::optional<uint32_t> resident_blocks(const arch::GpuSpec& spec, const ThreadBlockTile& tile, const GpuGemm& gemm) {
  const auto shared = static_cast<uint64_t>(
      std::ceil(tile.stages * (tile.m * gemm.a_bytes() + tile.n * gemm.b_bytes()) * tile.k));
  const uint32_t threads = tile.warps * kThreadsPerWarp;
  const uint32_t registers = tile.m * tile.n / threads + kOverheadRegisters;
  if (shared > spec.shared_memory_bytes_per_sm || registers > kMaxRegistersPerThread ||
      threads > spec.max_threads_per_sm) {
    return std::nullopt;
  }
  const uint64_t register_bytes = static_cast<uint64_t>(threads) * registers * kAccumulatorBytes;
  const uint64_t fit = std::min({spec.shared_memory_bytes_per_sm / shared, spec.register_file_bytes_per_sm / register_bytes,
                                 static_cast<uint64_t>(spec.max_threads_per_sm / threads)});
  if (fit == 0) return std::nullopt;
  return static_cast<uint32_t>(fit);
}

std::optional<GpuGemmPlan> cost_gpu_gemm(const arch::GpuSpec& spec, const GpuGemm& g, const ThreadBlockTile& tile,
                                         uint32_t split_k) {
  const std::optional<uint32_t> fit = resident_blocks(spec, tile, g);
  if (!fit) return std::nullopt;
  GpuGemmPlan plan;
  plan.tile = tile;
  plan.split_k = split_k;
  const uint64_t tiles_m = ceil_div(g.m, tile.m);
  const uint64_t tiles_n = ceil_div(g.n, tile.n);
  plan.thread_blocks = tiles_m * tiles_n * split_k;
  plan.active_sms = static_cast<uint32_t>(std::min<uint64_t>(plan.thread_blocks, spec.sms));
  plan.waves = ceil_div(plan.thread_blocks, spec.sms);
  plan.resident = static_cast<uint32_t>(std::min<uint64_t>(*fit, plan.waves));
  plan.k_steps = ceil_div(ceil_div(g.k, split_k), tile.k);

  const double stage_bytes = (tile.m * g.a_bytes() + tile.n * g.b_bytes()) * tile.k;
  plan.l2_bytes = static_cast<double>(plan.thread_blocks * plan.k_steps) * stage_bytes;
  const double output_bytes = static_cast<double>(g.m * g.n) * arch::gemm_output_bytes(g.dtype);
  // A and B after L2 reuse across the waves of thread blocks.
  plan.hbm_bytes = wave_input_bytes(
                       {g.m, g.n, g.k, g.a_bytes(), g.b_bytes(), tile.m, tile.n, spec.sms, static_cast<double>(spec.l2_bytes)}) +
                   output_bytes;

  // A main-loop step takes the longest of the tensor cores' work, the SM's share of L2, and
  // streaming its share of HBM misses with (stages - 1) stages in flight per block.
  const double l2_share = arch::gpu::l2_bytes_per_cycle_per_sm(spec, plan.active_sms);
  const double miss_fraction = std::min(1.0, (plan.hbm_bytes - output_bytes) / plan.l2_bytes);
  const double in_flight = static_cast<double>(tile.stages - 1) * stage_bytes * plan.resident;
  const double tensor =
      arch::gpu::tensor_cycles(spec, g.dtype, static_cast<double>(tile.m) * tile.n * tile.k * g.tensor_time_share(spec));
  const double stream = stage_bytes * miss_fraction / arch::gpu::hbm_stream_bytes_per_cycle_per_sm(spec, in_flight);
  const double l2 = stage_bytes / l2_share;
  // Unpacking the step's B on the SM's CUDA cores, one lane an instruction, beside the tensor cores.
  const double lanes = spec.fp32_ops_per_cycle_per_sm / 2;
  const double dequant = static_cast<double>(tile.n) * tile.k * dequant_instructions_per_element(g) / lanes;
  plan.step_cycles = std::max({tensor, l2, stream, dequant});
  plan.step_bound = tensor >= std::max({l2, stream, dequant}) ? "the tensor cores"
                    : l2 >= std::max(stream, dequant)         ? "the SM's share of L2"
                    : stream >= dequant                       ? "HBM misses in flight"
                                                              : "dequantizing B";

  // The pipeline fills once per block (one HBM latency) and the epilogue stores C, or with a
  // split of K reads and writes fp32 partial sums; co-resident blocks hide each other's.
  const double epilogue_bytes = static_cast<double>(tile.m) * tile.n *
                                (split_k > 1 ? 2 * kAccumulatorBytes : arch::gemm_output_bytes(g.dtype));
  const double edges = arch::gpu::hbm_latency_cycles(spec) + epilogue_bytes / l2_share;
  plan.block_cycles = static_cast<double>(plan.k_steps) * plan.step_cycles + edges / plan.resident;

  plan.sm_cycles = static_cast<double>(plan.waves) * plan.block_cycles;
  plan.hbm_cycles = plan.hbm_bytes / arch::gpu::hbm_bytes_per_cycle(spec);
  plan.launch_cycles = arch::gpu::launch_overhead_cycles(spec);
  plan.cycles = plan.launch_cycles + std::max(plan.sm_cycles, plan.hbm_cycles + arch::gpu::hbm_latency_cycles(spec));
  return plan;
}

std::string GpuGemmPlan::describe() const {
  return "thread blocks " + std::to_string(tile.m) + "x" + std::to_string(tile.n) + "x" + std::to_string(tile.k) + "/" +
         std::to_string(tile.stages) + ", split-K " + std::to_string(split_k) + ", " + std::to_string(waves) +
         " wave(s)";
}

std::vector<GpuGemmPlan> rank_gpu_gemm(const arch::GpuSpec& spec, const GpuGemm& gemm) {
  if (gemm.m == 0 || gemm.n == 0 || gemm.k == 0) throw std::invalid_argument("a GEMM size is zero");
  if (gemm.b_sparsity && gemm.b_sparsity->structured() &&
      !(spec.sparse_2_4 && gemm.b_sparsity->keep == 2 && gemm.b_sparsity->group == 4)) {
    throw std::invalid_argument(spec.name + ": its tensor cores take no " + gemm.b_sparsity->text() +
                                " sparsity (tensor_cores.sparse in " + spec.source_file + ")");
  }
  arch::gpu::tensor_cycles(spec, gemm.dtype, 0.0);  // throws for a format the tensor cores lack
  std::vector<GpuGemmPlan> plans;
  for (const ThreadBlockTile& tile : tiles_for(gemm)) {
    for (uint32_t split : kSplits) {
      if (split > 1 && ceil_div(gemm.k, split) < 2 * tile.k) break;
      if (const std::optional<GpuGemmPlan> plan = cost_gpu_gemm(spec, gemm, tile, split)) plans.push_back(*plan);
    }
  }
  if (plans.empty()) throw std::invalid_argument(spec.name + ": no thread-block tile fits an SM");
  // Among plans of equal time (HBM-bound ones tie) the one leaving its SMs the most slack
  // first: less padded tensor work, more room for the stalls the closed form does not see.
  // Then candidate order: the larger tile and the smaller split.
  std::stable_sort(plans.begin(), plans.end(), [](const GpuGemmPlan& a, const GpuGemmPlan& b) {
    return a.cycles < b.cycles || (a.cycles == b.cycles && a.sm_cycles < b.sm_cycles);
  });
  return plans;
}

GpuGemmPlan map_gpu_gemm(const arch::GpuSpec& spec, const GpuGemm& gemm) { return rank_gpu_gemm(spec, gemm).front(); }

}  // namespace tessel::mapper
