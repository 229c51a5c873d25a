#include "sim/devices/gpu_device.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "arch/gpu/gpu_energy.h"
#include "arch/gpu/gpu_timing.h"
#include "arch/power.h"
#include "mapper/gpu_kernel_plan.h"
#include "mapper/gpu_mapper.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

RunSettings checked(RunSettings settings, bool check) {
  if (!check) settings.check = CheckMode::Never;
  return settings;
}

// The stats of a GEMM's thread-block plan.
StatGroup plan_details(const mapper::GpuGemmPlan& p, const std::string& mapping) {
  StatGroup group("mapping", "the GPU mapper's choice");
  group.add("mapping", mapping, "thread-block tile, pipeline stages, split-K, waves")
      .add("thread_blocks", p.thread_blocks, "count", "tiles of C times split-K")
      .add("resident_blocks", uint64_t{p.resident}, "count", "thread blocks an SM runs at once")
      .add("waves", p.waves, "count", "thread blocks on the busiest SM")
      .add("active_sms", uint64_t{p.active_sms}, "count", "SMs given at least one block")
      .add("analytic_cycles", p.cycles, "cycles", "the mapper's closed-form estimate")
      .add("l2_bytes", p.l2_bytes, "bytes", "A and B tiles loaded into shared memory, every block")
      .add("hbm_bytes", p.hbm_bytes, "bytes", "after L2 reuse across thread blocks");
  return group;
}

}  // namespace

GpuDevice::GpuDevice(arch::GpuSpec spec) : spec_(std::move(spec)) {
  facts_.kind = "gpu";
  facts_.name = spec_.name;
  facts_.source_file = spec_.source_file;
  facts_.clock_hz = spec_.clock_hz;
  facts_.power = spec_.power;
  facts_.launch_gap_s = spec_.launch_overhead_s;
  for (const arch::TensorRate& rate : spec_.tensor) {
    facts_.peaks.push_back({rate.dtype, spec_.peak_macs_per_cycle(rate.dtype)});
  }
  facts_.memories.push_back({"shared_memory", "per SM", spec_.shared_memory_bytes_per_sm,
                             spec_.shared_memory_bytes_per_cycle_per_sm});
  facts_.memories.push_back({"l2", "device", spec_.l2_bytes, spec_.l2_bytes_per_cycle});
  MemoryLevel hbm{"hbm", "device", std::nullopt, spec_.hbm_peak_bytes_per_cycle()};
  if (spec_.hbm_capacity_bytes > 0) hbm.capacity_bytes = spec_.hbm_capacity_bytes;
  facts_.memories.push_back(hbm);
}

RunSettings GpuDevice::configure(RunSettings settings) {
  settings.dtype = resolve_dtype(facts_, settings.dtype, spec_.source_file + " gives its tensor cores no rate for it");
  refuse_array_mapping_choices(settings, "a GPU", "mapped to thread blocks");
  return settings;
}

OpResult GpuDevice::run(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  switch (op.kind) {
    case OpKind::Linear:
      return grouped_linear(op, facts_, settings, [&](const Op& one, const RunSettings& product) {
        const auto& s = one.shape_as<workloads::LinearShape>();
        const mapper::GpuGemm gemm{s.m, s.n, s.k, *product.dtype, one.weight_storage, one.weight_sparsity};
        return clock_.under_power_limit(
            [&](const arch::GpuSpec& spec, bool check) {
              return linear_result(spec, choose_gpu_gemm(spec, gemm, product.confirm), one, checked(product, check));
            },
            [&](const arch::GpuSpec& spec, bool) {
              return linear_result(spec, estimate_gpu_gemm(spec, gemm), one, checked(product, false));
            });
      });
    case OpKind::KvCacheRead: return kv_cache_read_by_attention(spec_.clock_hz);
    default: {
      const PowerLimitedRun<arch::GpuSpec>::RunAt kernel = [&](const arch::GpuSpec& spec, bool check) {
        return run_kernel(spec, op, checked(settings, check));
      };
      return clock_.under_power_limit(kernel, kernel);
    }
  }
}

uint64_t GpuDevice::transactions(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  if (op.kind != OpKind::Linear) return 0;  // the other kernels are costed in closed form
  const auto& s = op.shape_as<workloads::LinearShape>();
  const arch::DType dtype = linear_format(op, facts_, settings);
  return gpu_gemm_transactions(
      mapper::rank_gpu_gemm(spec_, {s.m, s.n, s.k, dtype, op.weight_storage, op.weight_sparsity}).front());
}

