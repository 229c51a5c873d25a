#include "arch/yaml_fields.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "arch/config_error.h"
#include "arch/value_spans.h"

namespace tessel::arch::yaml {

namespace {

constexpr Operand kOperands[] = {Operand::Input, Operand::Weight, Operand::Output};
constexpr DType kDTypes[] = {DType::Int8, DType::Fp8, DType::Fp16, DType::Bf16, DType::Fp32, DType::Int4};

bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

std::optional<int64_t> parse_integer(const YAML::Node& node) {
  if (!is_plain_scalar(node)) return std::nullopt;
  const std::string& text = node.Scalar();
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
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

}  // namespace

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.Tag() == "!") return "the string \"" + node.Scalar() + "\"";
  return node.Scalar();
}

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

YAML::Node parse_file(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw ConfigError(path, "cannot open the file");
  } catch (const YAML::ParserException& error) {
    throw ConfigError(path, error.mark.line + 1, "not valid YAML: " + error.msg);
  }
}

Reader::Reader(std::string file) : file_(std::move(file)) {}

void Reader::fail(const Field& field, const std::string& problem) const {
  throw ConfigError(file_, field.line, field.key, problem);
}

std::string Reader::text(const Field& field) const {
  if (!field.node.IsScalar()) fail(field, "must be a string, got " + describe(field.node));
  return field.node.Scalar();
}

bool Reader::boolean(const Field& field) const {
  if (is_plain_scalar(field.node) && field.node.Scalar() == "true") return true;
  if (is_plain_scalar(field.node) && field.node.Scalar() == "false") return false;
  fail(field, "must be true or false, got " + describe(field.node));
}

double Reader::within_span(const Field& field, double value) const {
  const ValueSpan span = value_span(field.key);
  if (value > span.most) {
    fail(field, describe(field.node) + " is beyond what hardware spans: at most " + span.what);
  }
  return value;
}

uint32_t Reader::count(const Field& field) const {
  const std::optional<int64_t> value = parse_integer(field.node);
  if (!value || *value < 1 || *value > std::numeric_limits<uint32_t>::max()) {
    fail(field, "must be a positive integer, got " + describe(field.node));
  }
  return static_cast<uint32_t>(within_span(field, static_cast<double>(*value)));
}

uint64_t Reader::whole(const Field& field) const {
  const std::optional<int64_t> value = parse_integer(field.node);
  if (!value || *value < 0) fail(field, "must be an integer >= 0, got " + describe(field.node));
  return static_cast<uint64_t>(within_span(field, static_cast<double>(*value)));
}

int64_t Reader::integer(const Field& field) const {
  const std::optional<int64_t> value = parse_integer(field.node);
  if (!value) fail(field, "must be an integer, got " + describe(field.node));
  return *value;
}

double Reader::above_zero(const Field& field) const {
  const std::optional<double> value = parse_number(field.node);
  if (!value || *value <= 0.0) fail(field, "must be a number > 0, got " + describe(field.node));
  return within_span(field, *value);
}

double Reader::at_least_zero(const Field& field) const {
  const std::optional<double> value = parse_number(field.node);
  if (!value || *value < 0.0) fail(field, "must be a number >= 0, got " + describe(field.node));
  return within_span(field, *value);
}

double Reader::fraction(const Field& field) const {
  const double value = above_zero(field);
  if (value > 1.0) fail(field, "must be at most 1, got " + describe(field.node));
  return value;
}

uint64_t Reader::capacity_bytes(const Field& field) const {
  const double bytes = std::round(above_zero(field) * 1024.0);
  if (bytes < 1.0) fail(field, "comes to less than one byte");
  if (bytes >= 0x1p64) fail(field, "is too large");
  return static_cast<uint64_t>(bytes);
}

std::vector<Field> Reader::list(const Field& field) const {
  if (!field.node.IsSequence()) fail(field, "must be a list, got " + describe(field.node));
  std::vector<Field> items;
  for (size_t i = 0; i < field.node.size(); ++i) {
    const YAML::Node item = field.node[i];
    const int line = item.Mark().line >= 0 ? item.Mark().line + 1 : field.line;
    items.push_back({item, field.key + "[" + std::to_string(i) + "]", line});
  }
  return items;
}

