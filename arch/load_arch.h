// Loads an architecture file once and returns the spec of its kind: a SCALE-Sim .cfg, or a
// tessel YAML file whose `kind` picks its reader from the table in load_arch.cpp (systolic,
// fpga, gpu, cpu). A new kind of hardware is one more reader there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "arch/arch_spec.h"

namespace tessel::arch {

// Throws ConfigError naming the file (and line and key) when it is missing, unreadable, of an
// unknown extension or kind, or wrong inside.
ArchSpec load_arch(const std::string& path);

// The kinds a tessel YAML file may name, in the table's order.
std::vector<std::string_view> arch_kinds();

// load_arch for callers that need one kind (tests, benchmarks): throws ConfigError at `kind`
// when the file describes another.
SystolicSpec load_systolic_spec(const std::string& path);
GpuSpec load_gpu_spec(const std::string& path);
CpuSpec load_cpu_spec(const std::string& path);

}  // namespace tessel::arch
