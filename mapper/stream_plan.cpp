#include "mapper/stream_plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "arch/systolic/tile_work.h"
#include "arch/vector/vector_cost.h"

namespace tessel::mapper {

namespace {

using workloads::OpKind;

// floor(total · end / units) − floor(total · begin / units), exact while units < 2^32.
uint64_t share(uint64_t total, uint64_t begin, uint64_t end, uint64_t units) {
  const auto at = [&](uint64_t position) {
    return total / units * position + total % units * position / units;
  };
  return at(end) - at(begin);
}

struct MatrixWork {
  uint64_t cycles = 0;
};

// An m×n×k product laid on one array as a single tile: the folds it needs and the cycles the
// core's buffer ports need to feed it, whichever is longer.
MatrixWork product_on_array(const arch::SystolicSpec& spec, arch::Dataflow dataflow, double macs_per_pe,
                            double operand_bytes, uint64_t m, uint64_t n, uint64_t k) {
  arch::ArraySpec array = spec.array;
  array.dataflow = dataflow;
  const arch::TileWork work = arch::tile_work(array, macs_per_pe, operand_bytes, m, n, k, false);
  return {std::max(work.compute_cycles, arch::buffer_port_cycles(spec, work.accesses))};
}

// One unit's products (m, n, k each) on the best allowed dataflow.
template <size_t N>
MatrixWork unit_matrix_work(const arch::SystolicSpec& spec, arch::DType dtype, bool search_dataflows,
                            const uint64_t (&products)[N][3]) {
  const double macs_per_pe = spec.find_dtype(dtype)->macs_per_pe_per_cycle;
  MatrixWork best{};
  bool first = true;
  for (const arch::Dataflow dataflow : {arch::Dataflow::OutputStationary, arch::Dataflow::WeightStationary,
                                       arch::Dataflow::InputStationary}) {
    if (!search_dataflows && dataflow != spec.array.dataflow) continue;
    MatrixWork total{};
    for (const auto& p : products) {
      const MatrixWork work =
          product_on_array(spec, dataflow, macs_per_pe, arch::element_bytes(dtype), p[0], p[1], p[2]);
      total.cycles += work.cycles;
    }
    if (first || total.cycles < best.cycles) best = total;
    first = false;
  }
  return best;
}

// The op's vector work as one task over its data. Row-wise ops read every input operand in
// each pass (two for SiLU-and-multiply and residual adds); attention's online softmax reads
// the fp32 scores the arrays leave in the buffer and writes the weights back for P·V.
arch::VectorTask vector_task(const workloads::Op& op, arch::DType dtype) {
  const auto work = op.vector_work();
  if (!work || work->elements == 0) return {};
  const double elements = static_cast<double>(work->elements);
  arch::VectorTask task{};
  task.elements = work->elements;
  task.alu_ops_per_element = static_cast<double>(work->alu_ops()) / elements;
  task.special_ops_per_element = static_cast<double>(work->special_ops()) / elements;
  if (op.kind == OpKind::Attention || op.kind == OpKind::AttentionBackward) {
    task.element_bytes = arch::kAccumulatorBytes;
    task.passes = static_cast<double>(work->passes);
    task.bytes_written = work->elements * arch::kAccumulatorBytes;
  } else {
    const workloads::ElementCounts counts = op.elements();
    task.element_bytes = op.element_bytes(dtype);
    task.passes = static_cast<double>(work->passes) * static_cast<double>(counts.read) / elements;
    task.bytes_written = op.bytes(dtype).written;
  }
  return task;
}

// Matrix products stream in blocks of this many keys (attention) or columns (batched
// matmuls), as flash-style kernels tile them: fine enough that a long KV cache streams in
// many chunks, coarse enough that each block fills the arrays' columns.
constexpr uint64_t kBlockColumns = 512;

uint64_t blocks(uint64_t columns) { return arch::ceil_div(columns, kBlockColumns); }

// An optimizer step streams its parameters in units of this many: each parameter's update is
// independent, so any split works; this one gives the cores even shares of large tensors.
constexpr uint64_t kParametersPerUnit = 4096;

uint64_t units_of(const workloads::Op& op) {
  switch (op.kind) {
    case OpKind::BatchedMatmul: {
      const auto& s = op.shape_as<workloads::BatchedMatmulShape>();
      return s.batch / s.b_shared_by * blocks(s.n);
    }
    case OpKind::Attention:
    case OpKind::AttentionBackward: {
      const auto& s = op.shape_as<workloads::AttentionShape>();
      return s.batch * s.kv_heads * blocks(s.kv_len);
    }
    case OpKind::KvCacheAppend: {
      const auto& s = op.shape_as<workloads::KvCacheShape>();
      return s.batch * s.tokens;
    }
    case OpKind::Embedding:
    case OpKind::EmbeddingBackward:
      return op.shape_as<workloads::EmbeddingShape>().tokens;
    case OpKind::Softmax:
    case OpKind::SoftmaxBackward:
      return op.shape_as<workloads::SoftmaxShape>().rows;
    case OpKind::Dropout:
    case OpKind::DropoutBackward:
      return op.shape_as<workloads::DropoutShape>().rows;
    case OpKind::Softcap:
    case OpKind::SoftcapBackward:
      return op.shape_as<workloads::SoftcapShape>().rows;
    case OpKind::AdamW:
    case OpKind::GradientNorm:
    case OpKind::GradientUnscale:
      return arch::ceil_div(op.shape_as<workloads::OptimizerShape>().parameters, kParametersPerUnit);
    case OpKind::Rope: {
      const auto& s = op.shape_as<workloads::RopeShape>();
      return s.tokens * s.heads;
    }
    default:
      return op.shape_as<workloads::RowsShape>().rows;
  }
}

// One unit's matrix work (a block of columns or keys), cut `ways` ways (as flash-decoding
// splits keys) so that `ways` arrays share it. Query heads that share a K/V head are one
// product with their rows stacked, as GQA kernels compute them, so a group reads its K and V
// once.
MatrixWork matrix_work_of(const arch::SystolicSpec& spec, const workloads::Op& op, arch::DType dtype,
                          bool search_dataflows, uint64_t ways) {
  if (op.kind == OpKind::BatchedMatmul) {
    const auto& s = op.shape_as<workloads::BatchedMatmulShape>();
    const uint64_t columns = arch::ceil_div(s.n, blocks(s.n) * ways);
    const uint64_t products[1][3] = {{s.m * s.b_shared_by, columns, s.k}};
    return unit_matrix_work(spec, dtype, search_dataflows, products);
  }
  if (op.kind == OpKind::Attention || op.kind == OpKind::AttentionBackward) {
    const auto& s = op.shape_as<workloads::AttentionShape>();
    const uint64_t rows = s.q_len * (s.heads / s.kv_heads);
    const uint64_t keys = arch::ceil_div(s.kv_len, blocks(s.kv_len) * ways);
    // Forward: S = Q·Kᵀ and O = P·V. Backward (FlashAttention-2): S again, dP = dO·Vᵀ,
    // dV = Pᵀ·dO, dQ = dS·K and dK = dSᵀ·Q.
    const uint64_t forward[2][3] = {{rows, keys, s.head_dim}, {rows, s.head_dim, keys}};
    const uint64_t backward[5][3] = {{rows, keys, s.head_dim}, {rows, keys, s.head_dim}, {keys, s.head_dim, rows},
                                     {rows, s.head_dim, keys}, {keys, s.head_dim, rows}};
    MatrixWork work = op.kind == OpKind::Attention ? unit_matrix_work(spec, dtype, search_dataflows, forward)
                                                    : unit_matrix_work(spec, dtype, search_dataflows, backward);
    if (s.causal) {
      // Blocks wholly above the diagonal (or before a sliding window) are skipped: the work
      // scales with the visible pairs.
      work.cycles = arch::ceil_div(work.cycles * workloads::attended_pairs(s), s.q_len * s.kv_len);
    }
    return work;
  }
  return {};
}

// The op's vector work with `ops` more ALU ops; an op with none streams its operands through
// the vector unit once for them.
arch::VectorTask with_alu_ops(arch::VectorTask task, const workloads::Op& op, uint64_t operand_elements,
                              arch::DType dtype, uint64_t ops) {
  if (ops == 0) return task;
  if (task.elements == 0) {
    task.elements = operand_elements;
    task.element_bytes = op.element_bytes(dtype);
    task.passes = 1;
    task.bytes_written = op.bytes(dtype).written;
  }
  task.alu_ops_per_element += static_cast<double>(ops) / static_cast<double>(task.elements);
  return task;
}

// Cycles the busiest core needs for its share of the matrix and vector work, the arrays and
// the vector unit working side by side.
double busiest_core_cycles(const arch::SystolicSpec& spec, const StreamPlan& plan, const arch::VectorTask& vector) {
  const uint64_t units = arch::ceil_div(plan.units, spec.cores);
  const double share = static_cast<double>(units) / static_cast<double>(plan.units);
  const double vector_cycles =
      vector.elements == 0 ? 0.0 : static_cast<double>(arch::vector_cost(spec.vector_unit, vector).cycles) * share;
  const uint64_t array_cycles = std::min(arch::ceil_div(units, plan.arrays_per_core) * plan.unit_array_cycles,
                                         units * plan.unit_split_array_cycles);
  return std::max(vector_cycles, static_cast<double>(array_cycles));
}

}  // namespace

StreamChunk StreamPlan::chunk(uint64_t first, uint64_t count) const {
  const uint64_t end = first + count;
  StreamChunk c;
  c.load_bytes = share(load_bytes, first, end, units);
  c.store_bytes = share(store_bytes, first, end, units);
  c.macs = share(macs, first, end, units);
  // Either schedule is open to the kernel: whole units in waves over the arrays, or each unit
  // cut across all of them in turn.
  c.array_cycles = std::min(arch::ceil_div(count, arrays_per_core) * unit_array_cycles, count * unit_split_array_cycles);
  if (vector.elements > 0) {
    c.vector = vector;
    c.vector.elements = share(vector.elements, first, end, units);
    c.vector.bytes_written = share(vector.bytes_written, first, end, units);
  }
  return c;
}

uint64_t StreamPlan::core_first_unit(uint32_t core, uint32_t cores) const {
  return share(units, 0, core, cores);
}

uint64_t StreamPlan::core_units(uint32_t core, uint32_t cores) const {
  return share(units, core, core + 1, cores);
}

uint64_t stream_chunk_bytes(const arch::SystolicSpec& spec) {
  constexpr uint64_t kMaxChunkBytes = uint64_t{1} << 20;
  const uint64_t quarter = spec.buffer_for(arch::Operand::Input).capacity_bytes / 4;
  return std::max<uint64_t>(1, std::min(kMaxChunkBytes, quarter));
}

StreamPlan plan_stream(const arch::SystolicSpec& spec, const workloads::Op& op, arch::DType dtype,
                       bool search_dataflows) {
  if (op.kind == OpKind::Linear || op.kind == OpKind::KvCacheRead || workloads::is_communication(op.kind)) {
    throw std::invalid_argument("op '" + op.name + "': a " + workloads::kind_name(op.kind) +
                                " is not streamed on its own (the GEMM engine runs a Linear; the attention "
                                "kernels read the KV cache; links move data between devices)");
  }
  if (spec.find_dtype(dtype) == nullptr) {
    throw std::invalid_argument("architecture '" + spec.name + "' does not support " +
                                std::string(arch::to_string(dtype)));
  }
  StreamPlan plan;
  plan.units = units_of(op);
  plan.arrays_per_core = spec.arrays_per_core;
  const workloads::ElementCounts counts = op.elements();
  const workloads::ByteCounts bytes = op.bytes(dtype);
  plan.load_bytes = bytes.read + op.cache_bytes(dtype);
  plan.store_bytes = bytes.written;
  plan.macs = op.macs();
  plan.unit_array_cycles = matrix_work_of(spec, op, dtype, search_dataflows, 1).cycles;
  plan.unit_split_array_cycles = matrix_work_of(spec, op, dtype, search_dataflows, spec.arrays_per_core).cycles;
  const uint64_t operand_elements = counts.read + workloads::cache_elements(op);
  plan.vector = with_alu_ops(vector_task(op, dtype), op, operand_elements, dtype, op.cache_conversion_ops(dtype));
  if (plan.macs > 0) {
    // Products with few rows (decode attention: one query a head) keep a systolic array busy
    // loading its stationary operand for a single streamed row; a kernel runs them on the
    // vector unit when that is faster.
    // Two ALU ops (multiply, add) a MAC on the vector unit.
    const arch::VectorTask on_vector = with_alu_ops(plan.vector, op, operand_elements, dtype, 2 * plan.macs);
    StreamPlan vector_only = plan;
    vector_only.unit_array_cycles = 0;
    vector_only.unit_split_array_cycles = 0;
    if (busiest_core_cycles(spec, vector_only, on_vector) < busiest_core_cycles(spec, plan, plan.vector)) {
      plan = vector_only;
      plan.vector = on_vector;
      plan.matrix_on_vector_unit = true;
    }
  }

  const uint64_t unit_bytes = arch::ceil_div(plan.load_bytes + plan.store_bytes, plan.units);
  uint64_t per_chunk = unit_bytes == 0 ? plan.units : std::max<uint64_t>(1, stream_chunk_bytes(spec) / unit_bytes);
  if (plan.unit_array_cycles > 0 && per_chunk >= plan.arrays_per_core) {
    per_chunk -= per_chunk % plan.arrays_per_core;  // whole waves over the core's arrays
  }
  plan.units_per_chunk = std::min(per_chunk, plan.units);
  return plan;
}

}  // namespace tessel::mapper
