// The reader of `kind: cpu` architecture files (see configs/arch/xeon_8480.yaml).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "arch/cpu/cpu_spec.h"

namespace tessel::arch {

// `root` is the file's, whose `kind` is cpu (arch/load_arch.h reads the file). Every key is
// required unless the schema marks it optional; unknown keys, wrong types and out-of-range
// values throw ConfigError naming the file, line and key.
CpuSpec read_cpu_yaml(const std::string& path, const YAML::Node& root);

}  // namespace tessel::arch
