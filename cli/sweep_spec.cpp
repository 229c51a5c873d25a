#include "cli/sweep_spec.h"

#include <filesystem>

#include "arch/config_error.h"
#include "arch/yaml_fields.h"

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

SweepAxis read_axis(const Reader& reader, const Mapping::Entry& entry, const YAML::Node& arch,
                    const std::string& arch_file) {
  const YAML::Node target = find_key(arch, entry.name);
  if (!target.IsDefined()) reader.fail(entry.field, "is not a key of " + arch_file);
  if (!target.IsScalar()) {
    reader.fail(entry.field, "names " + arch::yaml::describe(target) + " in " + arch_file + ", not one value");
  }
  if (!entry.field.node.IsSequence() || entry.field.node.size() == 0) {
    reader.fail(entry.field, "must be a list of the values to try, got " + arch::yaml::describe(entry.field.node));
  }
  SweepAxis axis{entry.name, {}, {}};
  for (const Field& value : reader.list(entry.field)) {
    if (!value.node.IsScalar()) reader.fail(value, "must be one value, got " + arch::yaml::describe(value.node));
    axis.values.push_back(value.node);
    axis.labels.push_back(value.node.Scalar());
  }
  return axis;
}

std::vector<std::string> read_run_args(const Reader& reader, const Field& run) {
  if (!run.node.IsMap()) {
    reader.fail(run, "must be a mapping of `tessel run` flags, got " + arch::yaml::describe(run.node));
  }
  std::vector<std::string> args;
  for (const auto& item : run.node) {
    const std::string flag = item.first.Scalar();
    const Field field{item.second, run.key + "." + flag, static_cast<int>(item.first.Mark().line) + 1};
    if (flag == "arch" || flag == "out" || flag == "quiet") {
      reader.fail(field, "is set by the sweep itself (the point's architecture, --out, --quiet)");
    }
    if (flag == "help" || flag == "h") {
      reader.fail(field, "asks for `tessel run`'s help, which a sweep point cannot run");
    }
    if (!item.second.IsScalar()) reader.fail(field, "must be one value, got " + arch::yaml::describe(item.second));
    const std::string value = item.second.Scalar();
    if (value == "true") {
      args.push_back("--" + flag);
    } else if (value != "false") {
      args.push_back("--" + flag);
      args.push_back(value);
    }
  }
  return args;
}

}  // namespace

uint64_t SweepSpec::points() const {
  uint64_t count = 1;
  for (const SweepAxis& axis : axes) count *= axis.values.size();
  return count;
}

std::vector<size_t> SweepSpec::coordinates(uint64_t point) const {
  std::vector<size_t> index(axes.size());
  for (size_t i = axes.size(); i-- > 0;) {
    index[i] = static_cast<size_t>(point % axes[i].values.size());
    point /= axes[i].values.size();
  }
  return index;
}

SweepSpec read_sweep_spec(const std::string& path) {
  const YAML::Node root = arch::yaml::parse_file(path);
  if (!root.IsMap()) throw arch::ConfigError(path, 1, "the file must be a YAML mapping of keys");
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1}, {"name", "arch", "vary", "run"});
  SweepSpec spec;
  spec.file = path;
  const Field arch_field = top.required("arch");
  const std::filesystem::path arch_path = std::filesystem::path(path).parent_path() / reader.text(arch_field);
  spec.arch_file = arch_path.lexically_normal().string();
  if (arch_path.extension() != ".yaml" && arch_path.extension() != ".yml") {
    reader.fail(arch_field, "must be a tessel YAML architecture (the sweep varies its keys), got " + spec.arch_file);
  }
  if (!std::filesystem::exists(arch_path)) {
    reader.fail(arch_field, "names " + spec.arch_file + ", which does not exist");
  }
  spec.arch = arch::yaml::parse_file(spec.arch_file);
  spec.name = top.optional("name") ? reader.text(*top.optional("name")) : arch_path.stem().string();
  const Field vary = top.required("vary");
  if (!vary.node.IsMap() || vary.node.size() == 0) {
    reader.fail(vary, "must map architecture keys to lists of values, got " + arch::yaml::describe(vary.node));
  }
  for (const auto& item : vary.node) {
    const int line = static_cast<int>(item.first.Mark().line) + 1;
    const Mapping::Entry entry{item.first.Scalar(), {item.second, "vary." + item.first.Scalar(), line}};
    spec.axes.push_back(read_axis(reader, entry, spec.arch, spec.arch_file));
  }
  spec.run_args = read_run_args(reader, top.required("run"));
  return spec;
}

YAML::Node arch_at(const SweepSpec& spec, uint64_t point) {
  YAML::Node arch = YAML::Clone(spec.arch);
  const std::vector<size_t> index = spec.coordinates(point);
  for (size_t i = 0; i < spec.axes.size(); ++i) {
    YAML::Node target = find_key(arch, spec.axes[i].key);
    target = YAML::Clone(spec.axes[i].values[index[i]]);  // assignment writes into the tree
  }
  return arch;
}

}  // namespace tessel::cli
