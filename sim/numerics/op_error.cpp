#include "sim/numerics/op_error.h"

#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace tessel::sim {

double unit_roundoff(arch::DType dtype) {
  switch (dtype) {
    case arch::DType::Fp32: return 0x1p-24;
    case arch::DType::Fp16: return 0x1p-11;
    case arch::DType::Bf16: return 0x1p-8;
    case arch::DType::Fp8: return 0x1p-4;
    case arch::DType::Int8:
    case arch::DType::Int4: break;
  }
  throw std::invalid_argument("unit_roundoff: an integer format is not a floating format");
}

double underflow_error(arch::DType dtype) {
  switch (dtype) {
    case arch::DType::Fp32: return 0x1p-150;
    case arch::DType::Fp16: return 0x1p-25;
    case arch::DType::Bf16: return 0x1p-134;
    case arch::DType::Fp8: return 0x1p-10;
    case arch::DType::Int8:
    case arch::DType::Int4: break;
  }
  throw std::invalid_argument("underflow_error: an integer format is not a floating format");
}

double compound(double first_order) { return gamma(1, first_order); }

double rounded_output_bound(double reference, double compute_error, arch::DType dtype) {
  constexpr double kSecondOrderCover = 1 + 0x1p-7;
  const double u = unit_roundoff(dtype);
  return u * std::fabs(reference) + (1 + u) * compute_error * kSecondOrderCover +
         underflow_error(dtype) + kComputeUnderflow;
}

void require_floating_format(arch::DType dtype, const char* op) {
  if (dtype == arch::DType::Int8) {
    throw std::invalid_argument(std::string(op) +
                                ": int8 is not a storage format of the vector unit");
  }
}

void require_size(std::size_t size, std::size_t expected, const char* op) {
  if (size != expected) {
    throw std::invalid_argument(std::string(op) + ": operand size does not match the shape");
  }
}

std::vector<double> to_double(const std::vector<float>& values) {
  return std::vector<double>(values.begin(), values.end());
}

namespace {

// NaN-keeping max and min: a NaN error must survive the aggregation.
double worse_high(double current, double next) { return (next > current || std::isnan(next)) ? next : current; }
double worse_low(double current, double next) { return (next < current || std::isnan(next)) ? next : current; }

}  // namespace

NumericsReport worst_of(NumericsReport total, const NumericsReport& next) {
  total.passed = total.passed && next.passed;
  total.max_abs_error = worse_high(total.max_abs_error, next.max_abs_error);
  total.relative_error = worse_high(total.relative_error, next.relative_error);
  total.sqnr_db = worse_low(total.sqnr_db, next.sqnr_db);
  total.error_bound = worse_high(total.error_bound, next.error_bound);
  total.quantization_sqnr_db = worse_low(total.quantization_sqnr_db, next.quantization_sqnr_db);
  total.quantization_max_abs_error = worse_high(total.quantization_max_abs_error, next.quantization_max_abs_error);
  total.format_sqnr_db = worse_low(total.format_sqnr_db, next.format_sqnr_db);
  return total;
}

NumericsReport combine_outputs(const std::vector<std::pair<std::string, NumericsReport>>& outputs,
                               const std::string& reference_line) {
  if (outputs.empty()) throw std::invalid_argument("combine_outputs: no outputs");
  NumericsReport total = outputs.front().second;
  std::string failed;
  for (const auto& [name, report] : outputs) {
    total = worst_of(total, report);
    if (!report.passed) failed += (failed.empty() ? "" : ", ") + name;
  }
  total.reference = reference_line + (failed.empty() ? "" : "; failed: " + failed);
  return total;
}

void BoundedComparison::add(double value, double reference, double bound) {
  const double error = std::fabs(value - reference);
  if (!(error <= bound)) passed_ = false;
  if (!(error <= max_abs_error_)) max_abs_error_ = error;  // also keeps a NaN
  if (bound > max_bound_) max_bound_ = bound;
  error_energy_ += error * error;
  reference_energy_ += reference * reference;
}

NumericsReport BoundedComparison::report(arch::DType dtype, std::string reference_line) const {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  NumericsReport report;
  report.checked = true;
  report.passed = passed_;
  report.dtype = std::string(arch::to_string(dtype));
  report.reference = std::move(reference_line);
  report.max_abs_error = max_abs_error_;
  report.error_bound = max_bound_;
  if (reference_energy_ == 0) {
    report.relative_error = error_energy_ == 0 ? 0 : kInfinity;
  } else {
    report.relative_error = std::sqrt(error_energy_ / reference_energy_);
  }
  report.sqnr_db =
      error_energy_ == 0 ? kInfinity : 10 * std::log10(reference_energy_ / error_energy_);
  return report;
}

}  // namespace tessel::sim
