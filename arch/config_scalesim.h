// SCALE-Sim (v2/v3) architecture files (.cfg, INI syntax), so SCALE-Sim inputs run unchanged.
#pragma once

#include <string>

#include "arch/spec.h"

namespace tessel::arch {

// One core with one array and SCALE-Sim's three SRAMs (ifmap_sram, filter_sram, ofmap_sram).
// What a .cfg cannot say (clock, energies, port widths) comes from the constant table in
// config_scalesim.cpp. Throws ConfigError for a missing, unknown or bad key, and for a
// SCALE-Sim feature that changes results and that tessel does not model.
SystolicSpec load_scalesim_cfg(const std::string& path);

}  // namespace tessel::arch
