#include "sim/gpu_model_run.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "arch/gpu/collective_timing.h"
#include "arch/gpu/gpu_timing.h"
#include "mapper/gpu_mapper.h"
#include "sim/gpu_gemm_engine.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

double peak_macs_per_cycle(const arch::GpuSpec& spec, arch::DType dtype) {
  return *spec.tensor_macs_per_cycle_per_sm(dtype) * spec.sms;
}

double peak_hbm_bytes_per_cycle(const arch::GpuSpec& spec) { return spec.hbm_bytes_per_second / spec.clock_hz; }

// What the GPU's energy table charges for an op's activity: tensor-core MACs, CUDA-core and
// special-function ops, bytes from L2 into the SMs (buffer reads) and HBM bytes.
arch::EnergyBreakdown gpu_energy(const arch::GpuSpec& spec, const arch::Activity& a) {
  arch::EnergyBreakdown energy;
  energy.mac_pj = static_cast<double>(a.macs) * spec.energy.tensor_mac_pj;
  energy.sram_pj = static_cast<double>(a.sram_read_bytes()) * spec.energy.l2_pj_per_byte;
  energy.dram_pj = static_cast<double>(a.dram_read_bytes + a.dram_write_bytes) * spec.energy.hbm_pj_per_byte;
  energy.vector_pj = a.vector_alu_ops * spec.energy.fp32_op_pj + a.vector_special_ops * spec.energy.special_op_pj;
  return energy;
}

Roofline floors(double compute_cycles, double memory_cycles) {
  return {static_cast<uint64_t>(std::floor(compute_cycles)), static_cast<uint64_t>(std::floor(memory_cycles))};
}

}  // namespace

OpResult run_gpu_linear(const arch::GpuSpec& spec, const GpuGemmChoice& choice, const Op& op,
                        const ModelRunOptions& options) {
  const auto& s = op.shape_as<workloads::LinearShape>();
  const arch::DType dtype = options.gemm.dtype;
  const mapper::GpuGemmPlan& plan = choice.plan;
  const GpuGemmRun& run = choice.run;
  OpResult result;
  result.cycles = run.cycles;
  // The busiest SM's tensor cores: its thread blocks' MACs at the sustained rate.
  const double block_macs =
      static_cast<double>(plan.tile.m) * plan.tile.n * plan.tile.k * static_cast<double>(plan.k_steps);
  const double busiest_macs = static_cast<double>(plan.waves) * block_macs;
  result.array_busy_cycles = static_cast<uint64_t>(std::ceil(arch::gpu::tensor_cycles(spec, dtype, busiest_macs)));
  const uint64_t written = s.m * s.n * arch::bytes_of(dtype);
  result.activity.macs = op.macs();
  result.activity.dram_write_bytes = written;
  result.activity.dram_read_bytes = run.hbm_bytes > written ? run.hbm_bytes - written : 0;
  result.dram_busy_cycles = run.hbm_busy_cycles;
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] = static_cast<uint64_t>(plan.l2_bytes);
  result.energy = gpu_energy(spec, result.activity);
  const double macs = static_cast<double>(op.macs());
  const double bytes = static_cast<double>((s.m * s.k + s.k * s.n + s.m * s.n) * arch::bytes_of(dtype));
  result.roofline = floors(macs / peak_macs_per_cycle(spec, dtype), bytes / peak_hbm_bytes_per_cycle(spec));
  result.utilization = macs / (static_cast<double>(std::max<uint64_t>(run.cycles, 1)) * peak_macs_per_cycle(spec, dtype));
  result.mapping = plan.describe();
  if (wants_gemm_check(options.gemm, workloads::Gemm{op.name, s.m, s.n, s.k})) {
    result.numerics = check_gemm({s.m, s.n, s.k, dtype, plan.tile.k, options.gemm.seed});
  }
  return result;
}

