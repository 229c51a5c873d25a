#include "cli/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <set>

#include "arch/config_error.h"
#include "arch/yaml_fields.h"
#include "cli/sweep_expression.h"

namespace tessel::cli {

namespace {

using arch::yaml::Field;
using arch::yaml::Mapping;
using arch::yaml::Reader;

// The node a dotted key names inside `root` (a handle into it), or an undefined node when it
// has none. Walks with reset(): assigning one yaml-cpp node to another rewrites the tree.
YAML::Node find_key(const YAML::Node& root, const std::string& dotted) {
  YAML::Node current;
  current.reset(root);
  size_t start = 0;
  while (true) {
    const size_t dot = dotted.find('.', start);
    const std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const YAML::Node& here = current;  // const lookups never add a key
    YAML::Node next;
    if (here.IsMap() && here[part]) {
      next.reset(here[part]);
    } else if (here.IsSequence() && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(part) < here.size()) {
      next.reset(here[std::stoul(part)]);
    } else {
      return YAML::Node(YAML::NodeType::Undefined);
    }
    current.reset(next);
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

// The flags a sweep sets itself, or that cannot run in a point.
void refuse_reserved_flag(const Reader& reader, const Field& field, const std::string& flag, const SweepSpec& spec) {
  if (flag == "arch" || flag == "system" || flag == "out" || flag == "quiet" || flag == "search") {
    reader.fail(field, "is set by the sweep itself (the point's " + spec.hardware_flag + ", --out, --quiet) or "
                       "runs no point (--search)");
  }
  if (flag == "help" || flag == "h") {
    reader.fail(field, "asks for `tessel " + spec.command + "`'s help, which a sweep point cannot run");
  }
}

SweepAxis read_axis(const Reader& reader, const Mapping::Entry& entry, const SweepSpec& spec) {
  SweepAxis axis{entry.name, {}, {}, {}};
  const std::string prefix = spec.command + ".";
  const std::string other = spec.command == "run" ? "train." : "run.";
  if (entry.name.rfind(prefix, 0) == 0) {
    axis.run_flag = entry.name.substr(prefix.size());
    refuse_reserved_flag(reader, entry.field, axis.run_flag, spec);
  } else if (entry.name.rfind(other, 0) == 0) {
    reader.fail(entry.field, "varies a `tessel " + other.substr(0, other.size() - 1) +
                                 "` flag, but the points run `tessel " + spec.command + "` (its flags are varied as " +
                                 prefix + "<flag>)");
  } else {
    const YAML::Node target = find_key(spec.hardware, entry.name);
    if (!target.IsDefined()) {
      reader.fail(entry.field, "is not a key of " + spec.hardware_file + " (a `tessel " + spec.command +
                                   "` flag is varied as " + prefix + entry.name + ")");
    }
    if (!target.IsScalar()) {
      reader.fail(entry.field,
                  "names " + arch::yaml::describe(target) + " in " + spec.hardware_file + ", not one value");
    }
  }
  if (!entry.field.node.IsSequence() || entry.field.node.size() == 0) {
    reader.fail(entry.field, "must be a list of the values to try, got " + arch::yaml::describe(entry.field.node));
  }
  for (const Field& value : reader.list(entry.field)) {
    if (!value.node.IsScalar()) reader.fail(value, "must be one value, got " + arch::yaml::describe(value.node));
    // A row of sweep.csv is one line (pareto.csv takes its rows back by line).
    if (value.node.Scalar().find('\n') != std::string::npos) reader.fail(value, "must be one line");
    axis.values.push_back(value.node);
    axis.labels.push_back(value.node.Scalar());
  }
  return axis;
}

std::vector<std::string> read_run_args(const Reader& reader, const Field& run, const SweepSpec& spec) {
  if (!run.node.IsMap()) {
    reader.fail(run, "must be a mapping of `tessel " + spec.command + "` flags, got " + arch::yaml::describe(run.node));
  }
  std::vector<std::string> args;
  for (const auto& item : run.node) {
    const std::string flag = item.first.Scalar();
    const Field field{item.second, run.key + "." + flag, static_cast<int>(item.first.Mark().line) + 1};
    refuse_reserved_flag(reader, field, flag, spec);
    if (!item.second.IsScalar()) reader.fail(field, "must be one value, got " + arch::yaml::describe(item.second));
    append_run_flag(args, flag, item.second.Scalar());
  }
  return args;
}

// The grid's size, or nothing past 2^63 combinations.
std::optional<uint64_t> grid_size(const std::vector<SweepAxis>& axes) {
  uint64_t size = 1;
  for (const SweepAxis& axis : axes) {
    if (size > (uint64_t{1} << 63) / axis.values.size()) return std::nullopt;
    size *= axis.values.size();
  }
  return size;
}

// `sample`: the points of a sampler (see sweep_spec.h); none for the grid.
std::vector<std::vector<size_t>> read_sample(const Reader& reader, const Field& sample, const SweepSpec& spec) {
  std::vector<std::vector<size_t>> points;
  if (sample.node.IsScalar() && sample.node.Scalar() == "grid") return points;
  if (sample.node.IsScalar() && sample.node.Scalar() == "zip") {
    const size_t length = spec.axes.front().values.size();
    for (const SweepAxis& axis : spec.axes) {
      if (axis.values.size() != length) {
        reader.fail(sample, "zip takes the i-th value of every axis: vary." + spec.axes.front().key + " has " +
                                std::to_string(length) + " and vary." + axis.key + " " +
                                std::to_string(axis.values.size()) + " values");
      }
    }
    for (size_t i = 0; i < length; ++i) points.emplace_back(spec.axes.size(), i);
    return points;
  }
  if (!sample.node.IsMap()) {
    reader.fail(sample, "must be grid, zip, {random: N, seed: S} or {latin: N, seed: S}, got " +
                            arch::yaml::describe(sample.node));
  }
  const Mapping fields(reader, sample, {"random", "latin", "seed"});
  const std::optional<Field> random = fields.optional("random");
  const std::optional<Field> latin = fields.optional("latin");
  if (random.has_value() == latin.has_value()) reader.fail(sample, "needs one of random or latin (a count of points)");
  const uint64_t count = reader.count(random ? *random : *latin);
  const std::optional<Field> seed_field = fields.optional("seed");
  std::mt19937_64 generator(seed_field ? reader.whole(*seed_field) : 1);
  if (random) {
    // Distinct combinations drawn uniformly (Floyd's method), in grid order.
    const std::optional<uint64_t> size = grid_size(spec.axes);
    if (size && count > *size) {
      reader.fail(*random, "asks for " + std::to_string(count) + " distinct points of a grid of " +
                               std::to_string(*size));
    }
    const uint64_t grid = size.value_or(uint64_t{1} << 63);
    std::set<uint64_t> chosen;
    for (uint64_t j = grid - count; j < grid; ++j) {
      const uint64_t draw = std::uniform_int_distribution<uint64_t>(0, j)(generator);
      if (!chosen.insert(draw).second) chosen.insert(j);
    }
    SweepSpec grid_spec;
    grid_spec.axes = spec.axes;
    for (const uint64_t point : chosen) points.push_back(grid_spec.coordinates(point));
    return points;
  }
  // Latin hypercube: each axis's values in equal shares over the points, in an order of its own.
  points.assign(count, std::vector<size_t>(spec.axes.size()));
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    std::vector<uint64_t> strata(count);
    for (uint64_t i = 0; i < count; ++i) strata[i] = i;
    std::shuffle(strata.begin(), strata.end(), generator);
    for (uint64_t i = 0; i < count; ++i) {
      points[i][a] = static_cast<size_t>(strata[i] * spec.axes[a].values.size() / count);
    }
  }
  return points;
}

// `derive`: each key a scalar of the hardware file that no axis varies, each expression over
// keys with numbers at the first point (the values of later points are numbers too).
void read_derived(const Reader& reader, const Field& derive, SweepSpec& spec) {
  if (!derive.node.IsMap()) {
    reader.fail(derive, "must map keys of " + spec.hardware_file + " to expressions, got " +
                            arch::yaml::describe(derive.node));
  }
  for (const auto& item : derive.node) {
    const std::string key = item.first.Scalar();
    const Field field{item.second, "derive." + key, static_cast<int>(item.first.Mark().line) + 1};
    const YAML::Node target = find_key(spec.hardware, key);
    if (!target.IsDefined() || !target.IsScalar()) reader.fail(field, "is not one value of " + spec.hardware_file);
    for (const SweepAxis& axis : spec.axes) {
      if (axis.key == key) reader.fail(field, "is varied by vary." + key + " too: give it in one place");
    }
    if (!item.second.IsScalar()) reader.fail(field, "must be an expression, got " + arch::yaml::describe(item.second));
    spec.derived.emplace_back(key, item.second.Scalar());
    try {
      hardware_at(spec, 0);
    } catch (const ExpressionError& error) {
      reader.fail(field, error.what());
    }
  }
}

// `constraints`: comparisons over the hardware file's numbers and the device's figures.
void read_constraints(const Reader& reader, const Field& constraints, SweepSpec& spec) {
  for (const Field& item : reader.list(constraints)) {
    if (!item.node.IsScalar()) reader.fail(item, "must be a comparison, got " + arch::yaml::describe(item.node));
    const std::string text = item.node.Scalar();
    try {
      for (const std::string& name : names_in(text)) {
        const bool figure = std::find(kDeviceFigures.begin(), kDeviceFigures.end(), name) != kDeviceFigures.end();
        if (!figure && !number_at(spec.hardware, name)) {
          std::string figures;
          for (const std::string& known : kDeviceFigures) figures += (figures.empty() ? "" : ", ") + known;
          reader.fail(item, name + " is neither a number of " + spec.hardware_file + " nor a device figure (" +
                                figures + ")");
        }
      }
      holds(text, [](const std::string&) { return std::optional<double>(1.0); });
    } catch (const ExpressionError& error) {
      reader.fail(item, error.what());
    }
    spec.constraints.push_back(text);
  }
}

}  // namespace

void append_run_flag(std::vector<std::string>& args, const std::string& flag, const std::string& value) {
  if (value == "false") return;
  args.push_back("--" + flag);
  if (value != "true") args.push_back(value);
}

std::optional<double> number_at(const YAML::Node& root, const std::string& key) {
  const YAML::Node node = find_key(root, key);
  if (!node.IsDefined() || !node.IsScalar()) return std::nullopt;
  return arch::yaml::parse_number(node);
}

uint64_t SweepSpec::points() const {
  if (!sampled.empty()) return sampled.size();
  uint64_t count = 1;
  for (const SweepAxis& axis : axes) count *= axis.values.size();
  return count;
}

std::vector<size_t> SweepSpec::coordinates(uint64_t point) const {
  if (!sampled.empty()) return sampled.at(point);
  std::vector<size_t> index(axes.size());
  for (size_t i = axes.size(); i-- > 0;) {
    index[i] = static_cast<size_t>(point % axes[i].values.size());
    point /= axes[i].values.size();
  }
  return index;
}

// `arch:` or `system:`, whichever the file gives (one of them): its path and root.
void read_hardware(const Reader& reader, const Mapping& top, const Field& self, SweepSpec& spec) {
  const std::optional<Field> arch = top.optional("arch");
  const std::optional<Field> system = top.optional("system");
  if (arch.has_value() == system.has_value()) {
    reader.fail(arch ? *arch : self,
                "give one of arch (a tessel architecture YAML) or system (a system of devices YAML)");
  }
  const Field field = arch ? *arch : *system;
  spec.hardware_flag = arch ? "arch" : "system";
  const std::filesystem::path path = std::filesystem::path(spec.file).parent_path() / reader.text(field);
  spec.hardware_file = path.lexically_normal().string();
  if (path.extension() != ".yaml" && path.extension() != ".yml") {
    reader.fail(field, "must be a tessel YAML " + std::string(arch ? "architecture" : "system") +
                           " (the sweep varies its keys), got " + spec.hardware_file);
  }
  if (!std::filesystem::exists(path)) reader.fail(field, "names " + spec.hardware_file + ", which does not exist");
  spec.hardware = arch::yaml::parse_file(spec.hardware_file);
  if (system && !(spec.hardware.IsMap() && spec.hardware["device"] && spec.hardware["device"].IsScalar())) {
    reader.fail(field, spec.hardware_file + " names no device file (its `device` key)");
  }
}

SweepSpec read_sweep_spec(const std::string& path) {
  const YAML::Node root = arch::yaml::parse_file(path);
  if (!root.IsMap()) throw arch::ConfigError(path, 1, "the file must be a YAML mapping of keys");
  const Reader reader(path);
  const Field self{root, "", root.Mark().line + 1};
  const Mapping top(reader, self,
                    {"name", "arch", "system", "vary", "run", "train", "sample", "derive", "constraints"});
  SweepSpec spec;
  spec.file = path;
  read_hardware(reader, top, self, spec);
  const std::optional<Field> run_field = top.optional("run");
  const std::optional<Field> train_field = top.optional("train");
  if (run_field.has_value() == train_field.has_value()) {
    reader.fail(run_field ? *run_field : self,
                "give one of run (`tessel run` flags) or train (`tessel train` flags): what every point runs");
  }
  spec.command = run_field ? "run" : "train";
  spec.name = top.optional("name") ? reader.text(*top.optional("name"))
                                   : std::filesystem::path(spec.hardware_file).stem().string();
  const Field vary = top.required("vary");
  if (!vary.node.IsMap() || vary.node.size() == 0) {
    reader.fail(vary, "must map keys of " + spec.hardware_file + " or " + spec.command +
                          ".<flag> to lists of values, got " + arch::yaml::describe(vary.node));
  }
  for (const auto& item : vary.node) {
    const int line = static_cast<int>(item.first.Mark().line) + 1;
    const Mapping::Entry entry{item.first.Scalar(), {item.second, "vary." + item.first.Scalar(), line}};
    spec.axes.push_back(read_axis(reader, entry, spec));
  }
  if (const std::optional<Field> sample = top.optional("sample")) spec.sampled = read_sample(reader, *sample, spec);
  if (const std::optional<Field> derive = top.optional("derive")) read_derived(reader, *derive, spec);
  if (const std::optional<Field> constraints = top.optional("constraints")) {
    read_constraints(reader, *constraints, spec);
  }
  const Field run = run_field ? *run_field : *train_field;
  spec.run_args = read_run_args(reader, run, spec);
  for (const SweepAxis& axis : spec.axes) {
    for (const auto& item : run.node) {
      if (axis.run_flag.empty() || item.first.Scalar() != axis.run_flag) continue;
      const Field field{item.second, spec.command + "." + axis.run_flag, static_cast<int>(item.first.Mark().line) + 1};
      reader.fail(field, "is varied by vary." + axis.key + " too: give it in one place");
    }
  }
  return spec;
}

std::vector<std::string> SweepSpec::run_args_at(uint64_t point) const {
  std::vector<std::string> args = run_args;
  const std::vector<size_t> index = coordinates(point);
  for (size_t i = 0; i < axes.size(); ++i) {
    if (!axes[i].run_flag.empty()) append_run_flag(args, axes[i].run_flag, axes[i].labels[index[i]]);
  }
  return args;
}

YAML::Node hardware_at(const SweepSpec& spec, uint64_t point) {
  YAML::Node root = YAML::Clone(spec.hardware);
  const std::vector<size_t> index = spec.coordinates(point);
  for (size_t i = 0; i < spec.axes.size(); ++i) {
    if (!spec.axes[i].run_flag.empty()) continue;
    YAML::Node target = find_key(root, spec.axes[i].key);
    target = YAML::Clone(spec.axes[i].values[index[i]]);  // assignment writes into the tree
  }
  for (const auto& [key, expression] : spec.derived) {
    const double value = evaluate(expression, [&](const std::string& name) { return number_at(root, name); });
    YAML::Node target = find_key(root, key);
    // A whole number as an integer, so that integer keys (a buffer's KiB) read it.
    if (value == std::floor(value) && std::abs(value) < 9e15) {
      target = static_cast<long long>(value);
    } else {
      target = value;
    }
  }
  if (spec.hardware_flag == "system") {
    const std::filesystem::path folder = std::filesystem::path(spec.hardware_file).parent_path();
    root["device"] = std::filesystem::absolute(folder / root["device"].Scalar()).lexically_normal().string();
  }
  return root;
}

}  // namespace tessel::cli
