#include "arch/config_cpu.h"

#include <cmath>

#include "arch/config_power.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

namespace {

using yaml::Field;
using yaml::Mapping;
using yaml::Reader;

const std::vector<std::string_view> kFormats = {"int8", "fp8", "fp16", "bf16", "fp32"};

// One number for every format, or one per format the engine takes (and no other).
void read_mac_energy(const Reader& reader, const Field& field, CpuMatrixEngine& engine) {
  if (!field.node.IsMap()) {
    const double pj = reader.at_least_zero(field);
    for (CpuEngineRate& rate : engine.rates) rate.mac_pj = pj;
    return;
  }
  const Mapping formats(reader, field, kFormats);
  for (const Mapping::Entry& entry : formats.entries()) {
    if (!engine.rate(*parse_dtype(entry.name))) {
      reader.fail(entry.field, "is a format macs_per_cycle_per_core gives this engine no rate for");
    }
  }
  for (CpuEngineRate& rate : engine.rates) {
    rate.mac_pj = reader.at_least_zero(formats.required(std::string(to_string(rate.dtype))));
  }
}

CpuMatrixEngine read_engine(const Reader& reader, const Field& field, const std::vector<CpuMatrixEngine>& earlier) {
  const Mapping fields(reader, field, {"name", "tile", "macs_per_cycle_per_core", "efficiency", "mac_pj"});
  CpuMatrixEngine engine;
  const Field name = fields.required("name");
  engine.name = reader.text(name);
  for (const CpuMatrixEngine& other : earlier) {
    if (other.name == engine.name) reader.fail(name, "names an engine listed before: '" + engine.name + "'");
  }
  const Mapping tile(reader, fields.required("tile"), {"m", "n", "k_bytes"});
  engine.tile_m = reader.count(tile.required("m"));
  engine.tile_n = reader.count(tile.required("n"));
  engine.tile_k_bytes = reader.count(tile.required("k_bytes"));
  const Field rates = fields.required("macs_per_cycle_per_core");
  const Mapping formats(reader, rates, kFormats);
  if (formats.entries().empty()) reader.fail(rates, "must give the rate of at least one format");
  for (const Mapping::Entry& entry : formats.entries()) {
    engine.rates.push_back({*parse_dtype(entry.name), reader.above_zero(entry.field), 0.0});
  }
  engine.efficiency = reader.fraction(fields.required("efficiency"));
  read_mac_energy(reader, fields.required("mac_pj"), engine);
  return engine;
}

void read_caches(const Reader& reader, const Field& field, CpuSpec& spec) {
  const Mapping caches(reader, field,
                       {"l1d_kib", "l2_kib", "l2_bytes_per_cycle", "l3_kib_per_socket", "l3_bytes_per_cycle_per_core"});
  spec.l1d_bytes_per_core = reader.capacity_bytes(caches.required("l1d_kib"));
  spec.l2_bytes_per_core = reader.capacity_bytes(caches.required("l2_kib"));
  spec.l2_bytes_per_cycle_per_core = reader.above_zero(caches.required("l2_bytes_per_cycle"));
  spec.l3_bytes_per_socket = reader.capacity_bytes(caches.required("l3_kib_per_socket"));
  spec.l3_bytes_per_cycle_per_core = reader.above_zero(caches.required("l3_bytes_per_cycle_per_core"));
}

void read_ddr(const Reader& reader, const Field& field, CpuSpec& spec) {
  const Mapping ddr(reader, field, {"channels", "bandwidth_gb_s", "achievable_fraction", "latency_ns", "capacity_gib"});
  spec.ddr_channels_per_socket = reader.count(ddr.required("channels"));
  spec.ddr_bytes_per_second_per_socket = reader.above_zero(ddr.required("bandwidth_gb_s")) * 1e9;
  spec.ddr_achievable_fraction = reader.fraction(ddr.required("achievable_fraction"));
  spec.ddr_latency_ns = reader.at_least_zero(ddr.required("latency_ns"));
  if (const std::optional<Field> capacity = ddr.optional("capacity_gib")) {
    spec.ddr_capacity_bytes_per_socket = static_cast<uint64_t>(std::llround(reader.above_zero(*capacity) * 0x1p30));
  }
}

}  // namespace

CpuSpec read_cpu_yaml(const std::string& path, const YAML::Node& root) {
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1},
                    {"name", "description", "kind", "clock_mhz", "sockets", "cores_per_socket", "engines", "vector",
                     "caches", "ddr", "parallel_overhead_us", "energy", "power"});
  CpuSpec spec{};
  spec.name = yaml::read_name(reader, top);
  top.required("kind");  // load_arch read it: cpu
  spec.source_file = path;
  spec.clock_hz = reader.above_zero(top.required("clock_mhz")) * 1e6;
  spec.sockets = reader.count(top.required("sockets"));
  spec.cores_per_socket = reader.count(top.required("cores_per_socket"));
  const Field engines = top.required("engines");
  for (const Field& engine : reader.list(engines)) spec.engines.push_back(read_engine(reader, engine, spec.engines));
  if (spec.engines.empty()) reader.fail(engines, "must list at least one engine");
  const Mapping vector(reader, top.required("vector"),
                       {"fp32_ops_per_cycle_per_core", "special_ops_per_cycle_per_core"});
  spec.fp32_ops_per_cycle_per_core = reader.above_zero(vector.required("fp32_ops_per_cycle_per_core"));
  spec.special_ops_per_cycle_per_core = reader.above_zero(vector.required("special_ops_per_cycle_per_core"));
  read_caches(reader, top.required("caches"), spec);
  read_ddr(reader, top.required("ddr"), spec);
  spec.parallel_overhead_s = reader.at_least_zero(top.required("parallel_overhead_us")) * 1e-6;
  const Mapping energy(reader, top.required("energy"),
                       {"fp32_op_pj", "special_op_pj", "l3_pj_per_byte", "ddr_pj_per_byte"});
  spec.energy = {reader.at_least_zero(energy.required("fp32_op_pj")),
                 reader.at_least_zero(energy.required("special_op_pj")),
                 reader.at_least_zero(energy.required("l3_pj_per_byte")),
                 reader.at_least_zero(energy.required("ddr_pj_per_byte"))};
  if (const std::optional<Field> power = top.optional("power")) spec.power = read_power(reader, *power);
  return spec;
}

}  // namespace tessel::arch