namespace {

OpResult gpu_linear(const arch::GpuSpec& spec, const Op& op, const ModelRunOptions& options) {
  const auto& s = op.shape_as<workloads::LinearShape>();
  return run_gpu_linear(spec, choose_gpu_gemm(spec, {s.m, s.n, s.k, options.gemm.dtype}, options.gemm.confirm), op,
                        options);
}

// Thread blocks a tensor-core kernel spreads its work over: attention takes a (batch, head,
// block of 128 queries) each, as FlashAttention-2 does, and with fewer queries than that
// (decode) also splits the keys into blocks of 512, as flash-decoding does; a batched matmul
// takes a 128 x 128 tile of each instance's output.
uint64_t thread_blocks(const Op& op) {
  if (const auto* s = std::get_if<workloads::AttentionShape>(&op.shape)) {
    const uint64_t query_blocks = arch::ceil_div(s->q_len, 128);
    const uint64_t key_blocks = s->q_len < 128 ? arch::ceil_div(s->kv_len, 512) : 1;
    return s->batch * s->heads * query_blocks * key_blocks;
  }
  if (const auto* s = std::get_if<workloads::BatchedMatmulShape>(&op.shape)) {
    return s->batch * arch::ceil_div(s->m, 128) * arch::ceil_div(s->n, 128);
  }
  return 0;
}

// What a tensor-core thread block spends outside its main loop, the SMs all doing the same:
// the first HBM latency, a fused-attention block's Q tile (it stays resident for the whole
// loop) loaded at the SM's share of HBM, and its output tile stored at its share of L2, as a
// GEMM block's epilogue (mapper/gpu_mapper).
double block_edge_cycles(const arch::GpuSpec& spec, const Op& op, arch::DType dtype, uint64_t active_sms) {
  const double bytes = arch::bytes_of(dtype);
  double q_tile = 0, out_tile = 0;
  if (const auto* a = std::get_if<workloads::AttentionShape>(&op.shape)) {
    q_tile = static_cast<double>(std::min<uint64_t>(a->q_len, 128) * a->head_dim) * bytes;
    out_tile = q_tile;
  } else if (const auto* b = std::get_if<workloads::BatchedMatmulShape>(&op.shape)) {
    out_tile = static_cast<double>(std::min<uint64_t>(b->m, 128) * std::min<uint64_t>(b->n, 128)) * bytes;
  }
  const double hbm_share = arch::gpu::hbm_bytes_per_cycle(spec) / static_cast<double>(active_sms);
  return arch::gpu::hbm_latency_cycles(spec) + q_tile / hbm_share +
         out_tile / arch::gpu::l2_bytes_per_cycle_per_sm(spec, static_cast<uint32_t>(active_sms));
}

// Every operator but a Linear as one kernel: its HBM bytes (the cache it streams included),
// its CUDA-core and special-function work, and its tensor-core MACs over the SMs its thread
// blocks occupy; the slowest of them, plus the launch.
OpResult gpu_kernel(const arch::GpuSpec& spec, const Op& op, const ModelRunOptions& options) {
  const arch::DType dtype = options.gemm.dtype;
  const workloads::ElementCounts counts = op.elements();
  const double read = static_cast<double>(counts.read + workloads::cache_elements(op)) * arch::bytes_of(dtype);
  const double written = static_cast<double>(counts.written) * arch::bytes_of(dtype);
  const auto work = op.vector_work();
  const double alu = work ? static_cast<double>(work->alu_ops()) : 0.0;
  const double special = work ? static_cast<double>(work->special_ops()) : 0.0;
  const double macs = static_cast<double>(op.macs());
  double busy = arch::gpu::streaming_kernel_cycles(spec, read + written, alu, special);
  if (macs > 0) {
    // Thread blocks run in waves over the SMs, each doing its share of the MACs and then of
    // the vector work: within a block the softmax waits for its scores and the second
    // product for the softmax (FlashAttention-2 on Ampere does not overlap them).
    const uint64_t blocks = std::max<uint64_t>(thread_blocks(op), 1);
    const double waves = static_cast<double>(arch::ceil_div(blocks, spec.sms));
    const double per_block = 1.0 / static_cast<double>(blocks);
    const double block_macs = macs * per_block;
    const double block_cycles = (op.kind == OpKind::Attention ? arch::gpu::attention_tensor_cycles(spec, dtype, block_macs)
                                                              : arch::gpu::tensor_cycles(spec, dtype, block_macs)) +
                                alu * per_block / spec.fp32_ops_per_cycle_per_sm +
                                special * per_block / spec.special_ops_per_cycle_per_sm +
                                block_edge_cycles(spec, op, dtype, std::min<uint64_t>(blocks, spec.sms));
    busy = std::max(busy, waves * block_cycles);
  }
  OpResult result;
  result.cycles = static_cast<uint64_t>(std::ceil(arch::gpu::launch_overhead_cycles(spec) + busy));
  result.activity.macs = op.macs();
  result.activity.dram_read_bytes = static_cast<uint64_t>(read);
  result.activity.dram_write_bytes = static_cast<uint64_t>(written);
  result.activity.vector_alu_ops = alu;
  result.activity.vector_special_ops = special;
  // Every HBM byte reaches the SMs through L2.
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] = static_cast<uint64_t>(read + written);
  result.energy = gpu_energy(spec, result.activity);
  const double cuda_cores = spec.fp32_ops_per_cycle_per_sm * spec.sms;
  const double compute = std::max({macs / peak_macs_per_cycle(spec, dtype), alu / cuda_cores,
                                   special / (spec.special_ops_per_cycle_per_sm * spec.sms)});
  result.roofline = floors(compute, (read + written) / peak_hbm_bytes_per_cycle(spec));
  const double cycles = static_cast<double>(result.cycles);
  result.utilization = macs > 0 ? macs / (cycles * peak_macs_per_cycle(spec, dtype)) : alu / (cycles * cuda_cores);
  result.mapping = macs > 0 ? "tensor-core kernel, " + std::to_string(thread_blocks(op)) + " thread blocks"
                            : "bandwidth-bound kernel";
  result.numerics = check_model_op(op, options);
  return result;
}

