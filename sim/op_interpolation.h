// An op's cost at a size between two simulated sizes of it: a decode step's attention over a
// cache of L positions, derived from the same op over L0 < L < L1 positions. Its work and bytes
// are affine in L, and its time nearly so (tile boundaries add a sawtooth of at most one
// tile's worth); the bound that follows for tessel's devices is stated and tested with the
// runs that use it (sim/run_workload.h).
#pragma once

#include "sim/device.h"

namespace tessel::sim {

// Each figure of `low` and `high` (one execution of each) at the fraction t ∈ [0, 1] of the
// way from low to high: counts rounded to whole ones, nothing checked, no device details.
OpResult interpolate(const OpResult& low, const OpResult& high, double t);

}  // namespace tessel::sim
