#include "mapper/mapping_json.h"

#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <utility>

namespace tessel::mapper {

namespace {

using nlohmann::json;

std::optional<Dim> parse_dim(const std::string& text) {
  for (Dim d : {Dim::M, Dim::N, Dim::K}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

// Typed reads whose errors name the file and the key.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw std::runtime_error(source_ + ": key '" + key + "': " + problem);
  }

  const json& member(const json& object, const std::string& key, const std::string& path) const {
    if (!object.is_object() || !object.contains(key)) fail(path, "missing");
    return object.at(key);
  }

  uint64_t count(const json& object, const std::string& key, const std::string& path) const {
    const json& value = member(object, key, path);
    if (!value.is_number_unsigned() || value.get<uint64_t>() == 0) fail(path, "must be a positive integer");
    return value.get<uint64_t>();
  }

  std::string text(const json& object, const std::string& key, const std::string& path) const {
    const json& value = member(object, key, path);
    if (!value.is_string()) fail(path, "must be a string");
    return value.get<std::string>();
  }

  Dim dim(const json& value, const std::string& path) const {
    const std::optional<Dim> dim = value.is_string() ? parse_dim(value.get<std::string>()) : std::nullopt;
    if (!dim) fail(path, "must be one of M, N, K");
    return *dim;
  }

 private:
  std::string source_;
};

}  // namespace

json to_json(const GemmMapping& m) {
  return {{"dataflow", std::string(arch::to_string(m.dataflow))},
          {"dtype", std::string(arch::to_string(m.dtype))},
          {"split", std::string(to_string(m.split))},
          {"parts", m.parts},
          {"part_size", m.part_size},
          {"tile", {{"M", m.tile.m}, {"N", m.tile.n}, {"K", m.tile.k}}},
          {"order", {to_string(m.order[0]), to_string(m.order[1]), to_string(m.order[2])}},
          {"resident_loops", {{"input", m.resident_loops[0]}, {"weight", m.resident_loops[1]}, {"output", m.resident_loops[2]}}},
          {"double_buffered", m.double_buffered}};
}

json to_json(const MappingCost& c) {
  return {{"estimated_cycles", c.estimated_cycles},
          {"compute_cycles", c.compute_cycles},
          {"port_cycles", c.port_cycles},
          {"tiles", c.tiles},
          {"folds", c.folds},
          {"dram_read_bytes", c.activity.dram_read_bytes},
          {"dram_write_bytes", c.activity.dram_write_bytes},
          {"sram_read_bytes", c.activity.sram_read_bytes()},
          {"sram_write_bytes", c.activity.sram_write_bytes()},
          {"energy_pj", c.energy_pj}};
}

GemmMapping mapping_from_json(const json& j, const std::string& source) {
  const Reader read(source);
  GemmMapping m{};
  const std::optional<arch::Dataflow> dataflow = arch::parse_dataflow(read.text(j, "dataflow", "dataflow"));
  if (!dataflow) read.fail("dataflow", "must be one of os, ws, is");
  m.dataflow = *dataflow;
  const std::optional<arch::DType> dtype = arch::parse_dtype(read.text(j, "dtype", "dtype"));
  if (!dtype) read.fail("dtype", "must be one of int8, fp8, fp16, bf16, fp32");
  m.dtype = *dtype;
  m.split = read.dim(read.member(j, "split", "split"), "split");
  const uint64_t parts = read.count(j, "parts", "parts");
  if (parts > UINT32_MAX) read.fail("parts", "too large");
  m.parts = static_cast<uint32_t>(parts);
  m.part_size = read.count(j, "part_size", "part_size");
  const json& tile = read.member(j, "tile", "tile");
  m.tile = {read.count(tile, "M", "tile.M"), read.count(tile, "N", "tile.N"), read.count(tile, "K", "tile.K")};
  const json& order = read.member(j, "order", "order");
  if (!order.is_array() || order.size() != 3) read.fail("order", "must list M, N and K, outer to inner");
  for (size_t i = 0; i < 3; ++i) m.order[i] = read.dim(order[i], "order[" + std::to_string(i) + "]");
  if (m.order[0] == m.order[1] || m.order[1] == m.order[2] || m.order[0] == m.order[2]) {
    read.fail("order", "must name each of M, N and K once");
  }
  const json& resident = read.member(j, "resident_loops", "resident_loops");
  const char* operands[] = {"input", "weight", "output"};
  for (size_t i = 0; i < 3; ++i) {
    const std::string path = std::string("resident_loops.") + operands[i];
    const json& loops = read.member(resident, operands[i], path);
    if (!loops.is_number_unsigned() || loops.get<uint64_t>() > 3) read.fail(path, "must be 0, 1, 2 or 3");
    m.resident_loops[i] = static_cast<uint8_t>(loops.get<uint64_t>());
  }
  const json& buffered = read.member(j, "double_buffered", "double_buffered");
  if (!buffered.is_boolean()) read.fail("double_buffered", "must be true or false");
  m.double_buffered = buffered.get<bool>();
  return m;
}

GemmMapping read_mapping_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& error) {  // a syntax error, or a number past a double's range
    throw std::runtime_error(path + ": not JSON: " + error.what());
  }
  return mapping_from_json(j.is_object() && j.contains("mapping") ? j.at("mapping") : j, path);
}

}  // namespace tessel::mapper