OpResult GpuDevice::linear_result(const arch::GpuSpec& spec, const GpuGemmChoice& choice, const Op& op,
                                  const RunSettings& settings) const {
  const auto& s = op.shape_as<workloads::LinearShape>();
  const arch::DType dtype = *settings.dtype;
  const mapper::GpuGemmPlan& plan = choice.plan;
  const GpuGemmRun& run = choice.run;
  OpResult result;
  result.cycles = run.cycles;
  result.clock_hz = spec.clock_hz;
  // The busiest SM's tensor cores: its thread blocks' MACs at the sustained rate.
  const double block_macs =
      static_cast<double>(plan.tile.m) * plan.tile.n * plan.tile.k * static_cast<double>(plan.k_steps);
  const mapper::GpuGemm gemm{s.m, s.n, s.k, dtype, op.weight_storage, op.weight_sparsity};
  const double share = gemm.mac_share(spec);  // sparse tensor cores skip the pruned half
  const double busiest_macs = static_cast<double>(plan.waves) * block_macs * gemm.tensor_time_share(spec);
  result.array_busy_cycles = static_cast<uint64_t>(std::ceil(arch::gpu::tensor_cycles(spec, dtype, busiest_macs)));
  const auto written = static_cast<uint64_t>(static_cast<double>(s.m * s.n) * arch::gemm_output_bytes(dtype));
  result.activity.macs = static_cast<uint64_t>(std::llround(static_cast<double>(op.macs()) * share));
  // B unpacked in every thread block that loads it.
  result.activity.vector_alu_ops = static_cast<double>(arch::ceil_div(s.m, plan.tile.m) * s.n * s.k) *
                                   mapper::dequant_instructions_per_element(gemm);
  result.activity.dram_write_bytes = written;
  result.activity.dram_read_bytes = run.hbm_bytes > written ? run.hbm_bytes - written : 0;
  result.dram_busy_cycles = run.hbm_busy_cycles;
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] = static_cast<uint64_t>(plan.l2_bytes);
  result.energy = arch::energy_of(spec, dtype, result.activity);
  const double macs = static_cast<double>(result.activity.macs);
  const double peak = spec.peak_macs_per_cycle(dtype);
  const double bytes = static_cast<double>(op.bytes(dtype).read + written);
  result.roofline = roofline_floors(macs / peak, bytes / spec.hbm_peak_bytes_per_cycle());
  result.utilization = macs / (static_cast<double>(std::max<uint64_t>(run.cycles, 1)) * peak);
  const double slots = static_cast<double>(arch::ceil_div(s.m, plan.tile.m) * plan.tile.m) *
                       static_cast<double>(arch::ceil_div(s.n, plan.tile.n) * plan.tile.n) * static_cast<double>(s.k);
  result.mapping_efficiency = static_cast<double>(s.m * s.n * s.k) / slots;
  result.mapping = plan.describe();
  result.details.push_back(plan_details(plan, result.mapping));
  result.transactions = choice.transactions;
  result.numerics = check_linear(
      settings, {s.m, s.n, s.k, dtype, plan.tile.k, settings.seed, op.weight_storage, settings.unquantized_dtype,
                 op.weight_sparsity});
  return result;
}

OpResult GpuDevice::run_kernel(const arch::GpuSpec& spec, const Op& op, const RunSettings& settings) const {
  const arch::DType dtype = *settings.dtype;
  const mapper::GpuKernelPlan plan = mapper::plan_gpu_kernel(spec, op, dtype);
  OpResult result;
  result.cycles = static_cast<uint64_t>(std::ceil(plan.cycles));
  result.clock_hz = spec.clock_hz;
  result.activity.macs = op.macs();
  result.activity.dram_read_bytes = static_cast<uint64_t>(plan.work.read_bytes);
  result.activity.dram_write_bytes = static_cast<uint64_t>(plan.work.written_bytes);
  result.activity.vector_alu_ops = plan.work.alu_ops;
  result.activity.vector_special_ops = plan.work.special_ops;
  // Every HBM byte reaches the SMs through L2.
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] =
      static_cast<uint64_t>(plan.work.read_bytes + plan.work.written_bytes);
  result.energy = arch::energy_of(spec, dtype, result.activity);
  const double cuda_cores = spec.fp32_ops_per_cycle_per_sm * spec.sms;
  const double peak = spec.peak_macs_per_cycle(dtype);
  const double compute = std::max({plan.work.macs / peak, plan.work.alu_ops / cuda_cores,
                                   plan.work.special_ops / (spec.special_ops_per_cycle_per_sm * spec.sms)});
  result.roofline = roofline_floors(compute, (plan.work.read_bytes + plan.work.written_bytes) / spec.hbm_peak_bytes_per_cycle());
  const double cycles = static_cast<double>(result.cycles);
  result.utilization = plan.work.macs > 0 ? plan.work.macs / (cycles * peak) : plan.work.alu_ops / (cycles * cuda_cores);
  result.mapping = plan.describe();
  result.numerics = check_non_linear_op(op, settings);
  return result;
}

arch::EnergyBreakdown GpuDevice::energy(const arch::Activity& activity, arch::DType dtype) const {
  return arch::energy_of(spec_, dtype, activity);
}

}  // namespace tessel::sim
