#include "mapper/kernel_work.h"

#include <stdexcept>

namespace tessel::mapper {

uint64_t parallel_items(const workloads::Op& op, const ItemBlocking& b) {
  if (const auto* s = std::get_if<workloads::AttentionShape>(&op.shape)) {
    if (op.kind == workloads::OpKind::AttentionBackward) {
      return s->batch * s->heads * arch::ceil_div(s->kv_len, b.backward_keys);
    }
    const uint64_t query_blocks = arch::ceil_div(s->q_len, b.queries);
    const uint64_t key_blocks = s->q_len < b.queries ? arch::ceil_div(s->kv_len, b.decode_keys) : 1;
    return s->batch * s->heads * query_blocks * key_blocks;
  }
  if (const auto* s = std::get_if<workloads::BatchedMatmulShape>(&op.shape)) {
    return s->batch * arch::ceil_div(s->m, b.matmul_tile) * arch::ceil_div(s->n, b.matmul_tile);
  }
  return 0;
}

KernelWork kernel_work(const workloads::Op& op, arch::DType dtype) {
  if (op.kind == workloads::OpKind::Linear || workloads::is_communication(op.kind)) {
    throw std::invalid_argument("op '" + op.name + "': a " + workloads::kind_name(op.kind) +
                                " is not a kernel of its own kind (the GEMM mapper plans a Linear; links run "
                                "collectives)");
  }
  KernelWork work;
  const workloads::ByteCounts bytes = op.bytes(dtype);
  work.read_bytes = static_cast<double>(bytes.read + op.cache_bytes(dtype));
  work.written_bytes = static_cast<double>(bytes.written);
  if (const auto vector = op.vector_work()) {
    work.alu_ops = static_cast<double>(vector->alu_ops());
    work.special_ops = static_cast<double>(vector->special_ops());
  }
  work.alu_ops += static_cast<double>(op.cache_conversion_ops(dtype));
  work.macs = static_cast<double>(op.macs());
  return work;
}

}  // namespace tessel::mapper
