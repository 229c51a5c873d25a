// What an operator other than a Linear asks of a device that runs it as one kernel (a GPU) or
// one parallel region (a CPU): its main-memory bytes, the KV cache it streams included, its
// vector and special-function work, and its matrix MACs. The GPU and CPU plans cost these
// same counts.
#pragma once

#include "arch/types.h"
#include "workloads/op.h"

namespace tessel::mapper {

struct KernelWork {
  double read_bytes = 0;
  double written_bytes = 0;
  double alu_ops = 0;  // an FMA counts as two
  double special_ops = 0;
  double macs = 0;
};

// How an operator with matrix products splits into parallel items (a GPU's thread blocks, a
// CPU's work items), as FlashAttention-2 and flash-decoding split attention: a (batch, head,
// block of `queries`) an item forward, with fewer queries than that (decode) also the keys in
// blocks of `decode_keys`; a block of `backward_keys` keys an item backward (dK and dV are
// accumulated on chip, dQ atomically); a `matmul_tile` square of each batched matmul's output.
struct ItemBlocking {
  uint64_t queries;
  uint64_t decode_keys;
  uint64_t backward_keys;
  uint64_t matmul_tile;
};

// 0 for an op without matrix products.
uint64_t parallel_items(const workloads::Op& op, const ItemBlocking& blocking);

// Throws std::invalid_argument for a Linear (a GEMM mapper plans those) and a collective (links
// run those).
KernelWork kernel_work(const workloads::Op& op, arch::DType dtype);

}  // namespace tessel::mapper
