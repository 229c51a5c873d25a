#include "sim/numerics/running_error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_error.h"

namespace tessel::sim {
namespace {

constexpr double u = kComputeRoundoff;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The step's result: the exact value, and the propagated error `carried` plus the rounding of
// the computed value, which lies within `carried` of the exact one.
Bounded round_fp32(double value, double carried) {
  return {value, carried + u * (std::fabs(value) + carried) + kStepUnderflow};
}

// A libm call whose exact value at the computed argument lies within `carried` of `value`.
Bounded libm_call(double value, double carried) {
  return {value, carried + kLibmError * (std::fabs(value) + carried) + kStepUnderflow};
}

}  // namespace

Bounded constant(float stored, double exact_value) {
  return {exact_value, std::fabs(static_cast<double>(stored) - exact_value)};
}

Bounded operator+(Bounded a, Bounded b) { return round_fp32(a.value + b.value, a.error + b.error); }

Bounded operator-(Bounded a, Bounded b) { return round_fp32(a.value - b.value, a.error + b.error); }

Bounded operator*(Bounded a, Bounded b) {
  const double carried = std::fabs(a.value) * b.error + std::fabs(b.value) * a.error + a.error * b.error;
  return round_fp32(a.value * b.value, carried);
}

Bounded operator/(Bounded a, Bounded b) {
  const double quotient = a.value / b.value;
  const double margin = std::fabs(b.value) - b.error;
  // |a'/b' - a/b| = |a' b - a b'| / |b b'| <= (error a + |a/b| error b) / (|b| - error b).
  const double carried = margin > 0 ? (a.error + std::fabs(quotient) * b.error) / margin : kInfinity;
  return round_fp32(quotient, carried);
}

Bounded sqrt(Bounded a) {
  const double root = std::sqrt(std::max(a.value, 0.0));
  // |sqrt(a') - sqrt(a)| <= |a' - a| / sqrt(a), and <= sqrt(|a' - a|) always.
  double carried = std::sqrt(a.error);
  if (root > 0) carried = std::min(carried, a.error / root);
  return round_fp32(root, carried);
}

Bounded exp(Bounded a) {
  const double value = std::exp(a.value);
  return libm_call(value, value * std::expm1(a.error));
}

Bounded log(Bounded a) {
  // |log a' - log a| <= -log(1 - error / a) for a' within error of a > error.
  const double carried = a.error < a.value ? -std::log1p(-a.error / a.value) : kInfinity;
  return libm_call(std::log(a.value), carried);
}

Bounded tanh(Bounded a) {
  // tanh is increasing and its slope 1 - tanh^2 falls with |x|: the steepest point within
  // the error of a is the one nearest 0.
  const double nearest = std::max(std::fabs(a.value) - a.error, 0.0);
  const double slope = 1 - std::tanh(nearest) * std::tanh(nearest);
  return libm_call(std::tanh(a.value), slope * a.error);
}

Bounded power(float base, uint64_t exponent) {
  return libm_call(std::pow(static_cast<double>(base), static_cast<double>(exponent)), 0);
}

Bounded max(Bounded a, Bounded b) { return {std::max(a.value, b.value), std::max(a.error, b.error)}; }

void AnyOrderDot::add(Bounded a, Bounded b) {
  const double carried = std::fabs(a.value) * b.error + std::fabs(b.value) * a.error + a.error * b.error;
  ++terms_;
  value_ += a.value * b.value;
  propagated_ += carried;
  magnitude_ += std::fabs(a.value * b.value) + carried;
}

Bounded AnyOrderDot::result() const {
  const auto underflows = static_cast<double>(terms_) * kStepUnderflow;
  return {value_, propagated_ + gamma(terms_, u) * magnitude_ + underflows};
}

Bounded rounded(Bounded a, arch::DType dtype) {
  return {a.value, a.error + unit_roundoff(dtype) * (std::fabs(a.value) + a.error) + underflow_error(dtype)};
}

NumericsReport compare_with_replay(const std::vector<float>& output, const std::vector<double>& reference,
                                   const std::vector<Bounded>& replay, arch::DType dtype, std::string reference_line) {
  require_size(output.size(), reference.size(), "compare_with_replay");
  require_size(replay.size(), reference.size(), "compare_with_replay");
  BoundedComparison comparison;
  for (std::size_t i = 0; i < output.size(); ++i) comparison.add(output[i], reference[i], replay[i].error);
  return comparison.report(dtype, std::move(reference_line));
}

}  // namespace tessel::sim
