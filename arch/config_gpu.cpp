#include "arch/config_gpu.h"

#include <cmath>

#include "arch/config_power.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

namespace {

using yaml::Field;
using yaml::Mapping;
using yaml::Reader;

void read_tensor_cores(const Reader& reader, const Field& field, GpuSpec& spec) {
  const Mapping tensor(reader, field,
                       {"macs_per_cycle_per_sm", "efficiency", "attention_efficiency", "sparse", "sparse_efficiency"});
  const Field rates = tensor.required("macs_per_cycle_per_sm");
  const Mapping formats(reader, rates, {"int8", "fp8", "fp16", "bf16", "fp32", "int4"});
  if (formats.entries().empty()) reader.fail(rates, "must give the rate of at least one format");
  yaml::refuse_sub_byte_default(reader, formats);
  for (const Mapping::Entry& entry : formats.entries()) {
    spec.tensor.push_back({*parse_dtype(entry.name), reader.above_zero(entry.field)});
  }
  spec.tensor_efficiency = reader.fraction(tensor.required("efficiency"));
  spec.attention_efficiency = reader.fraction(tensor.required("attention_efficiency"));
  if (const std::optional<Field> sparse = tensor.optional("sparse")) {
    // The only pattern sparse tensor cores take (Ampere and Hopper): 2 of every 4 along K.
    if (reader.text(*sparse) != "2:4") reader.fail(*sparse, "must be \"2:4\", the pattern sparse tensor cores take");
    spec.sparse_2_4 = true;
    spec.sparse_efficiency = reader.fraction(tensor.required("sparse_efficiency"));
  } else if (const std::optional<Field> efficiency = tensor.optional("sparse_efficiency")) {
    reader.fail(*efficiency, "is for sparse tensor cores: give sparse too");
  }
}

void read_sm(const Reader& reader, const Field& field, GpuSpec& spec) {
  const Mapping sm(reader, field,
                   {"fp32_ops_per_cycle", "special_ops_per_cycle", "register_file_kib", "shared_memory_kib",
                    "shared_memory_bytes_per_cycle", "max_threads"});
  spec.fp32_ops_per_cycle_per_sm = reader.above_zero(sm.required("fp32_ops_per_cycle"));
  spec.special_ops_per_cycle_per_sm = reader.above_zero(sm.required("special_ops_per_cycle"));
  spec.register_file_bytes_per_sm = reader.capacity_bytes(sm.required("register_file_kib"));
  spec.shared_memory_bytes_per_sm = reader.capacity_bytes(sm.required("shared_memory_kib"));
  spec.shared_memory_bytes_per_cycle_per_sm = reader.above_zero(sm.required("shared_memory_bytes_per_cycle"));
  spec.max_threads_per_sm = reader.count(sm.required("max_threads"));
}

void read_l2(const Reader& reader, const Field& field, GpuSpec& spec) {
  const Mapping l2(reader, field, {"capacity_kib", "bytes_per_cycle"});
  spec.l2_bytes = reader.capacity_bytes(l2.required("capacity_kib"));
  spec.l2_bytes_per_cycle = reader.above_zero(l2.required("bytes_per_cycle"));
}

void read_hbm(const Reader& reader, const Field& field, GpuSpec& spec) {
  const Mapping hbm(reader, field, {"bandwidth_gb_s", "latency_ns", "achievable_fraction", "capacity_gib"});
  spec.hbm_bytes_per_second = reader.above_zero(hbm.required("bandwidth_gb_s")) * 1e9;
  spec.hbm_latency_ns = reader.at_least_zero(hbm.required("latency_ns"));
  spec.hbm_achievable_fraction = reader.fraction(hbm.required("achievable_fraction"));
  if (const std::optional<Field> capacity = hbm.optional("capacity_gib")) {
    spec.hbm_capacity_bytes = static_cast<uint64_t>(std::llround(reader.above_zero(*capacity) * 0x1p30));
  }
}

// One number for every format, or one per format the tensor cores take (and no other).
void read_tensor_mac_energy(const Reader& reader, const Field& field, GpuSpec& spec) {
  if (!field.node.IsMap()) {
    const double pj = reader.at_least_zero(field);
    for (TensorRate& rate : spec.tensor) rate.mac_pj = pj;
    return;
  }
  const Mapping formats(reader, field, {"int8", "fp8", "fp16", "bf16", "fp32", "int4"});
  for (const Mapping::Entry& entry : formats.entries()) {
    if (!spec.tensor_macs_per_cycle_per_sm(*parse_dtype(entry.name))) {
      reader.fail(entry.field, "is a format tensor_cores.macs_per_cycle_per_sm gives no rate for");
    }
  }
  for (TensorRate& rate : spec.tensor) {
    rate.mac_pj = reader.at_least_zero(formats.required(std::string(to_string(rate.dtype))));
  }
}

NvlinkSpec read_nvlink(const Reader& reader, const Field& field) {
  const Mapping nvlink(reader, field,
                       {"gpus_per_node", "bandwidth_gb_s", "achievable_fraction", "collective_latency_us",
                        "step_latency_us", "energy_pj_per_byte", "in_switch_reduction"});
  NvlinkSpec spec;
  spec.gpus_per_node = reader.count(nvlink.required("gpus_per_node"));
  spec.bytes_per_second = reader.above_zero(nvlink.required("bandwidth_gb_s")) * 1e9;
  spec.achievable_fraction = reader.fraction(nvlink.required("achievable_fraction"));
  spec.collective_latency_s = reader.at_least_zero(nvlink.required("collective_latency_us")) * 1e-6;
  spec.step_latency_s = reader.at_least_zero(nvlink.required("step_latency_us")) * 1e-6;
  if (const std::optional<Field> energy = nvlink.optional("energy_pj_per_byte")) {
    spec.energy_pj_per_byte = reader.at_least_zero(*energy);
  }
  if (const std::optional<Field> reduction = nvlink.optional("in_switch_reduction")) {
    spec.in_switch_reduction = reader.boolean(*reduction);
  }
  return spec;
}

}  // namespace

