#include "mapper/gpu_kernel_plan.h"

#include <algorithm>

#include "arch/gpu/gpu_timing.h"
#include "mapper/kernel_work.h"

namespace tessel::mapper {

namespace {

using workloads::Op;
using workloads::OpKind;

constexpr uint64_t kQueriesPerBlock = 128;    // FlashAttention-2's query tile
constexpr uint64_t kKeysPerDecodeBlock = 512;  // flash-decoding's split of the keys
constexpr uint64_t kKeysPerBackwardBlock = 128;  // FlashAttention-2's backward key tile
constexpr uint64_t kMatmulTile = 128;          // a batched matmul's output tile, each way

// FlashAttention-2's and flash-decoding's blocks, CUTLASS's tile.
constexpr ItemBlocking kThreadBlocks{kQueriesPerBlock, kKeysPerDecodeBlock, kKeysPerBackwardBlock, kMatmulTile};

// What a tensor-core thread block spends outside its main loop, the SMs all doing the same:
// the first HBM latency, a fused-attention block's resident tile (Q forward; K and V in the
// backward pass) loaded at the SM's share of HBM, and its output tile (O; dK and dV) stored
// at its share of L2, as a GEMM block's epilogue (mapper/gpu_mapper).
double block_edge_cycles(const arch::GpuSpec& spec, const Op& op, arch::DType dtype, uint64_t active_sms) {
  const double bytes = arch::bytes_of(dtype);
  double q_tile = 0, out_tile = 0;
  if (const auto* a = std::get_if<workloads::AttentionShape>(&op.shape)) {
    const uint64_t resident = op.kind == OpKind::AttentionBackward
                                  ? 2 * std::min(a->kv_len, kKeysPerBackwardBlock) * a->head_dim
                                  : std::min(a->q_len, kQueriesPerBlock) * a->head_dim;
    q_tile = static_cast<double>(resident) * bytes;
    out_tile = q_tile;
  } else if (const auto* b = std::get_if<workloads::BatchedMatmulShape>(&op.shape)) {
    out_tile = static_cast<double>(std::min(b->m, kMatmulTile) * std::min(b->n, kMatmulTile)) * bytes;
  }
  const double hbm_share = arch::gpu::hbm_bytes_per_cycle(spec) / static_cast<double>(active_sms);
  return arch::gpu::hbm_latency_cycles(spec) + q_tile / hbm_share +
         out_tile / arch::gpu::l2_bytes_per_cycle_per_sm(spec, static_cast<uint32_t>(active_sms));
}

}  // namespace

std::string GpuKernelPlan::describe() const {
  return work.macs > 0 ? "tensor-core kernel, " + std::to_string(thread_blocks) + " thread blocks"
                  : "bandwidth-bound kernel";
}

GpuKernelPlan plan_gpu_kernel(const arch::GpuSpec& spec, const Op& op, arch::DType dtype) {
  GpuKernelPlan plan;
  plan.work = kernel_work(op, dtype);
  const KernelWork& work = plan.work;
  plan.busy_cycles =
      arch::gpu::streaming_kernel_cycles(spec, work.read_bytes + work.written_bytes, work.alu_ops, work.special_ops);
  if (work.macs > 0) {
    // Thread blocks run in waves over the SMs, each doing its share of the MACs and then of
    // the vector work: within a block the softmax waits for its scores and the second
    // product for the softmax (FlashAttention-2 on Ampere does not overlap them).
    plan.thread_blocks = parallel_items(op, kThreadBlocks);
    const uint64_t blocks = std::max<uint64_t>(plan.thread_blocks, 1);
    const double waves = static_cast<double>(arch::ceil_div(blocks, spec.sms));
    const double per_block = 1.0 / static_cast<double>(blocks);
    const double block_macs = work.macs * per_block;
    const double block_cycles =
        (std::holds_alternative<workloads::AttentionShape>(op.shape)
             ? arch::gpu::attention_tensor_cycles(spec, dtype, block_macs)
             : arch::gpu::tensor_cycles(spec, dtype, block_macs)) +
        work.alu_ops * per_block / spec.fp32_ops_per_cycle_per_sm +
        work.special_ops * per_block / spec.special_ops_per_cycle_per_sm +
        block_edge_cycles(spec, op, dtype, std::min<uint64_t>(blocks, spec.sms));
    plan.busy_cycles = std::max(plan.busy_cycles, waves * block_cycles);
  }
  plan.cycles = arch::gpu::launch_overhead_cycles(spec) + plan.busy_cycles;
  return plan;
}

}  // namespace tessel::mapper
