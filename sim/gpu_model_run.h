// A transformer phase on a GPU: every operator as its own kernel. Linears are GEMMs mapped
// to thread-block tiles and simulated in waves over the SMs (mapper/gpu_mapper,
// sim/gpu_gemm_engine); fused attention and batched matmuls are tensor-core kernels bound by
// their MACs, their vector work or their HBM bytes; the row- and element-wise operators and
// the copies are bandwidth-bound kernels; every kernel pays the launch overhead. With tensor
// parallelism the run is one GPU's shard, its all-reduces and all-gathers rings over NVLink.
#pragma once

#include "arch/gpu/gpu_spec.h"
#include "sim/gpu_gemm_engine.h"
#include "sim/model_run.h"

namespace tessel::sim {

// One operator as its kernel (what run_model costs each op with).
OpResult run_gpu_op(const arch::GpuSpec& spec, const workloads::Op& op, const ModelRunOptions& options);

// A Linear `op` as `choice` planned and simulated it (what run_gpu_op does after
// choose_gpu_gemm with options.gemm.confirm).
OpResult run_gpu_linear(const arch::GpuSpec& spec, const GpuGemmChoice& choice, const workloads::Op& op,
                        const ModelRunOptions& options);

// Throws InputError for an invalid request and std::invalid_argument for a format the tensor
// cores do not take.
ModelRunResult run_model(const arch::GpuSpec& spec, const workloads::ModelConfig& model, const ModelRequest& request,
                         const ModelRunOptions& options);

}  // namespace tessel::sim
