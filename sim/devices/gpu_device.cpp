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
  if (settings.dataflow || settings.search_dataflows) throw SettingError("--dataflow: a GPU has no dataflow to choose");
  if (settings.objective != mapper::Objective::Latency) {
    throw SettingError("--objective " + std::string(mapper::to_string(settings.objective)) +
                       ": the GPU mapper minimises latency only");
  }
  if (settings.pinned) throw SettingError("--mapping: a GPU's GEMMs are mapped to thread blocks, not pinned");
  return settings;
}

OpResult GpuDevice::run(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  switch (op.kind) {
    case OpKind::Linear:
      return grouped_linear(op, facts_, settings, [&](const Op& one, const RunSettings& product) {
        const auto& s = one.shape_as<workloads::LinearShape>();
        const mapper::GpuGemm gemm{s.m, s.n, s.k, *product.dtype};
        return under_power_limit(
            [&](const arch::GpuSpec& spec, bool check) {
              return linear_result(spec, choose_gpu_gemm(spec, gemm, product.confirm), one, checked(product, check));
            },
            [&](const arch::GpuSpec& spec, bool) {
              return linear_result(spec, estimate_gpu_gemm(spec, gemm), one, checked(product, false));
            });
      });
    case OpKind::KvCacheRead: return kv_cache_read_by_attention(spec_.clock_hz);
    default: {
      const RunAt kernel = [&](const arch::GpuSpec& spec, bool check) {
        return run_kernel(spec, op, checked(settings, check));
      };
      return under_power_limit(kernel, kernel);
    }
  }
}

OpResult GpuDevice::at_clock(const RunAt& run, double hz, bool check) const {
  const double nominal = spec_.clock_hz;
  arch::GpuSpec clocked = spec_;
  clocked.clock_hz = hz;
  OpResult result = run(clocked, check);
  const double seconds = result.seconds();
  if (hz != nominal) {
    // Every count of cycles in nominal ones; HBM, its latency and launches take the same seconds.
    const double to_nominal = nominal / hz;
    const auto rescale = [&](uint64_t cycles) {
      return static_cast<uint64_t>(std::ceil(static_cast<double>(cycles) * to_nominal - 1e-9));
    };
    result.cycles = rescale(result.cycles);
    result.array_busy_cycles = rescale(result.array_busy_cycles);
    result.vector_busy_cycles = rescale(result.vector_busy_cycles);
    result.dram_busy_cycles *= to_nominal;
    result.roofline.memory_cycles = rescale(result.roofline.memory_cycles);  // compute's stays the nominal peak's
    result.utilization /= to_nominal;
    result.clock_hz = nominal;
    const double scale = arch::core_energy_scale(hz, nominal);
    result.energy.mac_pj *= scale;
    result.energy.sram_pj *= scale;
    result.energy.vector_pj *= scale;
  }
  result.core_clock_hz = hz;
  if (spec_.power) result.energy.static_pj = arch::static_pj(*spec_.power, seconds);
  return result;
}

OpResult GpuDevice::under_power_limit(const RunAt& run_at, const RunAt& estimate_at) const {
  const double nominal = spec_.clock_hz;
  OpResult result = at_clock(run_at, nominal, true);
  if (!spec_.power || !spec_.power->limit_w) return result;
  const double limit = *spec_.power->limit_w;
  if (result.power_w() <= limit) return result;
  const NumericsReport numerics = result.numerics;  // the clock changes no value
  // Search on the cheap guess, its time scaled to the run's at the nominal clock; then run once
  // at the clock found, searching on full runs only if that still draws too much.
  const double scale = result.seconds() / at_clock(estimate_at, nominal, false).seconds();
  const auto guessed_power = [&](double hz) {
    const OpResult guess = at_clock(estimate_at, hz, false);
    return spec_.power->static_w + (guess.energy.total_pj() - guess.energy.static_pj) * 1e-12 /
                                       (guess.seconds() * scale);
  };
  result = at_clock(run_at, arch::power_limited_clock(*spec_.power, nominal, guessed_power), false);
  if (result.power_w() > limit) {
    const auto run_power = [&](double hz) { return at_clock(run_at, hz, false).power_w(); };
    result = at_clock(run_at, arch::power_limited_clock(*spec_.power, nominal, run_power), false);
  }
  result.numerics = numerics;
  return result;
}

