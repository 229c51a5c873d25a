#include "mapper/kernel_work.h"

#include <stdexcept>

namespace tessel::mapper {

KernelWork kernel_work(const workloads::Op& op, arch::DType dtype) {
  if (op.kind == workloads::OpKind::Linear || workloads::is_communication(op.kind)) {
    throw std::invalid_argument("op '" + op.name + "': a " + workloads::kind_name(op.kind) +
                                " is not a kernel of its own kind (the GEMM mapper plans a Linear; links run "
                                "collectives)");
  }
  KernelWork work;
  const workloads::ByteCounts bytes = op.bytes(dtype);
  work.read_bytes = static_cast<double>(bytes.read + workloads::cache_elements(op) * op.element_bytes(dtype));
  work.written_bytes = static_cast<double>(bytes.written);
  if (const auto vector = op.vector_work()) {
    work.alu_ops = static_cast<double>(vector->alu_ops());
    work.special_ops = static_cast<double>(vector->special_ops());
  }
  work.macs = static_cast<double>(op.macs());
  return work;
}

}  // namespace tessel::mapper
