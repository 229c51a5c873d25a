// tessel's own architecture format: a strict YAML schema (see configs/arch/*.yaml).
#pragma once

#include <string>

#include "arch/spec.h"

namespace tessel::arch {

// Every key is required unless the schema marks it optional; unknown keys, wrong types and
// out-of-range values throw ConfigError naming the file, line and key.
SystolicSpec load_yaml_spec(const std::string& path);

}  // namespace tessel::arch
