// SCALE-Sim topology files (CSV), read as the GEMMs they stand for.
#pragma once

#include <string>

#include "workloads/gemm.h"

namespace tessel::workloads {

// The header picks the layout:
//   conv: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
//         Num Filter, Strides   -- lowered to GEMM as SCALE-Sim does
//   GEMM: Layer, M, N, K
// Lines may end with a comma, as SCALE-Sim writes them. The graph is named after the file's
// stem. Throws InputError naming the file, the line and the column.
Graph read_topology_csv(const std::string& path);

}  // namespace tessel::workloads
