// What real hardware spans, by a key's unit: a clock of 1e308 MHz or an SRAM of 2^60 KiB is a
// typo, not a design, and would overflow the figures derived from it. One table, read by every
// architecture and system reader, so that a key's limit follows from its unit.
#pragma once

#include <string>
#include <string_view>

namespace tessel::arch {

struct ValueSpan {
  double most = 0;   // the largest value accepted
  std::string what;  // how a message names the limit, e.g. "100000 MHz (100 GHz)"
};

// The span of the key (the last part of a dotted key decides): by its unit suffix (_mhz,
// _gb_s, _kib, _gib, _ns, _us, _mm2, _um2, pJ energies, per-cycle rates), else that of a count.
ValueSpan value_span(std::string_view key);

}  // namespace tessel::arch
