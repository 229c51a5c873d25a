// The reader of `kind: gpu` architecture files (see configs/arch/a100_sxm.yaml).
#pragma once

#include <string>

#include "arch/gpu/gpu_spec.h"

namespace tessel::arch {

// Every key is required; unknown keys, wrong types and out-of-range values throw ConfigError
// naming the file, line and key. A file whose `kind` is not gpu is an error at `kind`.
GpuSpec load_gpu_spec(const std::string& path);

// Whether a tessel YAML file says `kind: gpu` (false for anything else, unreadable included),
// so a command can pick the right reader before reading.
bool is_gpu_file(const std::string& path);

}  // namespace tessel::arch
