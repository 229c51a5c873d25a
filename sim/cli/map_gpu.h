// `tessel map` on a GPU: the thread-block plan the GPU mapper picks for one GEMM (tile,
// pipeline stages, split of K, waves over the SMs, what bounds its main loop), its analytic
// cost and the runners-up.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>

#include "arch/gpu/gpu_spec.h"
#include "workloads/gemm.h"

namespace tessel::cli {

// Prints to `out`; with a non-empty `json_path` also writes the result there as JSON.
void map_gemm_on_gpu(const arch::GpuSpec& spec, const workloads::Gemm& gemm, arch::DType dtype, size_t top,
                     const std::string& json_path, std::ostream& out);

}  // namespace tessel::cli
