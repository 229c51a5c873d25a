// The reader of `kind: gpu` architecture files (see configs/arch/a100_sxm.yaml).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "arch/gpu/gpu_spec.h"

namespace tessel::arch {

// `root` is the file's, whose `kind` is gpu (arch/load_arch.h reads the file). Every key is
// required unless the schema marks it optional; unknown keys, wrong types and out-of-range
// values throw ConfigError naming the file, line and key.
GpuSpec read_gpu_yaml(const std::string& path, const YAML::Node& root);

}  // namespace tessel::arch
