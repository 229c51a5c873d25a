// tessel's own architecture format: a strict YAML schema (see configs/arch/*.yaml).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "arch/spec.h"

namespace tessel::arch {

// The file's root, whose `kind` is systolic (arch/load_arch.h reads the file). Every key is
// required unless the schema marks it optional; unknown keys, wrong types and out-of-range
// values throw ConfigError naming the file, line and key.
SystolicSpec read_systolic_yaml(const std::string& path, const YAML::Node& root);

}  // namespace tessel::arch
