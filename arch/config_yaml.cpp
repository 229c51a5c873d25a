#include "arch/config_yaml.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arch/config_power.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

namespace {

using yaml::Field;
using yaml::Mapping;
using yaml::Reader;

ArraySpec read_array(const Reader& reader, const Field& field) {
  const Mapping array(reader, field,
                      {"rows", "cols", "dataflow", "weights_double_buffered", "pe_area_um2", "weight_zeros", "sparse"});
  ArraySpec spec{};
  spec.rows = reader.count(array.required("rows"));
  spec.cols = reader.count(array.required("cols"));
  spec.dataflow = reader.choice(array.required("dataflow"), parse_dataflow, "os, ws, is");
  spec.weights_double_buffered = reader.boolean(array.required("weights_double_buffered"));
  spec.pe_area_um2 = reader.at_least_zero(array.required("pe_area_um2"));
  if (const std::optional<Field> zeros = array.optional("weight_zeros")) {
    spec.weight_zeros = reader.choice(*zeros, parse_zero_handling, "none, gate, skip");
  }
  if (const std::optional<Field> sparse = array.optional("sparse")) {
    const std::string text = reader.text(*sparse);
    const size_t colon = text.find(':');
    uint32_t keep = 0, group = 0;
    const auto digits = [&](size_t begin, size_t end, uint32_t& value) {
      const auto [last, error] = std::from_chars(text.data() + begin, text.data() + end, value);
      return error == std::errc() && last == text.data() + end;
    };
    if (colon == std::string::npos || !digits(0, colon, keep) || !digits(colon + 1, text.size(), group) || keep == 0 ||
        keep >= group || group > 16) {
      reader.fail(*sparse, "must be an N:M pattern with 0 < N < M <= 16, e.g. \"2:4\"");
    }
    spec.sparse_keep = keep;
    spec.sparse_group = group;
  }
  return spec;
}

BufferSpec read_buffer(const Reader& reader, const Field& field,
                       const std::vector<yaml::BufferHolding>& earlier) {
  const Mapping buffer(
      reader, field,
      {"name", "holds", "capacity_kib", "read_bytes_per_cycle", "write_bytes_per_cycle", "banks",
       "read_energy_pj_per_byte", "write_energy_pj_per_byte", "area_mm2"});
  BufferSpec spec{};
  yaml::BufferHolding holding = yaml::read_buffer_holding(reader, buffer, earlier);
  spec.name = std::move(holding.name);
  spec.holds = std::move(holding.holds);
  spec.capacity_bytes = reader.capacity_bytes(buffer.required("capacity_kib"));
  spec.read_bytes_per_cycle = reader.above_zero(buffer.required("read_bytes_per_cycle"));
  spec.write_bytes_per_cycle = reader.above_zero(buffer.required("write_bytes_per_cycle"));
  spec.banks = reader.count(buffer.required("banks"));
  spec.read_energy_pj_per_byte = reader.at_least_zero(buffer.required("read_energy_pj_per_byte"));
  spec.write_energy_pj_per_byte = reader.at_least_zero(buffer.required("write_energy_pj_per_byte"));
  spec.area_mm2 = reader.at_least_zero(buffer.required("area_mm2"));
  return spec;
}

std::vector<BufferSpec> read_buffers(const Reader& reader, const Field& field) {
  const std::vector<Field> items = reader.list(field);
  if (items.empty()) reader.fail(field, "must list at least one buffer");
  std::vector<BufferSpec> buffers;
  std::vector<yaml::BufferHolding> holdings;
  for (const Field& item : items) {
    buffers.push_back(read_buffer(reader, item, holdings));
    holdings.push_back({buffers.back().name, buffers.back().holds});
  }
  yaml::require_every_operand(reader, field, holdings);
  return buffers;
}

VectorUnitSpec read_vector_unit(const Reader& reader, const Field& field) {
  const Mapping unit(reader, field,
                     {"lanes", "ops_per_lane_per_cycle", "special_ops_per_cycle",
                      "buffer_bytes_per_cycle", "op_energy_pj", "special_op_energy_pj",
                      "area_mm2"});
  VectorUnitSpec spec{};
  spec.lanes = reader.count(unit.required("lanes"));
  spec.ops_per_lane_per_cycle = reader.above_zero(unit.required("ops_per_lane_per_cycle"));
  spec.special_ops_per_cycle = reader.above_zero(unit.required("special_ops_per_cycle"));
  spec.buffer_bytes_per_cycle = reader.above_zero(unit.required("buffer_bytes_per_cycle"));
  spec.op_energy_pj = reader.at_least_zero(unit.required("op_energy_pj"));
  spec.special_op_energy_pj = reader.at_least_zero(unit.required("special_op_energy_pj"));
  spec.area_mm2 = reader.at_least_zero(unit.required("area_mm2"));
  return spec;
}

DramSpec read_dram(const Reader& reader, const Field& field, double clock_mhz) {
  const Mapping dram(reader, field, {"bandwidth_gb_s", "latency_ns", "energy_pj_per_byte", "capacity_gib"});
  DramSpec spec{};
  const Field bandwidth = dram.required("bandwidth_gb_s");
  spec.unlimited = bandwidth.node.IsScalar() && bandwidth.node.Scalar() == "unlimited";
  if (spec.unlimited) {
    spec.bytes_per_cycle = std::numeric_limits<double>::infinity();
  } else {
    const std::optional<double> gb_per_s = yaml::parse_number(bandwidth.node);
    if (!gb_per_s || *gb_per_s <= 0.0) {
      reader.fail(bandwidth,
                  "must be a number > 0 or 'unlimited', got " + yaml::describe(bandwidth.node));
    }
    spec.bytes_per_cycle = *gb_per_s * 1e9 / (clock_mhz * 1e6);
  }
  const Field latency = dram.required("latency_ns");
  const double latency_ns = reader.at_least_zero(latency);
  if (spec.unlimited && latency_ns != 0.0) {
    reader.fail(latency,
                "must be 0 when bandwidth_gb_s is 'unlimited', got " + yaml::describe(latency.node));
  }
  spec.latency_cycles = latency_cycles(latency_ns, clock_mhz * 1e6);
  spec.energy_pj_per_byte = reader.at_least_zero(dram.required("energy_pj_per_byte"));
  if (const std::optional<Field> capacity = dram.optional("capacity_gib")) {
    spec.capacity_bytes = static_cast<uint64_t>(std::llround(reader.above_zero(*capacity) * 0x1p30));
  }
  return spec;
}

}  // namespace

