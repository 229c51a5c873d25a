#include "arch/config_yaml.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "arch/config_error.h"

namespace tessel::arch {

namespace {

constexpr Operand kOperands[] = {Operand::Input, Operand::Weight, Operand::Output};
constexpr DType kDTypes[] = {DType::Int8, DType::Fp8, DType::Fp16, DType::Bf16, DType::Fp32};

// A value of the file, the full dotted key that names it and the 1-based line of that key.
// The key's line, not the value's: yaml-cpp marks an empty value on the line after it.
struct Field {
  YAML::Node node;
  std::string key;
  int line;
};

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.Tag() == "!") return "the string \"" + node.Scalar() + "\"";
  return node.Scalar();
}

// Quoted scalars are strings in YAML, so "256" is not a number.
bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

std::optional<double> parse_number(const YAML::Node& node) {
  if (!is_plain_scalar(node)) return std::nullopt;
  const std::string& text = node.Scalar();
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string joined;
  for (std::string_view word : words) {
    if (!joined.empty()) joined += ", ";
    joined += word;
  }
  return joined;
}

// Typed reads of one field; every failure names the file, line and key.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const Field& field, const std::string& problem) const {
    throw ConfigError(file_, field.line, field.key, problem);
  }

  std::string text(const Field& field) const {
    if (!field.node.IsScalar()) fail(field, "must be a string, got " + describe(field.node));
    return field.node.Scalar();
  }

  bool boolean(const Field& field) const {
    if (is_plain_scalar(field.node) && field.node.Scalar() == "true") return true;
    if (is_plain_scalar(field.node) && field.node.Scalar() == "false") return false;
    fail(field, "must be true or false, got " + describe(field.node));
  }

  uint32_t count(const Field& field) const {
    int64_t value = 0;
    bool parsed = false;
    if (is_plain_scalar(field.node)) {
      const std::string& text = field.node.Scalar();
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      parsed = ec == std::errc() && end == text.data() + text.size();
    }
    if (!parsed || value < 1 || value > std::numeric_limits<uint32_t>::max()) {
      fail(field, "must be a positive integer, got " + describe(field.node));
    }
    return static_cast<uint32_t>(value);
  }

  double above_zero(const Field& field) const {
    const std::optional<double> value = parse_number(field.node);
    if (!value || *value <= 0.0) fail(field, "must be a number > 0, got " + describe(field.node));
    return *value;
  }

  double at_least_zero(const Field& field) const {
    const std::optional<double> value = parse_number(field.node);
    if (!value || *value < 0.0) fail(field, "must be a number >= 0, got " + describe(field.node));
    return *value;
  }

  template <typename T>
  T choice(const Field& field, std::optional<T> (*parse)(std::string_view),
           const std::string& expected) const {
    std::optional<T> value;
    if (field.node.IsScalar()) value = parse(field.node.Scalar());
    if (!value) fail(field, "must be one of " + expected + ", got " + describe(field.node));
    return *value;
  }

  std::vector<Field> list(const Field& field) const {
    if (!field.node.IsSequence()) fail(field, "must be a list, got " + describe(field.node));
    std::vector<Field> items;
    for (size_t i = 0; i < field.node.size(); ++i) {
      const YAML::Node item = field.node[i];
      const int line = item.Mark().line >= 0 ? item.Mark().line + 1 : field.line;
      items.push_back({item, field.key + "[" + std::to_string(i) + "]", line});
    }
    return items;
  }

 private:
  std::string file_;
};

// One YAML mapping, checked on construction against the keys the schema allows there.
class Mapping {
 public:
  struct Entry {
    std::string name;
    Field field;
  };

