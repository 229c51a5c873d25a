#include "mapper/cpu_kernel_plan.h"

#include <algorithm>
#include <stdexcept>

#include "arch/cpu/cpu_timing.h"
#include "mapper/kernel_work.h"
#include "mapper/kernel_work.h"

namespace tessel::mapper {

namespace {

using workloads::Op;

// CPU flash-attention kernels' blocks (64 queries, 512 keys a decode item) and a 64 x 64 tile.
constexpr ItemBlocking kWorkItems{64, 512, 64, 64};

}  // namespace

std::string CpuKernelPlan::describe() const {
  return work.macs > 0 ? engine + " kernel, " + std::to_string(work_items) + " work items" : "bandwidth-bound kernel";
}

CpuKernelPlan plan_cpu_kernel(const arch::CpuSpec& spec, const Op& op, arch::DType dtype) {
  CpuKernelPlan plan;
  plan.work = kernel_work(op, dtype);
  const KernelWork& work = plan.work;
  plan.busy_cycles =
      arch::cpu::streaming_cycles(spec, work.read_bytes + work.written_bytes, work.alu_ops, work.special_ops);
  if (work.macs > 0) {
    const arch::CpuMatrixEngine* engine = spec.fastest_engine(dtype);
    if (!engine) {
      throw std::invalid_argument(spec.name + " has no engine that multiplies " + std::string(arch::to_string(dtype)));
    }
    plan.engine = engine->name;
    // Items run in waves over the cores, each doing its share of the products and then of the
    // vector work: an item's softmax waits for its scores, its second product for the softmax.
    plan.work_items = parallel_items(op, kWorkItems);
    const uint64_t items = std::max<uint64_t>(plan.work_items, 1);
    const double waves = static_cast<double>(arch::ceil_div(items, spec.cores()));
    const double per_item = 1.0 / static_cast<double>(items);
    const double item_cycles = arch::cpu::engine_cycles(*engine, dtype, work.macs * per_item) +
                               work.alu_ops * per_item / spec.fp32_ops_per_cycle_per_core +
                               work.special_ops * per_item / spec.special_ops_per_cycle_per_core;
    plan.busy_cycles = std::max(plan.busy_cycles, waves * item_cycles);
  }
  plan.cycles = arch::cpu::parallel_overhead_cycles(spec) + plan.busy_cycles;
  return plan;
}

}  // namespace tessel::mapper
