// Reads the `power:` mapping an architecture file may carry (arch/power.h says what it means).
#pragma once

#include "arch/power.h"
#include "arch/yaml_fields.h"

namespace tessel::arch {

// idle_w, static_w and limit_w (optional). Throws ConfigError naming the key when static_w is
// below idle_w or the limit not above static_w.
PowerSpec read_power(const yaml::Reader& reader, const yaml::Field& field);
// The same for a kind whose clock tessel keeps fixed (systolic arrays, FPGA designs): a
// limit_w is refused, since nothing would lower the clock to meet it.
PowerSpec read_fixed_clock_power(const yaml::Reader& reader, const yaml::Field& field);

}  // namespace tessel::arch
