#include "sim/devices/cpu_device.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "arch/cpu/cpu_energy.h"
#include "arch/cpu/cpu_timing.h"
#include "mapper/cpu_kernel_plan.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

RunSettings checked(RunSettings settings, bool check) {
  if (!check) settings.check = CheckMode::Never;
  return settings;
}

StatGroup plan_details(const mapper::CpuGemmPlan& p, const std::string& mapping) {
  StatGroup group("mapping", "the CPU mapper's choice");
  group.add("mapping", mapping, "engine, block of C and K step, waves")
      .add("blocks", p.blocks, "count", "blocks of C")
      .add("waves", p.waves, "count", "blocks on the busiest core")
      .add("active_cores", uint64_t{p.active_cores}, "count", "cores given at least one block")
      .add("analytic_cycles", p.cycles, "cycles", "the mapper's closed-form estimate")
      .add("l3_bytes", p.l3_bytes, "bytes", "panels of A and B loaded into the cores' L2, every block")
      .add("dram_bytes", p.dram_bytes, "bytes", "after L3 reuse across blocks, and C");
  return group;
}

}  // namespace

CpuDevice::CpuDevice(arch::CpuSpec spec) : spec_(std::move(spec)) {
  facts_.kind = "cpu";
  facts_.name = spec_.name;
  facts_.source_file = spec_.source_file;
  facts_.clock_hz = spec_.clock_hz;
  facts_.power = spec_.power;
  facts_.launch_gap_s = spec_.parallel_overhead_s;
  for (const arch::DType dtype : spec_.formats()) facts_.peaks.push_back({dtype, spec_.peak_macs_per_cycle(dtype)});
  facts_.memories.push_back({"l1d", "per core", spec_.l1d_bytes_per_core, std::nullopt});
  facts_.memories.push_back({"l2", "per core", spec_.l2_bytes_per_core, spec_.l2_bytes_per_cycle_per_core});
  facts_.memories.push_back({"l3", "device", spec_.l3_bytes(), spec_.l3_bytes_per_cycle_per_core * spec_.cores()});
  MemoryLevel ddr{"ddr", "device", std::nullopt, spec_.ddr_peak_bytes_per_cycle()};
  if (spec_.ddr_capacity_bytes() > 0) ddr.capacity_bytes = spec_.ddr_capacity_bytes();
  facts_.memories.push_back(ddr);
}

RunSettings CpuDevice::configure(RunSettings settings) {
  settings.dtype = resolve_dtype(facts_, settings.dtype, spec_.source_file + " gives none of its engines a rate for it");
  refuse_array_mapping_choices(settings, "a CPU", "blocked for its caches");
  return settings;
}

OpResult CpuDevice::run(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  switch (op.kind) {
    case OpKind::Linear:
      return grouped_linear(op, facts_, settings, [&](const Op& one, const RunSettings& product) {
        const auto& s = one.shape_as<workloads::LinearShape>();
        const mapper::CpuGemm gemm{s.m, s.n, s.k, *product.dtype, one.weight_storage, one.weight_sparsity};
        return clock_.under_power_limit(
            [&](const arch::CpuSpec& spec, bool check) {
              return linear_result(spec, choose_cpu_gemm(spec, gemm, product.confirm), one, checked(product, check));
            },
            [&](const arch::CpuSpec& spec, bool) {
              return linear_result(spec, estimate_cpu_gemm(spec, gemm), one, checked(product, false));
            });
      });
    case OpKind::KvCacheRead: return kv_cache_read_by_attention(spec_.clock_hz);
    default: {
      const PowerLimitedRun<arch::CpuSpec>::RunAt kernel = [&](const arch::CpuSpec& spec, bool check) {
        return run_kernel(spec, op, checked(settings, check));
      };
      return clock_.under_power_limit(kernel, kernel);
    }
  }
}

uint64_t CpuDevice::transactions(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  if (op.kind != OpKind::Linear) return 0;  // the other regions are costed in closed form
  const auto& s = op.shape_as<workloads::LinearShape>();
  const arch::DType dtype = linear_format(op, facts_, settings);
  return cpu_gemm_transactions(
      mapper::map_cpu_gemm(spec_, {s.m, s.n, s.k, dtype, op.weight_storage, op.weight_sparsity}));
}