  Mapping(const Reader& reader, Field self, const std::vector<std::string_view>& allowed)
      : reader_(reader), self_(std::move(self)) {
    if (!self_.node.IsMap()) reader_.fail(self_, "must be a mapping, got " + describe(self_.node));
    for (auto it = self_.node.begin(); it != self_.node.end(); ++it) {
      const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
      const Field field{it->second, child_key(name), it->first.Mark().line + 1};
      if (name.empty()) reader_.fail(field, "keys must be plain names");
      if (find(name)) reader_.fail(field, "appears twice");
      bool known = false;
      for (std::string_view key : allowed) known = known || key == name;
      if (!known) reader_.fail(field, "unknown key (allowed here: " + join(allowed) + ")");
      entries_.push_back({name, field});
    }
  }

  // A missing key is reported at the line of the mapping that should hold it.
  Field required(std::string_view name) const {
    if (const Field* field = find(name)) return *field;
    reader_.fail({YAML::Node(), child_key(std::string(name)), self_.line}, "missing (required)");
  }

  std::optional<Field> optional(std::string_view name) const {
    if (const Field* field = find(name)) return *field;
    return std::nullopt;
  }

  // In file order.
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::string child_key(const std::string& name) const {
    return self_.key.empty() ? name : self_.key + "." + name;
  }

  const Field* find(std::string_view name) const {
    for (const Entry& entry : entries_) {
      if (entry.name == name) return &entry.field;
    }
    return nullptr;
  }

  const Reader& reader_;
  Field self_;
  std::vector<Entry> entries_;
};

ArraySpec read_array(const Reader& reader, const Field& field) {
  const Mapping array(reader, field,
                      {"rows", "cols", "dataflow", "weights_double_buffered", "pe_area_um2"});
  ArraySpec spec{};
  spec.rows = reader.count(array.required("rows"));
  spec.cols = reader.count(array.required("cols"));
  spec.dataflow = reader.choice(array.required("dataflow"), parse_dataflow, "os, ws, is");
  spec.weights_double_buffered = reader.boolean(array.required("weights_double_buffered"));
  spec.pe_area_um2 = reader.at_least_zero(array.required("pe_area_um2"));
  return spec;
}

// The first format listed is the default one, so the file's order is kept.
std::vector<DTypeSpec> read_dtypes(const Reader& reader, const Field& field) {
  std::vector<std::string_view> names;
  for (DType dtype : kDTypes) names.push_back(to_string(dtype));
  const Mapping formats(reader, field, names);
  if (formats.entries().empty()) reader.fail(field, "must name at least one number format");
  std::vector<DTypeSpec> dtypes;
  for (const Mapping::Entry& entry : formats.entries()) {
    const Mapping numbers(reader, entry.field, {"macs_per_pe_per_cycle", "mac_energy_pj"});
    dtypes.push_back({*parse_dtype(entry.name),
                      reader.above_zero(numbers.required("macs_per_pe_per_cycle")),
                      reader.at_least_zero(numbers.required("mac_energy_pj"))});
  }
  return dtypes;
}

uint64_t read_capacity_bytes(const Reader& reader, const Field& field) {
  const double bytes = std::round(reader.above_zero(field) * 1024.0);
  if (bytes < 1.0) reader.fail(field, "comes to less than one byte");
  if (bytes >= 0x1p64) reader.fail(field, "is too large");
  return static_cast<uint64_t>(bytes);
}

