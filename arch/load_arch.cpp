#include "arch/load_arch.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "arch/config_cpu.h"
#include "arch/config_error.h"
#include "arch/config_fpga.h"
#include "arch/config_gpu.h"
#include "arch/config_scalesim.h"
#include "arch/config_yaml.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

namespace {

struct KindReader {
  std::string_view kind;
  ArchSpec (*read)(const std::string& path, const YAML::Node& root);
};

// One row per kind of hardware a tessel YAML file can describe.
const KindReader kReaders[] = {
    {"systolic",
     [](const std::string& path, const YAML::Node& root) -> ArchSpec { return read_systolic_yaml(path, root); }},
    {"fpga", [](const std::string& path, const YAML::Node& root) -> ArchSpec { return read_fpga_yaml(path, root); }},
    {"gpu", [](const std::string& path, const YAML::Node& root) -> ArchSpec { return read_gpu_yaml(path, root); }},
    {"cpu", [](const std::string& path, const YAML::Node& root) -> ArchSpec { return read_cpu_yaml(path, root); }},
};

std::string kinds_text() {
  std::string text;
  for (const KindReader& reader : kReaders) text += (text.empty() ? "" : ", ") + std::string(reader.kind);
  return text;
}

ArchSpec load_yaml(const std::string& path) {
  const YAML::Node root = yaml::parse_file(path);
  if (!root.IsMap()) throw ConfigError(path, 1, "the file must be a YAML mapping of keys");
  // `kind` picks the schema, so it is read before the keys allowed are known.
  const YAML::Node kind = root["kind"];
  if (!kind) throw ConfigError(path, root.Mark().line + 1, "kind", "missing: must be one of " + kinds_text());
  for (const KindReader& reader : kReaders) {
    if (kind.IsScalar() && kind.Scalar() == reader.kind) return reader.read(path, root);
  }
  throw ConfigError(path, kind.Mark().line + 1, "kind",
                    "must be one of " + kinds_text() + ", got " + yaml::describe(kind));
}

}  // namespace

std::vector<std::string_view> arch_kinds() {
  std::vector<std::string_view> kinds;
  for (const KindReader& reader : kReaders) kinds.push_back(reader.kind);
  return kinds;
}

ArchSpec load_arch(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw ConfigError(path, "is a directory, not a file");
  if (!std::ifstream(path)) throw ConfigError(path, "cannot open: " + std::string(std::strerror(errno)));
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".yaml" || extension == ".yml") return load_yaml(path);
  if (extension == ".cfg") return load_scalesim_cfg(path);
  throw ConfigError(path, "unknown architecture format '" + extension +
                              "': expected .yaml or .yml (tessel) or .cfg (SCALE-Sim)");
}

namespace {

template <typename Spec>
Spec load_kind(const std::string& path, const char* wanted) {
  ArchSpec spec = load_arch(path);
  if (Spec* typed = std::get_if<Spec>(&spec)) return std::move(*typed);
  throw ConfigError(path, "describes another kind of hardware: expected " + std::string(wanted));
}

}  // namespace

SystolicSpec load_systolic_spec(const std::string& path) {
  return load_kind<SystolicSpec>(path, "a systolic array or an FPGA design");
}

GpuSpec load_gpu_spec(const std::string& path) { return load_kind<GpuSpec>(path, "a GPU (kind: gpu)"); }

CpuSpec load_cpu_spec(const std::string& path) { return load_kind<CpuSpec>(path, "a CPU (kind: cpu)"); }

}  // namespace tessel::arch
