#include "mapper/collective_plan.h"

#include <stdexcept>
#include <string>

namespace tessel::mapper {

arch::CollectiveCost plan_collective(const std::vector<arch::LevelSpec>& levels, arch::CollectiveKind kind,
                                     const arch::GroupSpan& span, double bytes,
                                     std::optional<arch::CollectiveAlgorithm> pinned) {
  using arch::CollectiveAlgorithm;
  // An all-to-all has one algorithm whatever the reductions are pinned to.
  if (pinned && kind != arch::CollectiveKind::AllToAll) {
    if (!arch::collective_applies(levels, kind, span, *pinned)) {
      throw std::invalid_argument("--collective " + std::string(arch::to_string(*pinned)) + ": it does not run a " +
                                  std::string(arch::to_string(kind)) + " over a group of " +
                                  std::to_string(span.size()) + " devices on these links");
    }
    return arch::collective_cost(levels, kind, span, bytes, *pinned);
  }
  std::optional<arch::CollectiveCost> best;
  for (CollectiveAlgorithm algorithm : {CollectiveAlgorithm::Ring, CollectiveAlgorithm::Tree,
                                        CollectiveAlgorithm::Hierarchical, CollectiveAlgorithm::Torus,
                                        CollectiveAlgorithm::InSwitch, CollectiveAlgorithm::Direct}) {
    if (!arch::collective_applies(levels, kind, span, algorithm)) continue;
    arch::CollectiveCost cost = arch::collective_cost(levels, kind, span, bytes, algorithm);
    if (!best || cost.seconds() < best->seconds()) best = std::move(cost);
  }
  if (!best) throw std::invalid_argument("no algorithm runs this " + std::string(arch::to_string(kind)));
  return *best;
}

}  // namespace tessel::mapper
