// The error model the operator checks share: each format's rounding, the budgets of the
// fp32 compute, and the element-by-element comparison that fills a NumericsReport.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim {

// Unit roundoff of a floating format, the largest relative error of rounding to nearest in
// its normal range: fp32 2^-24, fp16 2^-11, bf16 2^-8, fp8 E4M3 2^-4.
// Throws std::invalid_argument for int8, which the vector unit never stores.
double unit_roundoff(arch::DType dtype);

// Half the smallest subnormal: the largest absolute error of rounding in the subnormal range.
double underflow_error(arch::DType dtype);

// The checks' bounds are written with this unit roundoff: fp32's plus fp64's. The reference
// runs the same steps in fp64 as the datapath runs in fp32, so a bound in u32 + u64 covers
// the errors of both (gamma_n is superadditive in u).
inline constexpr double kComputeRoundoff = 0x1p-24 + 0x1p-53;

// A float libm call (expf, erff, tanhf, sinf, cosf, powf) is taken to be within 3 ulp of the
// exact value, so 6 u relative (an ulp is at most 2 u of the value): a sweep of 2*10^7
// arguments per function over the ranges these operators use found at most 2.14 ulp on
// glibc 2.36 (tanhf; erff 0.92, the others under 0.6). Another C library may need a larger
// budget. The reference's fp64 calls are covered the same way.
inline constexpr double kLibmError = 6 * kComputeRoundoff;

// Absolute allowance for gradual underflow in fp32 intermediates: each step into the
// subnormal range is off by up to 2^-150 absolute, which no relative bound covers; 2^-140
// covers a thousand such steps and is still far below any error that matters.
inline constexpr double kComputeUnderflow = 0x1p-140;

// t / (1 - t): the relative error of a product of factors (1 + d_i)^(+-1) with
// sum |d_i| <= t (Higham, Lemma 3.1), and a bound on e^t - 1; +infinity when t >= 1.
double compound(double first_order);

// Bound on |fl_F(y32) - y_ref| where |y32 - y_ref| <= compute_error:
//   u_F |y_ref| + (1 + u_F) compute_error (1 + 2^-7) + underflow_error(F) + kComputeUnderflow.
// Rounding to nearest errs by at most u_F |y32| + underflow_error(F), and
// |y32| <= |y_ref| + compute_error. The compute errors are first order in the fp32 roundoff;
// the terms dropped are products of two first-order relative errors, each below 2^-7 for
// rows of up to a few thousand and positions below 2^14 (RoPE's angle errs by up to 8 u per
// radian), so the factor 1 + 2^-7 covers them.
double rounded_output_bound(double reference, double compute_error, arch::DType dtype);

// Throws std::invalid_argument naming `op` unless `dtype` is a floating format.
void require_floating_format(arch::DType dtype, const char* op);

// Throws std::invalid_argument naming `op` when `size` differs from `expected`.
void require_size(std::size_t size, std::size_t expected, const char* op);

std::vector<double> to_double(const std::vector<float>& values);

// The worse of two reports' figures, passed iff both passed (a NaN error survives); the
// other fields are `total`'s. For checks that compare several outputs or slices.
NumericsReport worst_of(NumericsReport total, const NumericsReport& next);

// One report for several outputs each compared on its own (name, report): the worst figures,
// passed iff all passed, and `reference_line` followed by the names of those that failed.
NumericsReport combine_outputs(const std::vector<std::pair<std::string, NumericsReport>>& outputs,
                               const std::string& reference_line);

// Compares computed values with reference values, each within its own bound, and fills a
// NumericsReport: passed iff every |value - reference| <= bound (a NaN fails).
class BoundedComparison {
 public:
  void add(double value, double reference, double bound);
  NumericsReport report(arch::DType dtype, std::string reference_line) const;

 private:
  bool passed_ = true;
  double max_abs_error_ = 0;
  double max_bound_ = 0;
  double error_energy_ = 0;
  double reference_energy_ = 0;
};

}  // namespace tessel::sim
