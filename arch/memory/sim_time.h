// Simulated time is counted in accelerator cycles; one cycle is kTicksPerCycle SystemC
// ticks (1 ps each at SystemC's default resolution), so fractional cycles of a DRAM
// transfer keep three decimals.
#pragma once

#include <cmath>
#include <cstdint>
#include <systemc>

namespace tessel::arch {

constexpr uint64_t kTicksPerCycle = 1000;

// Rounded to the nearest tick, as sc_time(double, unit) rounds, without its unit lookup (this
// runs a few times per tile).
inline sc_core::sc_time cycles_to_time(double cycles) {
  return sc_core::sc_time::from_value(static_cast<sc_core::sc_time::value_type>(cycles * kTicksPerCycle + 0.5));
}

// Whole cycles from the start of the run to `time`, counting a partial cycle as one.
inline uint64_t time_to_cycles(const sc_core::sc_time& time) {
  const uint64_t ticks = time.value();
  return (ticks + kTicksPerCycle - 1) / kTicksPerCycle;
}

}  // namespace tessel::arch