// A collective of the tensor-parallel group over NVLink: its buffer read from HBM and the
// result written back; the links' own energy is not in the table.
OpResult gpu_collective(const arch::GpuSpec& spec, const Op& op, const ModelRunOptions& options) {
  const auto& s = op.shape_as<workloads::CollectiveShape>();
  const uint32_t element_bytes = arch::bytes_of(options.gemm.dtype);
  const double bytes = static_cast<double>(s.rows * s.cols * element_bytes);
  const uint32_t gpus = static_cast<uint32_t>(s.gpus);
  const bool reduce = op.kind == OpKind::AllReduce;
  const double seconds = reduce ? arch::gpu::all_reduce_seconds(spec, gpus, bytes)
                                : arch::gpu::all_gather_seconds(spec, gpus, bytes);
  const double each_way = reduce ? arch::gpu::all_reduce_link_bytes(gpus, bytes)
                                 : arch::gpu::all_gather_link_bytes(gpus, bytes);
  const workloads::ElementCounts counts = op.elements();
  OpResult result;
  result.cycles = static_cast<uint64_t>(std::ceil(seconds * spec.clock_hz));
  result.activity.dram_read_bytes = counts.read * element_bytes;
  result.activity.dram_write_bytes = counts.written * element_bytes;
  result.energy = gpu_energy(spec, result.activity);
  result.roofline = floors(0, static_cast<double>((counts.read + counts.written) * element_bytes) /
                                  peak_hbm_bytes_per_cycle(spec));
  result.roofline.network_cycles =
      static_cast<uint64_t>(std::floor(each_way / (spec.nvlink->bytes_per_second / spec.clock_hz)));
  result.mapping = "ring over " + std::to_string(gpus) + " GPUs' NVLink";
  result.numerics = check_model_op(op, options);
  return result;
}

}  // namespace

OpResult run_gpu_op(const arch::GpuSpec& spec, const Op& op, const ModelRunOptions& options) {
  switch (op.kind) {
    case OpKind::Linear: return gpu_linear(spec, op, options);
    case OpKind::KvCacheRead: return kv_cache_read_by_attention();
    case OpKind::AllReduce:
    case OpKind::AllGather: return gpu_collective(spec, op, options);
    default: return gpu_kernel(spec, op, options);
  }
}

ModelRunResult run_model(const arch::GpuSpec& spec, const workloads::ModelConfig& model, const ModelRequest& request,
                         const ModelRunOptions& options) {
  if (!spec.tensor_macs_per_cycle_per_sm(options.gemm.dtype)) {
    throw std::invalid_argument("architecture '" + spec.name + "' has no tensor-core rate for " +
                                std::string(arch::to_string(options.gemm.dtype)));
  }
  const std::string tp = std::to_string(options.tensor_parallel) + "-way tensor parallelism: ";
  if (options.tensor_parallel > 1 && !spec.nvlink) {
    throw std::invalid_argument(tp + spec.source_file +
                                " has no nvlink section: its GPUs have no links to share layers over");
  }
  if (spec.nvlink && options.tensor_parallel > spec.nvlink->gpus_per_node) {
    throw std::invalid_argument(tp + "a node of " + spec.name + " links " + std::to_string(spec.nvlink->gpus_per_node) +
                                " GPUs (nvlink.gpus_per_node in " + spec.source_file + ")");
  }
  const ModelArch arch{spec.name,
                       spec.source_file,
                       spec.clock_hz,
                       peak_macs_per_cycle(spec, options.gemm.dtype),
                       peak_hbm_bytes_per_cycle(spec),
                       spec.hbm_capacity_bytes,
                       {}};
  const OpEngine engine = [&](const Op& op, const ModelRunOptions& op_options) {
    return run_gpu_op(spec, op, op_options);
  };
  return run_model_on(arch, engine, model, request, options);
}

}  // namespace tessel::sim