OpResult CpuDevice::linear_result(const arch::CpuSpec& spec, const CpuGemmChoice& choice, const Op& op,
                                  const RunSettings& settings) const {
  const auto& s = op.shape_as<workloads::LinearShape>();
  const arch::DType dtype = *settings.dtype;
  const mapper::CpuGemmPlan& plan = choice.plan;
  const arch::CpuMatrixEngine& engine = spec.engines.at(plan.engine);
  OpResult result;
  result.cycles = choice.run.cycles;
  result.clock_hz = spec.clock_hz;
  // The busiest core's engine: its blocks' padded MACs at the sustained rate.
  const double core_macs = plan.padded_macs / static_cast<double>(plan.blocks) * static_cast<double>(plan.waves);
  result.array_busy_cycles = static_cast<uint64_t>(std::ceil(arch::cpu::engine_cycles(engine, dtype, core_macs)));
  const auto written = static_cast<uint64_t>(static_cast<double>(s.m * s.n) * arch::gemm_output_bytes(dtype));
  result.activity.macs = op.macs();
  // B unpacked in every block that loads it.
  const mapper::CpuGemm gemm{s.m, s.n, s.k, dtype, op.weight_storage, op.weight_sparsity};
  result.activity.vector_alu_ops = static_cast<double>(arch::ceil_div(s.m, plan.block.m) * s.n * s.k) *
                                   mapper::dequant_lane_ops_per_element(gemm);
  result.activity.dram_write_bytes = written;
  result.activity.dram_read_bytes = choice.run.dram_bytes > written ? choice.run.dram_bytes - written : 0;
  result.dram_busy_cycles = choice.run.dram_busy_cycles;
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] = static_cast<uint64_t>(plan.l3_bytes);
  result.energy = arch::energy_of(spec, dtype, result.activity, &engine);
  const double macs = static_cast<double>(op.macs());
  const double peak = spec.peak_macs_per_cycle(dtype);
  const double bytes = static_cast<double>(op.bytes(dtype).read + written);
  result.roofline = roofline_floors(macs / peak, bytes / spec.ddr_peak_bytes_per_cycle());
  result.utilization = macs / (static_cast<double>(std::max<uint64_t>(result.cycles, 1)) * peak);
  result.mapping_efficiency = macs / plan.padded_macs;
  result.mapping = plan.describe();
  result.details.push_back(plan_details(plan, result.mapping));
  result.transactions = choice.transactions;
  result.numerics = check_linear(
      settings, {s.m, s.n, s.k, dtype, plan.block.k, settings.seed, op.weight_storage, settings.unquantized_dtype,
                 op.weight_sparsity});
  return result;
}

OpResult CpuDevice::run_kernel(const arch::CpuSpec& spec, const Op& op, const RunSettings& settings) const {
  const arch::DType dtype = *settings.dtype;
  const mapper::CpuKernelPlan plan = mapper::plan_cpu_kernel(spec, op, dtype);
  OpResult result;
  result.cycles = static_cast<uint64_t>(std::ceil(plan.cycles));
  result.clock_hz = spec.clock_hz;
  result.activity.macs = op.macs();
  result.activity.dram_read_bytes = static_cast<uint64_t>(plan.work.read_bytes);
  result.activity.dram_write_bytes = static_cast<uint64_t>(plan.work.written_bytes);
  result.activity.vector_alu_ops = plan.work.alu_ops;
  result.activity.vector_special_ops = plan.work.special_ops;
  // Every DDR byte reaches the cores through the L3.
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] =
      static_cast<uint64_t>(plan.work.read_bytes + plan.work.written_bytes);
  result.energy = arch::energy_of(spec, dtype, result.activity);
  const double lanes = spec.fp32_ops_per_cycle_per_core * spec.cores();
  const double peak = plan.work.macs > 0 ? spec.peak_macs_per_cycle(dtype) : 0.0;
  const double compute = std::max({plan.work.macs > 0 ? plan.work.macs / peak : 0.0, plan.work.alu_ops / lanes,
                                   plan.work.special_ops / (spec.special_ops_per_cycle_per_core * spec.cores())});
  result.roofline = roofline_floors(compute, (plan.work.read_bytes + plan.work.written_bytes) / spec.ddr_peak_bytes_per_cycle());
  const double cycles = static_cast<double>(std::max<uint64_t>(result.cycles, 1));
  result.utilization = plan.work.macs > 0 ? plan.work.macs / (cycles * peak) : plan.work.alu_ops / (cycles * lanes);
  result.mapping = plan.describe();
  result.numerics = check_non_linear_op(op, settings);
  return result;
}

arch::EnergyBreakdown CpuDevice::energy(const arch::Activity& activity, arch::DType dtype) const {
  return arch::energy_of(spec_, dtype, activity);
}

}  // namespace tessel::sim
