#include "sim/device.h"

#include <limits>

#include "sim/devices/cpu_device.h"
#include "sim/devices/gpu_device.h"
#include "sim/devices/systolic_device.h"
#include "sim/numerics/op_check.h"

namespace tessel::sim {

double DeviceFacts::peak_macs_per_cycle(arch::DType dtype) const {
  for (const FormatPeak& peak : peaks) {
    if (peak.dtype == dtype) return peak.macs_per_cycle;
  }
  throw std::invalid_argument(name + " does not support " + std::string(arch::to_string(dtype)));
}

bool DeviceFacts::supports(arch::DType dtype) const {
  for (const FormatPeak& peak : peaks) {
    if (peak.dtype == dtype) return true;
  }
  return false;
}

namespace {

// One overload per kind of spec: the registry of device implementations.
std::unique_ptr<Device> device_for(const arch::SystolicSpec& spec) { return std::make_unique<SystolicDevice>(spec); }
std::unique_ptr<Device> device_for(const arch::GpuSpec& spec) { return std::make_unique<GpuDevice>(spec); }
std::unique_ptr<Device> device_for(const arch::CpuSpec& spec) { return std::make_unique<CpuDevice>(spec); }

}  // namespace

std::unique_ptr<Device> make_device(const arch::ArchSpec& spec) {
  return std::visit([](const auto& typed) { return device_for(typed); }, spec);
}

arch::DType resolve_dtype(const DeviceFacts& facts, std::optional<arch::DType> requested, const std::string& why_not) {
  if (!requested) return facts.peaks.front().dtype;
  if (arch::is_sub_byte(*requested)) {
    throw SettingError("--dtype " + std::string(arch::to_string(*requested)) +
                       ": not a run's format (its norms, attention and caches take 8 bits or more); --quant keeps "
                       "weights or the KV cache in it, and w4a4 multiplies the linears in it");
  }
  if (!facts.supports(*requested)) {
    throw SettingError("--dtype " + std::string(arch::to_string(*requested)) + ": " + why_not);
  }
  return *requested;
}

void refuse_array_mapping_choices(const RunSettings& settings, const std::string& device, const std::string& gemms) {
  if (settings.dataflow || settings.search_dataflows) {
    throw SettingError("--dataflow: " + device + " has no dataflow to choose");
  }
  if (settings.objective != mapper::Objective::Latency) {
    throw SettingError("--objective " + std::string(mapper::to_string(settings.objective)) + ": " + device +
                       "'s mapper minimises latency only");
  }
  if (settings.pinned) throw SettingError("--mapping: " + device + "'s GEMMs are " + gemms + ", not pinned");
}

arch::DType linear_format(const workloads::Op& op, const DeviceFacts& facts, const RunSettings& settings) {
  if (op.format && !facts.supports(*op.format)) {
    throw SettingError("op '" + op.name + "' multiplies in " + std::string(arch::to_string(*op.format)) + ", which " +
                       facts.name + " (" + facts.source_file + ") gives no rate for");
  }
  return op.format_in(*settings.dtype);
}

OpResult grouped_linear(const workloads::Op& op, const DeviceFacts& facts, const RunSettings& settings,
                        const std::function<OpResult(const workloads::Op&, const RunSettings&)>& run_one) {
  RunSettings product = settings;
  if (op.format) {
    product.unquantized_dtype = settings.dtype;
    product.dtype = linear_format(op, facts, settings);
  }
  workloads::LinearShape one = op.shape_as<workloads::LinearShape>();
  const uint64_t groups = one.groups;
  one.groups = 1;
  one.weights_held = 0;
  // Sparse inputs: the weight rows of the inputs nonzero in some token, gathered (Deja Vu,
  // PowerInfer); every kind multiplies over those alone.
  const uint64_t dense_k = one.k;
  const uint64_t dense_n = one.n;
  one.k = workloads::active_k(op);
  one.n = workloads::active_n(op);
  workloads::Op single = op;
  single.shape = one;
  single.input_density.reset();
  single.output_density.reset();
  OpResult result = run_one(single, product);
  if (one.k < dense_k) {
    result.mapping +=
        "; K gathered to " + std::to_string(one.k) + " of " + std::to_string(dense_k) + " (sparse inputs)";
  }
  if (one.n < dense_n) {
    result.mapping +=
        "; N gathered to " + std::to_string(one.n) + " of " + std::to_string(dense_n) + " (predicted neurons)";
  }
  if (groups == 1) return result;
  result.cycles *= groups;
  result.array_busy_cycles *= groups;
  result.vector_busy_cycles *= groups;
  result.dram_busy_cycles *= static_cast<double>(groups);
  result.activity = result.activity.times(groups);
  result.energy = result.energy.scaled(static_cast<double>(groups));
  result.roofline.compute_cycles *= groups;
  result.roofline.memory_cycles *= groups;
  result.mapping = std::to_string(groups) + " groups in turn, each " + result.mapping;
  return result;
}

void refuse_communication(const workloads::Op& op) {
  if (workloads::is_communication(op.kind)) {
    throw std::invalid_argument("op '" + op.name + "' (" + workloads::kind_name(op.kind) +
                                ") moves data between devices: a system's links run it, not one device");
  }
}

NumericsReport check_linear(const RunSettings& settings, const GemmCheckRequest& gemm) {
  switch (settings.check) {
    case CheckMode::Always: return check_gemm(gemm);
    case CheckMode::Never: return {};
    case CheckMode::Auto: return check_gemm_block(gemm, settings.check_limit_macs, settings.check_limit_elements);
  }
  return {};
}

NumericsReport check_non_linear_op(const workloads::Op& op, const RunSettings& settings) {
  if (settings.check == CheckMode::Never) return {};
  OpCheckLimits limits = default_op_check_limits();
  if (settings.check == CheckMode::Always) {
    limits.max_elements = std::numeric_limits<uint64_t>::max();
    limits.max_macs = std::numeric_limits<uint64_t>::max();
  }
  return check_op(op, *settings.dtype, settings.seed, limits);
}

OpResult kv_cache_read_by_attention(double clock_hz) {
  OpResult result;
  result.clock_hz = clock_hz;
  result.mapping = "read by the attention kernels that follow: bytes and time counted there";
  return result;
}

double dram_utilization(const DeviceFacts& facts, const arch::Activity& activity, uint64_t cycles) {
  const std::optional<double> bandwidth = facts.dram_bytes_per_cycle();
  if (!bandwidth || cycles == 0) return 0;
  const double bytes = static_cast<double>(activity.dram_read_bytes + activity.dram_write_bytes);
  return bytes / (static_cast<double>(cycles) * *bandwidth);
}

}  // namespace tessel::sim
