// The element- and row-wise operators (softmax, norms, GELU, SwiGLU, RoPE ...) on a GPU: one
// bandwidth-bound kernel each, reading and writing every element once (a row fits in an SM's
// registers and shared memory) with its arithmetic on the CUDA cores and special-function
// units.
#pragma once

#include "arch/gpu/gpu_spec.h"
#include "workloads/op.h"

namespace tessel::mapper {

// Cycles of `op` as its own kernel, launch overhead included. Throws std::invalid_argument
// for an op with no vector work (matrix products and pure data movement).
double gpu_streaming_op_cycles(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype);

}  // namespace tessel::mapper