// Each operand lives in exactly one buffer (the models rely on it: buffer_for), so an
// operand already held by an `earlier` buffer is an error here.
BufferSpec read_buffer(const Reader& reader, const Field& field,
                       const std::vector<BufferSpec>& earlier) {
  const Mapping buffer(
      reader, field,
      {"name", "holds", "capacity_kib", "read_bytes_per_cycle", "write_bytes_per_cycle", "banks",
       "read_energy_pj_per_byte", "write_energy_pj_per_byte", "area_mm2"});
  BufferSpec spec{};
  const Field name = buffer.required("name");
  spec.name = reader.text(name);
  for (const BufferSpec& other : earlier) {
    if (other.name == spec.name) reader.fail(name, "buffer name '" + spec.name + "' is used twice");
  }
  const Field holds = buffer.required("holds");
  for (const Field& entry : reader.list(holds)) {
    const Operand operand = reader.choice(entry, parse_operand, "input, weight, output");
    const std::string operand_name(to_string(operand));
    if (spec.holds_operand(operand)) reader.fail(entry, "lists '" + operand_name + "' twice");
    for (const BufferSpec& other : earlier) {
      if (other.holds_operand(operand)) {
        reader.fail(entry, "operand '" + operand_name + "' is already held by buffer '" +
                               other.name + "'; each operand lives in exactly one buffer");
      }
    }
    spec.holds.push_back(operand);
  }
  if (spec.holds.empty()) reader.fail(holds, "must list at least one operand");
  spec.capacity_bytes = read_capacity_bytes(reader, buffer.required("capacity_kib"));
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
  for (const Field& item : items) buffers.push_back(read_buffer(reader, item, buffers));
  for (Operand operand : kOperands) {
    bool held = false;
    for (const BufferSpec& buffer : buffers) held = held || buffer.holds_operand(operand);
    if (!held) {
      reader.fail(field, "no buffer holds operand '" + std::string(to_string(operand)) +
                             "'; input, weight and output each need exactly one");
    }
  }
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
  const Mapping dram(reader, field, {"bandwidth_gb_s", "latency_ns", "energy_pj_per_byte"});
  DramSpec spec{};
  const Field bandwidth = dram.required("bandwidth_gb_s");
  spec.unlimited = bandwidth.node.IsScalar() && bandwidth.node.Scalar() == "unlimited";
  if (spec.unlimited) {
    spec.bytes_per_cycle = std::numeric_limits<double>::infinity();
  } else {
    const std::optional<double> gb_per_s = parse_number(bandwidth.node);
    if (!gb_per_s || *gb_per_s <= 0.0) {
      reader.fail(bandwidth,
                  "must be a number > 0 or 'unlimited', got " + describe(bandwidth.node));
    }
    spec.bytes_per_cycle = *gb_per_s * 1e9 / (clock_mhz * 1e6);
  }
  const Field latency = dram.required("latency_ns");
  const double latency_ns = reader.at_least_zero(latency);
  if (spec.unlimited && latency_ns != 0.0) {
    reader.fail(latency,
                "must be 0 when bandwidth_gb_s is 'unlimited', got " + describe(latency.node));
  }
  // The scale keeps rounding noise in the product from adding a whole cycle.
  spec.latency_cycles =
      static_cast<uint64_t>(std::ceil(latency_ns * clock_mhz / 1000.0 * (1.0 - 1e-12)));
  spec.energy_pj_per_byte = reader.at_least_zero(dram.required("energy_pj_per_byte"));
  return spec;
}

YAML::Node parse_file(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path, "cannot open the file");
  } catch (const YAML::ParserException& error) {
    throw ConfigError(path, error.mark.line + 1, "not valid YAML: " + error.msg);
  }
}

}  // namespace

SystolicSpec load_yaml_spec(const std::string& path) {
  const YAML::Node root = parse_file(path);
  if (!root.IsMap()) throw ConfigError(path, 1, "the file must be a YAML mapping of keys");
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1},
                    {"name", "description", "kind", "clock_mhz", "cores", "arrays_per_core",
                     "array", "dtypes", "buffers", "vector_unit", "dram", "area"});

  SystolicSpec spec{};
  const Field name = top.required("name");
  spec.name = reader.text(name);
  if (spec.name.empty()) reader.fail(name, "must not be empty");
  // Checked for its type only: the spec has no place for prose.
  if (const std::optional<Field> description = top.optional("description")) {
    reader.text(*description);
  }
  const Field kind = top.required("kind");
  if (reader.text(kind) != "systolic") {
    reader.fail(kind, "only 'systolic' is supported for now, got " + describe(kind.node));
  }
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
  return spec;
}

}  // namespace tessel::arch
