#include "arch/value_spans.h"

#include <array>

namespace tessel::arch {

namespace {

struct UnitSpan {
  std::string_view suffix;
  double most;
  const char* what;
};

// Each limit is far past any chip or system built so far, and low enough that products of a
// few such values stay within 64 bits.
constexpr std::array<UnitSpan, 12> kUnits{{
    {"_mhz", 1e5, "100000 MHz (100 GHz)"},
    {"_gb_s", 1e9, "1e9 GB/s (1 EB/s)"},
    {"_kib", 0x1p40, "2^40 KiB (1 PiB)"},
    {"_gib", 0x1p20, "2^20 GiB (1 PiB)"},
    {"_ns", 1e9, "1e9 ns (1 s)"},
    {"_us", 1e6, "1e6 us (1 s)"},
    {"_mm2", 1e5, "1e5 mm^2 (twice a wafer-scale chip)"},
    {"_um2", 1e11, "1e11 um^2 (1e5 mm^2)"},
    {"_pj", 1e6, "1e6 pJ"},
    {"_pj_per_byte", 1e6, "1e6 pJ a byte"},
    {"_per_cycle", 1e9, "1e9 a cycle"},
    {"_w", 1e6, "1e6 W (1 MW)"},
}};

constexpr double kCountMost = 0x1p26;  // 67,108,864: FPGA flip-flops, the largest counts in a file

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

ValueSpan value_span(std::string_view key) {
  const size_t dot = key.find_last_of('.');
  const std::string_view name = dot == std::string_view::npos ? key : key.substr(dot + 1);
  for (const UnitSpan& unit : kUnits) {
    if (ends_with(name, unit.suffix)) return {unit.most, unit.what};
  }
  return {kCountMost, "2^26 (67,108,864)"};
}

}  // namespace tessel::arch
