// Runs an op at the clock its device's power limit allows (arch/power.h), for every kind whose
// spec states a clock (clock_hz) and a power (an optional PowerSpec `power`): GPUs and CPUs
// both lower their clocks when a kernel would draw more than the board or package may.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>

#include "arch/power.h"
#include "sim/device.h"

namespace tessel::sim {

template <typename Spec>
class PowerLimitedRun {
 public:
  // The op on a copy of the spec with its clock set to spec.clock_hz, its numerics checked or not.
  using RunAt = std::function<OpResult(const Spec& spec, bool check)>;

  explicit PowerLimitedRun(const Spec& spec) : spec_(spec) {}

  // `run` at clock `hz`, in cycles of the nominal clock, its core energy scaled to the clock,
  // with the device's static energy.
  OpResult at_clock(const RunAt& run, double hz, bool check) const {
    const double nominal = spec_.clock_hz;
    Spec clocked = spec_;
    clocked.clock_hz = hz;
    OpResult result = run(clocked, check);
    const double seconds = result.seconds();
    if (hz != nominal) {
      // Every count of cycles in nominal ones; main memory, its latency and launches take the same seconds.
      const double to_nominal = nominal / hz;
      const auto rescale = [&](uint64_t cycles) {
        return static_cast<uint64_t>(std::ceil(static_cast<double>(cycles) * to_nominal - 1e-9));
      };
      result.cycles = rescale(result.cycles);
      result.array_busy_cycles = rescale(result.array_busy_cycles);
      result.vector_busy_cycles = rescale(result.vector_busy_cycles);
      result.dram_busy_cycles *= to_nominal;
      result.roofline.memory_cycles = rescale(result.roofline.memory_cycles);  // compute's stays the nominal peak's
      result.utilization /= to_nominal;
      result.clock_hz = nominal;
      const double scale = arch::core_energy_scale(hz, nominal);
      result.energy.mac_pj *= scale;
      result.energy.sram_pj *= scale;
      result.energy.vector_pj *= scale;
    }
    result.core_clock_hz = hz;
    if (spec_.power) result.energy.static_pj = arch::static_pj(*spec_.power, seconds);
    return result;
  }

  // The op at the nominal clock, or at the clock its power limit allows, in cycles of the
  // nominal clock, with its static energy; `estimate_at` is a cheaper guess of `run_at` (a
  // closed form of a simulated product). Numerics are checked once.
  OpResult under_power_limit(const RunAt& run_at, const RunAt& estimate_at) const {
    const double nominal = spec_.clock_hz;
    OpResult result = at_clock(run_at, nominal, true);
    if (!spec_.power || !spec_.power->limit_w) return result;
    const double limit = *spec_.power->limit_w;
    if (result.power_w() <= limit) return result;
    const NumericsReport numerics = result.numerics;  // the clock changes no value
    // Search on the cheap guess, its time scaled to the run's at the nominal clock; then run
    // once at the clock found, searching on full runs only if that still draws too much.
    const double scale = result.seconds() / at_clock(estimate_at, nominal, false).seconds();
    const auto guessed_power = [&](double hz) {
      const OpResult guess = at_clock(estimate_at, hz, false);
      return spec_.power->static_w +
             (guess.energy.total_pj() - guess.energy.static_pj) * 1e-12 / (guess.seconds() * scale);
    };
    result = at_clock(run_at, arch::power_limited_clock(*spec_.power, nominal, guessed_power), false);
    if (result.power_w() > limit) {
      const auto run_power = [&](double hz) { return at_clock(run_at, hz, false).power_w(); };
      result = at_clock(run_at, arch::power_limited_clock(*spec_.power, nominal, run_power), false);
    }
    result.numerics = numerics;
    return result;
  }

 private:
  const Spec& spec_;
};

}  // namespace tessel::sim
