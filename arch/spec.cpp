#include "arch/spec.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tessel::arch {

bool BufferSpec::holds_operand(Operand operand) const {
  return std::find(holds.begin(), holds.end(), operand) != holds.end();
}

const BufferSpec& SystolicSpec::buffer_for(Operand operand) const {
  for (const BufferSpec& buffer : buffers) {
    if (buffer.holds_operand(operand)) return buffer;
  }
  throw std::logic_error("architecture '" + name + "' has no buffer for operand " +
                         std::string(to_string(operand)));
}

const DTypeSpec* SystolicSpec::find_dtype(DType dtype) const {
  for (const DTypeSpec& spec : dtypes) {
    if (spec.dtype == dtype) return &spec;
  }
  return nullptr;
}

double SystolicSpec::peak_macs_per_cycle(DType dtype) const {
  const DTypeSpec* format = find_dtype(dtype);
  if (format == nullptr) {
    throw std::invalid_argument("architecture '" + name + "' does not support " + std::string(to_string(dtype)));
  }
  return static_cast<double>(array_count()) * array.rows * array.cols * format->macs_per_pe_per_cycle;
}

double SystolicSpec::area_mm2() const {
  double buffers_mm2 = 0.0;
  for (const BufferSpec& buffer : buffers) buffers_mm2 += buffer.area_mm2;
  const double pes = static_cast<double>(array_count()) * array.rows * array.cols;
  return pes * array.pe_area_um2 * 1e-6 + cores * (buffers_mm2 + vector_unit.area_mm2) +
         other_area_mm2;
}

uint64_t latency_cycles(double latency_ns, double clock_hz) {
  // The scale keeps rounding noise in the product from adding a whole cycle.
  return static_cast<uint64_t>(std::ceil(latency_ns * (clock_hz / 1e6) / 1000.0 * (1.0 - 1e-12)));
}

std::optional<ZeroHandling> parse_zero_handling(std::string_view text) {
  if (text == "none") return ZeroHandling::None;
  if (text == "gate") return ZeroHandling::Gate;
  if (text == "skip") return ZeroHandling::Skip;
  return std::nullopt;
}

}  // namespace tessel::arch