SystolicSpec read_systolic_yaml(const std::string& path, const YAML::Node& root) {
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1},
                    {"name", "description", "kind", "clock_mhz", "cores", "arrays_per_core",
                     "array", "dtypes", "buffers", "vector_unit", "dram", "area", "power"});

  SystolicSpec spec{};
  spec.name = read_name(reader, top);
  top.required("kind");  // load_arch read it: systolic
  spec.source_file = path;
  const double clock_mhz = reader.above_zero(top.required("clock_mhz"));
  spec.clock_hz = clock_mhz * 1e6;
  spec.cores = reader.count(top.required("cores"));
  spec.arrays_per_core = reader.count(top.required("arrays_per_core"));
  spec.array = read_array(reader, top.required("array"));
  spec.dtypes = read_dtypes(reader, top.required("dtypes"));
  spec.buffers = read_buffers(reader, top.required("buffers"));
  spec.vector_unit = read_vector_unit(reader, top.required("vector_unit"));
  spec.dram = read_dram(reader, top.required("dram"), clock_mhz);
  const Mapping area(reader, top.required("area"), {"other_mm2"});
  spec.other_area_mm2 = reader.at_least_zero(area.required("other_mm2"));
  if (const std::optional<Field> power = top.optional("power")) spec.power = read_fixed_clock_power(reader, *power);
  return spec;
}

}  // namespace tessel::arch
