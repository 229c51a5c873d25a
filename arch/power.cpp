#include "arch/power.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace tessel::arch {

namespace {

constexpr double kLowestClockShare = 0.1;  // below this a board would rather fail than run
constexpr double kPowerTolerance = 0.005;  // of the limit: what the search settles for
constexpr int kMaxSteps = 60;

}  // namespace

double static_pj(const PowerSpec& power, double seconds) { return power.static_w * seconds * 1e12; }

double core_energy_scale(double hz, double nominal_hz) {
  const double ratio = hz / nominal_hz;
  return ratio * ratio;
}

double power_limited_clock(const PowerSpec& power, double nominal_hz, const std::function<double(double)>& power_at) {
  if (!power.limit_w) return nominal_hz;
  const double limit = *power.limit_w;
  const auto excess = [&](double hz) { return power_at(hz) - limit; };
  double high = nominal_hz;
  const double high_excess = excess(high);
  if (high_excess <= 0) return nominal_hz;
  double low = kLowestClockShare * nominal_hz;
  double low_excess = excess(low);
  if (low_excess > 0) {
    throw std::invalid_argument("the power limit of " + std::to_string(limit) +
                                " W cannot be met even at a tenth of the clock");
  }
  // Regula falsi with the Illinois step (a kept end's weight halves): power is smooth in the
  // clock, so a few runs do. `low` always fits; the search ends when it is close to the limit.
  double low_weight = low_excess;
  double high_weight = high_excess;
  int kept = 0;
  for (int step = 0; step < kMaxSteps && low_excess < -kPowerTolerance * limit; ++step) {
    const double hz = high - high_weight * (high - low) / (high_weight - low_weight);
    const double hz_excess = excess(hz);
    if (hz_excess > 0) {
      high = hz;
      high_weight = hz_excess;
      if (kept == -1) low_weight /= 2;
      kept = -1;
    } else {
      low = hz;
      low_excess = low_weight = hz_excess;
      if (kept == 1) high_weight /= 2;
      kept = 1;
    }
  }
  return low;
}

}  // namespace tessel::arch