Mapping::Mapping(const Reader& reader, Field self, const std::vector<std::string_view>& allowed)
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

Field Mapping::required(std::string_view name) const {
  if (const Field* field = find(name)) return *field;
  reader_.fail({YAML::Node(), child_key(std::string(name)), self_.line}, "missing (required)");
}

std::optional<Field> Mapping::optional(std::string_view name) const {
  if (const Field* field = find(name)) return *field;
  return std::nullopt;
}

std::string Mapping::child_key(const std::string& name) const {
  return self_.key.empty() ? name : self_.key + "." + name;
}

const Field* Mapping::find(std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.name == name) return &entry.field;
  }
  return nullptr;
}

std::string read_name(const Reader& reader, const Mapping& top) {
  const Field name = top.required("name");
  std::string text = reader.text(name);
  if (text.empty()) reader.fail(name, "must not be empty");
  if (const std::optional<Field> description = top.optional("description")) reader.text(*description);
  return text;
}

void refuse_sub_byte_default(const Reader& reader, const Mapping& formats) {
  const Mapping::Entry& first = formats.entries().front();
  if (is_sub_byte(*parse_dtype(first.name))) {
    reader.fail(first.field, "comes first, and the first format is a run's default; " + first.name +
                                 " multiplies only a recipe's linears (--quant w4a4): list a format of 8 bits or more "
                                 "first");
  }
}

std::vector<DTypeSpec> read_dtypes(const Reader& reader, const Field& field) {
  std::vector<std::string_view> names;
  for (DType dtype : kDTypes) names.push_back(to_string(dtype));
  const Mapping formats(reader, field, names);
  if (formats.entries().empty()) reader.fail(field, "must name at least one number format");
  refuse_sub_byte_default(reader, formats);
  std::vector<DTypeSpec> dtypes;
  for (const Mapping::Entry& entry : formats.entries()) {
    const Mapping numbers(reader, entry.field, {"macs_per_pe_per_cycle", "mac_energy_pj"});
    dtypes.push_back({*parse_dtype(entry.name),
                      reader.above_zero(numbers.required("macs_per_pe_per_cycle")),
                      reader.at_least_zero(numbers.required("mac_energy_pj"))});
  }
  return dtypes;
}

BufferHolding read_buffer_holding(const Reader& reader, const Mapping& buffer,
                                  const std::vector<BufferHolding>& earlier) {
  BufferHolding holding;
  const Field name = buffer.required("name");
  holding.name = reader.text(name);
  for (const BufferHolding& other : earlier) {
    if (other.name == holding.name) {
      reader.fail(name, "buffer name '" + holding.name + "' is used twice");
    }
  }
  const Field holds = buffer.required("holds");
  for (const Field& entry : reader.list(holds)) {
    const Operand operand = reader.choice(entry, parse_operand, "input, weight, output");
    const std::string operand_name(to_string(operand));
    for (Operand held : holding.holds) {
      if (held == operand) reader.fail(entry, "lists '" + operand_name + "' twice");
    }
    for (const BufferHolding& other : earlier) {
      for (Operand held : other.holds) {
        if (held == operand) {
          reader.fail(entry, "operand '" + operand_name + "' is already held by buffer '" +
                                 other.name + "'; each operand lives in exactly one buffer");
        }
      }
    }
    holding.holds.push_back(operand);
  }
  if (holding.holds.empty()) reader.fail(holds, "must list at least one operand");
  return holding;
}

void require_every_operand(const Reader& reader, const Field& list,
                           const std::vector<BufferHolding>& buffers) {
  for (Operand operand : kOperands) {
    bool held = false;
    for (const BufferHolding& buffer : buffers) {
      for (Operand other : buffer.holds) held = held || other == operand;
    }
    if (!held) {
      reader.fail(list, "no buffer holds operand '" + std::string(to_string(operand)) +
                            "'; input, weight and output each need exactly one");
    }
  }
}

}  // namespace tessel::arch::yaml
