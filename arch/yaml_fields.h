// Typed, checked reads of tessel's YAML architecture files, shared by the readers of each
// `kind` (config_yaml for systolic, config_fpga for fpga). Every failure throws ConfigError
// naming the file, the 1-based line and the full dotted key.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/spec.h"

namespace tessel::arch::yaml {

// A value of the file, the full dotted key that names it and the 1-based line of that key.
// The key's line, not the value's: yaml-cpp marks an empty value on the line after it.
struct Field {
  YAML::Node node;
  std::string key;
  int line;
};

// How a value reads in a message: "nothing", "a list", "the string \"x\"", or the scalar.
std::string describe(const YAML::Node& node);

// A plain (unquoted) finite number; quoted scalars are strings in YAML, so "256" is not one.
std::optional<double> parse_number(const YAML::Node& node);

// The file's root; throws ConfigError when it cannot be read or is not valid YAML.
YAML::Node parse_file(const std::string& path);

class Reader {
 public:
  explicit Reader(std::string file);

  [[noreturn]] void fail(const Field& field, const std::string& problem) const;

  std::string text(const Field& field) const;
  bool boolean(const Field& field) const;
  // Numbers within what hardware spans for the key's unit (value_spans.h).
  uint32_t count(const Field& field) const;  // an integer >= 1
  uint64_t whole(const Field& field) const;  // an integer >= 0
  int64_t integer(const Field& field) const;  // any integer (an index that may count from the end)
  double above_zero(const Field& field) const;
  double at_least_zero(const Field& field) const;
  double fraction(const Field& field) const;  // a number in (0, 1]
  // A size in KiB, in bytes (rounded); at least one byte.
  uint64_t capacity_bytes(const Field& field) const;
  std::vector<Field> list(const Field& field) const;

  template <typename T>
  T choice(const Field& field, std::optional<T> (*parse)(std::string_view),
           const std::string& expected) const {
    std::optional<T> value;
    if (field.node.IsScalar()) value = parse(field.node.Scalar());
    if (!value) fail(field, "must be one of " + expected + ", got " + describe(field.node));
    return *value;
  }

  const std::string& file() const { return file_; }

 private:
  // The value, or a failure when it is past what hardware spans for the key's unit (value_spans.h).
  double within_span(const Field& field, double value) const;

  std::string file_;
};

// One YAML mapping, checked on construction against the keys the schema allows there.
class Mapping {
 public:
  struct Entry {
    std::string name;
    Field field;
  };

  Mapping(const Reader& reader, Field self, const std::vector<std::string_view>& allowed);

  // A missing key is reported at the line of the mapping that should hold it.
  Field required(std::string_view name) const;
  std::optional<Field> optional(std::string_view name) const;
  // In file order.
  const std::vector<Entry>& entries() const { return entries_; }
  const Field& self() const { return self_; }

 private:
  std::string child_key(const std::string& name) const;
  const Field* find(std::string_view name) const;

  const Reader& reader_;
  Field self_;
  std::vector<Entry> entries_;
};

// The top-level `name` (required, not empty); `description` is checked for its type only,
// since a spec has no place for prose.
std::string read_name(const Reader& reader, const Mapping& top);

// Fails at the first of `formats` (a mapping of format names, not empty) when it is int4: the
// first format is a run's default, and int4 multiplies only a recipe's linears.
void refuse_sub_byte_default(const Reader& reader, const Mapping& formats);

// The number formats of an array: {format: {macs_per_pe_per_cycle, mac_energy_pj}}, in the
// file's order (the first is the default format).
std::vector<DTypeSpec> read_dtypes(const Reader& reader, const Field& field);

// The name and operands of one buffer. Each operand lives in exactly one buffer (the models
// rely on it: buffer_for), so a name or an operand an `earlier` buffer has is an error.
struct BufferHolding {
  std::string name;
  std::vector<Operand> holds;
};
BufferHolding read_buffer_holding(const Reader& reader, const Mapping& buffer,
                                  const std::vector<BufferHolding>& earlier);
// Fails at `list` unless input, weight and output each have a buffer.
void require_every_operand(const Reader& reader, const Field& list,
                           const std::vector<BufferHolding>& buffers);

}  // namespace tessel::arch::yaml