GpuSpec read_gpu_yaml(const std::string& path, const YAML::Node& root) {
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1},
                    {"name", "description", "kind", "clock_mhz", "sms", "tensor_cores", "sm", "l2", "hbm",
                     "launch_overhead_us", "energy", "power", "nvlink"});
  GpuSpec spec{};
  spec.name = yaml::read_name(reader, top);
  top.required("kind");  // load_arch read it: gpu
  spec.source_file = path;
  spec.clock_hz = reader.above_zero(top.required("clock_mhz")) * 1e6;
  spec.sms = reader.count(top.required("sms"));
  read_tensor_cores(reader, top.required("tensor_cores"), spec);
  read_sm(reader, top.required("sm"), spec);
  read_l2(reader, top.required("l2"), spec);
  read_hbm(reader, top.required("hbm"), spec);
  spec.launch_overhead_s = reader.at_least_zero(top.required("launch_overhead_us")) * 1e-6;
  const Mapping energy(reader, top.required("energy"),
                       {"tensor_mac_pj", "fp32_op_pj", "special_op_pj", "l2_pj_per_byte", "hbm_pj_per_byte"});
  read_tensor_mac_energy(reader, energy.required("tensor_mac_pj"), spec);
  spec.energy = {reader.at_least_zero(energy.required("fp32_op_pj")),
                 reader.at_least_zero(energy.required("special_op_pj")),
                 reader.at_least_zero(energy.required("l2_pj_per_byte")),
                 reader.at_least_zero(energy.required("hbm_pj_per_byte"))};
  if (const std::optional<Field> power = top.optional("power")) spec.power = read_power(reader, *power);
  if (const std::optional<Field> nvlink = top.optional("nvlink")) spec.nvlink = read_nvlink(reader, *nvlink);
  return spec;
}

}  // namespace tessel::arch
