// How an operator other than a Linear runs on a CPU, as one parallel region over its cores:
// its DDR bytes (the KV cache it streams included), its vector and special-function work,
// and, for the operators with matrix products (attention, batched matmuls), work items that
// spread the engine's share over the cores in waves. The region takes the slowest of them,
// plus its fork and join.
#pragma once

#include <cstdint>
#include <string>

#include "arch/cpu/cpu_spec.h"
#include "mapper/kernel_work.h"
#include "workloads/op.h"

namespace tessel::mapper {

struct CpuKernelPlan {
  KernelWork work;  // the bytes, vector work and MACs it is costed on
  std::string engine;        // its name; empty without matrix products
  // Attention takes a (batch, head, block of 64 queries) an item, as CPU flash-attention
  // kernels do, and with fewer queries than that (decode) also splits the keys into blocks of
  // 512; a batched matmul takes a 64 x 64 tile of each instance's output. 0 without matrix
  // products.
  uint64_t work_items = 0;
  double busy_cycles = 0;  // the slowest of DDR, vector lanes, special functions and the engine's waves
  double cycles = 0;       // parallel overhead + busy_cycles

  // "amx kernel, N work items" or "bandwidth-bound kernel".
  std::string describe() const;
};

// Throws std::invalid_argument for a Linear (the GEMM mapper plans those), a collective, and a
// format no engine takes when the op has matrix products.
CpuKernelPlan plan_cpu_kernel(const arch::CpuSpec& spec, const workloads::Op& op, arch::DType dtype);

}  // namespace tessel::mapper
