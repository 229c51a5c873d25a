// Loads an architecture file by its extension: .yaml/.yml (tessel) or .cfg (SCALE-Sim).
#pragma once

#include <string>

#include "arch/spec.h"

namespace tessel::arch {

// Throws ConfigError naming the file when it is missing, unreadable, of an unknown
// extension, or wrong inside.
SystolicSpec load_spec(const std::string& path);

}  // namespace tessel::arch
