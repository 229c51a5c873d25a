// The `--gemm M,N,K` command-line workload.
#pragma once

#include <string_view>

#include "workloads/gemm.h"

namespace tessel::workloads {

// Parses "M,N,K" (positive integers) into a GEMM named "gemm"; throws InputError.
Gemm parse_gemm_arg(std::string_view text);

}  // namespace tessel::workloads
