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

// Throws std::invalid_argument for a Linear (a GEMM mapper plans those) and a collective (links
// run those).
KernelWork kernel_work(const workloads::Op& op, arch::DType dtype);

}  // namespace tessel::mapper
