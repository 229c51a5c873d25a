#include "arch/config_fpga.h"

#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "arch/config_power.h"
#include "arch/fpga/resources.h"
#include "arch/fpga/to_systolic.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

namespace {

using fpga::BlockRam;
using yaml::Field;
using yaml::Mapping;
using yaml::Reader;

std::optional<BlockRam> parse_block_ram(std::string_view text) {
  if (text == "bram36") return BlockRam::Bram;
  if (text == "uram") return BlockRam::Uram;
  return std::nullopt;
}

fpga::BlockRamSpec read_block_ram(const Reader& reader, const Field& field) {
  const Mapping block(reader, field,
                      {"count", "capacity_kib", "read_bytes_per_cycle", "write_bytes_per_cycle",
                       "read_energy_pj_per_byte", "write_energy_pj_per_byte"});
  return {reader.count(block.required("count")),
          reader.capacity_bytes(block.required("capacity_kib")),
          reader.above_zero(block.required("read_bytes_per_cycle")),
          reader.above_zero(block.required("write_bytes_per_cycle")),
          reader.at_least_zero(block.required("read_energy_pj_per_byte")),
          reader.at_least_zero(block.required("write_energy_pj_per_byte"))};
}

fpga::MemoryChannelsSpec read_memory(const Reader& reader, const Field& field) {
  const Mapping memory(reader, field,
                       {"type", "channels", "channel_gb_s", "latency_ns", "energy_pj_per_byte", "capacity_gib"});
  const Field type = memory.required("type");
  fpga::MemoryChannelsSpec spec{reader.text(type),
                                reader.count(memory.required("channels")),
                                reader.above_zero(memory.required("channel_gb_s")) * 1e9,
                                reader.at_least_zero(memory.required("latency_ns")),
                                reader.at_least_zero(memory.required("energy_pj_per_byte")),
                                0};
  if (spec.type.empty()) reader.fail(type, "must not be empty");
  if (const std::optional<Field> capacity = memory.optional("capacity_gib")) {
    spec.capacity_bytes = static_cast<uint64_t>(std::llround(reader.above_zero(*capacity) * 0x1p30));
  }
  return spec;
}

fpga::FabricSpec read_fabric(const Reader& reader, const Field& field) {
  const Mapping fabric(reader, field, {"part", "dsp", "lut", "ff", "bram36", "uram", "memory"});
  return {reader.text(fabric.required("part")),
          reader.count(fabric.required("dsp")),
          reader.count(fabric.required("lut")),
          reader.count(fabric.required("ff")),
          read_block_ram(reader, fabric.required("bram36")),
          read_block_ram(reader, fabric.required("uram")),
          read_memory(reader, fabric.required("memory"))};
}

fpga::LogicCost read_logic(const Reader& reader, const Field& field) {
  const Mapping logic(reader, field, {"dsps", "luts", "ffs"});
  return {reader.whole(logic.required("dsps")), reader.whole(logic.required("luts")),
          reader.whole(logic.required("ffs"))};
}

ArraySpec read_array(const Reader& reader, const Field& field) {
  const Mapping array(reader, field, {"rows", "cols", "dataflow", "weights_double_buffered"});
  return {reader.count(array.required("rows")), reader.count(array.required("cols")),
          reader.choice(array.required("dataflow"), parse_dataflow, "os, ws, is"),
          reader.boolean(array.required("weights_double_buffered")), 0.0};
}

std::vector<fpga::BufferRequest> read_buffers(const Reader& reader, const Field& field) {
  const std::vector<Field> items = reader.list(field);
  if (items.empty()) reader.fail(field, "must list at least one buffer");
  std::vector<fpga::BufferRequest> buffers;
  std::vector<yaml::BufferHolding> holdings;
  for (const Field& item : items) {
    const Mapping buffer(reader, item,
                         {"name", "holds", "block", "capacity_kib", "read_bytes_per_cycle",
                          "write_bytes_per_cycle"});
    yaml::BufferHolding holding = yaml::read_buffer_holding(reader, buffer, holdings);
    holdings.push_back(holding);
    buffers.push_back({std::move(holding.name), std::move(holding.holds),
                       reader.choice(buffer.required("block"), parse_block_ram, "bram36, uram"),
                       reader.capacity_bytes(buffer.required("capacity_kib")),
                       reader.above_zero(buffer.required("read_bytes_per_cycle")),
                       reader.above_zero(buffer.required("write_bytes_per_cycle"))});
  }
  yaml::require_every_operand(reader, field, holdings);
  return buffers;
}

fpga::FpgaVectorUnitSpec read_vector_unit(const Reader& reader, const Field& field) {
  const Mapping unit(reader, field,
                     {"lanes", "ops_per_lane_per_cycle", "special_units", "buffer_bytes_per_cycle",
                      "lane", "special_unit", "op_energy_pj", "special_op_energy_pj"});
  return {reader.count(unit.required("lanes")),
          reader.above_zero(unit.required("ops_per_lane_per_cycle")),
          reader.count(unit.required("special_units")),
          reader.above_zero(unit.required("buffer_bytes_per_cycle")),
          read_logic(reader, unit.required("lane")),
          read_logic(reader, unit.required("special_unit")),
          reader.at_least_zero(unit.required("op_energy_pj")),
          reader.at_least_zero(unit.required("special_op_energy_pj"))};
}

fpga::Overhead read_overhead(const Reader& reader, const Field& field) {
  const Mapping overhead(reader, field, {"dsps", "luts", "ffs", "bram36", "uram"});
  return {reader.whole(overhead.required("dsps")), reader.whole(overhead.required("luts")),
          reader.whole(overhead.required("ffs")), reader.whole(overhead.required("bram36")),
          reader.whole(overhead.required("uram"))};
}

fpga::DesignSpec read_design(const Reader& reader, const Field& field) {
  const Mapping design(reader, field,
                       {"compute_units", "memory_channels", "array", "pe", "dtypes", "buffers",
                        "vector_unit", "overhead"});
  return {reader.count(design.required("compute_units")),
          reader.count(design.required("memory_channels")),
          read_array(reader, design.required("array")),
          read_logic(reader, design.required("pe")),
          yaml::read_dtypes(reader, design.required("dtypes")),
          read_buffers(reader, design.required("buffers")),
          read_vector_unit(reader, design.required("vector_unit")),
          read_overhead(reader, design.required("overhead"))};
}

}  // namespace

SystolicSpec read_fpga_yaml(const std::string& path, const YAML::Node& root) {
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1},
                    {"name", "description", "kind", "clock_mhz", "fabric", "design", "power"});
  fpga::FpgaSpec spec{};
  spec.name = read_name(reader, top);
  top.required("kind");  // load_arch read it: fpga
  spec.source_file = path;
  spec.clock_hz = reader.above_zero(top.required("clock_mhz")) * 1e6;
  spec.fabric = read_fabric(reader, top.required("fabric"));
  const Field design = top.required("design");
  spec.design = read_design(reader, design);
  const std::string excess = fpga::over_budget(fpga::resource_use(spec));
  if (!excess.empty()) reader.fail(design, "does not fit the " + spec.fabric.part + ": " + excess);
  SystolicSpec systolic = fpga::to_systolic_spec(spec);
  if (const std::optional<Field> power = top.optional("power")) systolic.power = read_fixed_clock_power(reader, *power);
  return systolic;
}

}  // namespace tessel::arch
