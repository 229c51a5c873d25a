#include "mapper/gpu_streaming_op.h"

#include <optional>
#include <stdexcept>

#include "arch/gpu/gpu_timing.h"

namespace tessel::mapper {

double gpu_streaming_op_cycles(const arch::GpuSpec& spec, const workloads::Op& op, arch::DType dtype) {
  const std::optional<workloads::VectorWork> work = op.vector_work();
  if (!work) throw std::invalid_argument(op.name + " (" + workloads::kind_name(op.kind) + ") has no vector work");
  const workloads::ElementCounts elements = op.elements();
  const double bytes = static_cast<double>(elements.read + elements.written) * arch::bytes_of(dtype);
  return arch::gpu::launch_overhead_cycles(spec) +
         arch::gpu::streaming_kernel_cycles(spec, bytes, static_cast<double>(work->alu_ops()),
                                            static_cast<double>(work->special_ops()));
}

}  // namespace tessel::mapper
