// Which algorithm runs a collective: the one of least time among those that apply (as NCCL's
// tuner picks by message size and group shape), or the one the user pinned.
#pragma once

#include <optional>
#include <vector>

#include "arch/link/collective_cost.h"

namespace tessel::mapper {

// A pinned algorithm runs every reduction and gather (an all-to-all is always direct); throws
// std::invalid_argument, naming the algorithm and the group, where it does not apply.
arch::CollectiveCost plan_collective(const std::vector<arch::LevelSpec>& levels, arch::CollectiveKind kind,
                                     const arch::GroupSpan& span, double bytes,
                                     std::optional<arch::CollectiveAlgorithm> pinned = std::nullopt);

}  // namespace tessel::mapper
