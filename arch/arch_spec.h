// An architecture of any kind, as its file describes it: the spec of its kind. FPGA designs
// convert to a SystolicSpec when they are read (arch/fpga/to_systolic.h).
#pragma once

#include <string>
#include <variant>

#include "arch/cpu/cpu_spec.h"
#include "arch/gpu/gpu_spec.h"
#include "arch/spec.h"

namespace tessel::arch {

using ArchSpec = std::variant<SystolicSpec, GpuSpec, CpuSpec>;

const std::string& name_of(const ArchSpec& spec);
const std::string& source_file_of(const ArchSpec& spec);

}  // namespace tessel::arch
