#include "arch/config_system.h"

#include <filesystem>
#include <limits>

#include "arch/config_error.h"
#include "arch/load_arch.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

namespace {

using yaml::Field;
using yaml::Mapping;
using yaml::Reader;

std::vector<uint32_t> read_dims(const Reader& reader, const Field& field) {
  std::vector<uint32_t> dims;
  for (const Field& dim : reader.list(field)) dims.push_back(reader.count(dim));
  if (dims.empty() || dims.size() > 3) reader.fail(field, "must list one to three dimensions");
  return dims;
}

LevelSpec read_level(const Reader& reader, const Field& field) {
  const Mapping level(reader, field,
                      {"name", "topology", "size", "dims", "wraparound", "bandwidth_gb_s", "latency_us",
                       "achievable_fraction", "energy_pj_per_byte", "collective_latency_us", "in_switch_reduction"});
  LevelSpec spec;
  spec.name = reader.text(level.required("name"));
  if (spec.name.empty()) reader.fail(level.required("name"), "must not be empty");
  const Field topology = level.required("topology");
  const std::string kind = reader.text(topology);
  if (kind == "switch") {
    spec.topology = Topology::Switch;
    spec.dims = {reader.count(level.required("size"))};
    for (const char* torus_only : {"dims", "wraparound"}) {
      if (const auto extra = level.optional(torus_only)) reader.fail(*extra, "applies to a torus, not a switch");
    }
  } else if (kind == "torus") {
    spec.topology = Topology::Torus;
    spec.dims = read_dims(reader, level.required("dims"));
    spec.wraparound = reader.boolean(level.required("wraparound"));
    if (const auto size = level.optional("size")) reader.fail(*size, "a torus's size is the product of its dims");
    if (const auto reduction = level.optional("in_switch_reduction")) {
      reader.fail(*reduction, "applies to a switch, not a torus");
    }
  } else {
    reader.fail(topology, "must be one of switch, torus, got " + yaml::describe(topology.node));
  }
  spec.link.bytes_per_second = reader.above_zero(level.required("bandwidth_gb_s")) * 1e9;
  spec.link.latency_s = reader.at_least_zero(level.required("latency_us")) * 1e-6;
  spec.link.achievable_fraction = reader.fraction(level.required("achievable_fraction"));
  spec.link.energy_pj_per_byte = reader.at_least_zero(level.required("energy_pj_per_byte"));
  spec.collective_latency_s = reader.at_least_zero(level.required("collective_latency_us")) * 1e-6;
  if (const auto reduction = level.optional("in_switch_reduction")) {
    spec.in_switch_reduction = reader.boolean(*reduction);
  }
  return spec;
}

}  // namespace

SystemSpec load_system(const std::string& path) {
  const YAML::Node root = yaml::parse_file(path);
  if (!root.IsMap()) throw ConfigError(path, 1, "the file must be a YAML mapping of keys");
  const Reader reader(path);
  const Mapping top(reader, {root, "", root.Mark().line + 1}, {"name", "description", "device", "levels"});
  SystemSpec system;
  system.name = yaml::read_name(reader, top);
  system.source_file = path;
  const Field device = top.required("device");
  const std::filesystem::path device_path = std::filesystem::path(path).parent_path() / reader.text(device);
  system.device_file = device_path.lexically_normal().string();
  if (!std::filesystem::is_regular_file(system.device_file)) {
    reader.fail(device, "no architecture file at " + system.device_file);
  }
  system.device = load_arch(system.device_file);
  const Field levels = top.required("levels");
  for (const Field& level : reader.list(levels)) {
    system.levels.push_back(read_level(reader, level));
    for (size_t i = 0; i + 1 < system.levels.size(); ++i) {
      if (system.levels[i].name == system.levels.back().name) reader.fail(level, "a level of that name comes before");
    }
  }
  if (system.levels.empty()) reader.fail(levels, "must list at least one level of links");
  uint64_t devices = 1;
  for (const LevelSpec& level : system.levels) {
    if (level.size() > std::numeric_limits<uint32_t>::max() / devices) reader.fail(levels, "more devices than 2^32");
    devices *= level.size();
  }
  return system;
}

}  // namespace tessel::arch
