// How an operator other than a Linear runs on a GPU, as one kernel: its HBM bytes (the KV
// cache it streams included), its CUDA-core and special-function work, and, for the kernels
// with matrix products (fused attention, batched matmuls), the thread blocks that spread its
// tensor-core work over the SMs in waves. The kernel takes the slowest of them, plus its
// launch.
#pragma once

#include <cstdint>
#include <string>

#include "arch/gpu/gpu_spec.h"
#include "mapper/kernel_work.h"
#include "workloads/op.h"

namespace tessel::mapper {

struct GpuKernelPlan {
  KernelWork work;  // the bytes, vector work and MACs it is costed on
  // Attention takes a (batch, head, block of 128 queries) a thread block, as FlashAttention-2
  // does, and with fewer queries than that (decode) also splits the keys into blocks of 512,
  // as flash-decoding does; a batched matmul takes a 128 x 128 tile of each instance's
  // output. 0 for a bandwidth-bound kernel (no matrix products).
  uint64_t thread_blocks = 0;
  double busy_cycles = 0;  // the slowest of HBM, CUDA cores, special functions and tensor-core waves
  double cycles = 0;       // launch overhead + busy_cycles

  // "tensor-core kernel, N thread blocks" or "bandwidth-bound kernel".
  std::string describe() const;
};

// Throws std::invalid_argument for a Linear (the GEMM mapper plans those), a collective, and a
// format the tensor cores do not take when the op has matrix products.
GpuKernelPlan plan_gpu_kernel(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype);

}  // namespace tessel::mapper
