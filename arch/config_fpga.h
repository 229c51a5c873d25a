// The reader of `kind: fpga` architecture files: a fabric and a design on it (see
// configs/arch/u280_int8.yaml). A design that does not fit its fabric is an error naming each
// resource over budget and by how much; one that fits becomes a SystolicSpec carrying its
// resource use.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "arch/spec.h"

namespace tessel::arch {

// `root` is the file's, whose `kind` is fpga (arch/load_arch.h reads the file). Throws
// ConfigError naming file, line and key for a missing, unknown or wrong value, and at `design`
// for a design over its fabric's budget (every resource over, and by how much).
SystolicSpec read_fpga_yaml(const std::string& path, const YAML::Node& root);

}  // namespace tessel::arch