uint64_t GpuDevice::transactions(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  if (op.kind != OpKind::Linear) return 0;  // the other kernels are costed in closed form
  const auto& s = op.shape_as<workloads::LinearShape>();
  return gpu_gemm_transactions(mapper::rank_gpu_gemm(spec_, {s.m, s.n, s.k, *settings.dtype}).front());
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
  const double busiest_macs = static_cast<double>(plan.waves) * block_macs;
  result.array_busy_cycles = static_cast<uint64_t>(std::ceil(arch::gpu::tensor_cycles(spec, dtype, busiest_macs)));
  const auto written = static_cast<uint64_t>(static_cast<double>(s.m * s.n) * arch::gpu::gemm_output_bytes(dtype));
  result.activity.macs = op.macs();
  result.activity.dram_write_bytes = written;
  result.activity.dram_read_bytes = run.hbm_bytes > written ? run.hbm_bytes - written : 0;
  result.dram_busy_cycles = run.hbm_busy_cycles;
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] = static_cast<uint64_t>(plan.l2_bytes);
  result.energy = arch::energy_of(spec, dtype, result.activity);
  const double macs = static_cast<double>(op.macs());
  const double peak = spec.peak_macs_per_cycle(dtype);
  const double bytes = static_cast<double>((s.m * s.k + s.k * s.n) * arch::bytes_of(dtype)) +
                       static_cast<double>(written);
  result.roofline = roofline_floors(macs / peak, bytes / spec.hbm_peak_bytes_per_cycle());
  result.utilization = macs / (static_cast<double>(std::max<uint64_t>(run.cycles, 1)) * peak);
  const double slots = static_cast<double>(arch::ceil_div(s.m, plan.tile.m) * plan.tile.m) *
                       static_cast<double>(arch::ceil_div(s.n, plan.tile.n) * plan.tile.n) * static_cast<double>(s.k);
  result.mapping_efficiency = static_cast<double>(s.m * s.n * s.k) / slots;
  result.mapping = plan.describe();
  result.details.push_back(plan_details(plan, result.mapping));
  result.transactions = choice.transactions;
  result.numerics = check_linear(settings, {s.m, s.n, s.k, dtype, plan.tile.k, settings.seed});
  return result;
}

OpResult GpuDevice::run_kernel(const arch::GpuSpec& spec, const Op& op, const RunSettings& settings) const {
  const arch::DType dtype = *settings.dtype;
  const mapper::GpuKernelPlan plan = mapper::plan_gpu_kernel(spec, op, dtype);
  OpResult result;
  result.cycles = static_cast<uint64_t>(std::ceil(plan.cycles));
  result.clock_hz = spec.clock_hz;
  result.activity.macs = op.macs();
  result.activity.dram_read_bytes = static_cast<uint64_t>(plan.read_bytes);
  result.activity.dram_write_bytes = static_cast<uint64_t>(plan.written_bytes);
  result.activity.vector_alu_ops = plan.alu_ops;
  result.activity.vector_special_ops = plan.special_ops;
  // Every HBM byte reaches the SMs through L2.
  result.activity.buffer_read_bytes[static_cast<size_t>(arch::Operand::Input)] =
      static_cast<uint64_t>(plan.read_bytes + plan.written_bytes);
  result.energy = arch::energy_of(spec, dtype, result.activity);
  const double cuda_cores = spec.fp32_ops_per_cycle_per_sm * spec.sms;
  const double peak = spec.peak_macs_per_cycle(dtype);
  const double compute = std::max({plan.macs / peak, plan.alu_ops / cuda_cores,
                                   plan.special_ops / (spec.special_ops_per_cycle_per_sm * spec.sms)});
  result.roofline = roofline_floors(compute, (plan.read_bytes + plan.written_bytes) / spec.hbm_peak_bytes_per_cycle());
  const double cycles = static_cast<double>(result.cycles);
  result.utilization = plan.macs > 0 ? plan.macs / (cycles * peak) : plan.alu_ops / (cycles * cuda_cores);
  result.mapping = plan.describe();
  result.numerics = check_non_linear_op(op, settings);
  return result;
}

arch::EnergyBreakdown GpuDevice::energy(const arch::Activity& activity, arch::DType dtype) const {
  return arch::energy_of(spec_, dtype, activity);
}

}  // namespace tessel::sim
