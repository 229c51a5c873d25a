// What a device draws beside the energy of its actions, and how a power limit sets its clock.
// A board draws idle_w with nothing to run and static_w while it runs (leakage at operating
// temperature, the clock tree, PHYs awake); the energy of its actions comes on top. A device
// whose work would draw more than its limit runs at the clock that fits, as GPUs and TPUs do.
#pragma once

#include <functional>
#include <optional>

namespace tessel::arch {

struct PowerSpec {
  double idle_w;                  // nothing running
  double static_w;                // running, before the actions' energy
  std::optional<double> limit_w;  // the board's power limit (TDP); absent: the clock never drops
};

// The static energy (pJ) of one device running for `seconds`.
double static_pj(const PowerSpec& power, double seconds);

// A core action's energy at clock `hz` over its energy at `nominal_hz`: the supply voltage of a
// DVFS curve rises about linearly with the clock there, and a switched capacitance costs C V^2.
// Memory devices (DRAM, HBM) keep their own supply and are not scaled.
double core_energy_scale(double hz, double nominal_hz);

// The highest clock in (0, nominal_hz] at which `power_at(hz)` (watts, rising with the clock)
// stays within the limit, to 0.5% of the limit; nominal_hz when the power there fits or there
// is no limit. Throws std::invalid_argument when even a tenth of the clock draws too much
// (static power alone above the limit).
double power_limited_clock(const PowerSpec& power, double nominal_hz, const std::function<double(double)>& power_at);

}  // namespace tessel::arch
