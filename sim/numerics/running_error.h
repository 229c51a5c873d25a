// Running error analysis (Higham, Accuracy and Stability of Numerical Algorithms, §3.3): the
// backward operators' checks replay the datapath's fp32 steps in fp64, each step carrying a
// bound on how far the datapath's value of it may lie from the exact one. Every rule below is
// rigorous, not first order: it bounds the error of the step's fp32 result given bounds on its
// operands' errors, so a chain of steps needs no hand-derived condition numbers.
// Each fp32 operation errs by at most kComputeRoundoff relative (fp32's u plus fp64's, so that
// the bound also covers the fp64 reference, which runs the same steps) plus
// kStepUnderflow absolute; each libm call by kLibmError relative.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim {

// The smallest fp32 subnormal: twice the absolute error a rounding into fp32's subnormal range
// adds, which no relative bound covers, so that it also covers the fp64 reference's.
inline constexpr double kStepUnderflow = 0x1p-149;

// `value` is the exact result of a step (evaluated in fp64), `error` a bound on
// |datapath's fp32 result - value|.
struct Bounded {
  double value = 0;
  double error = 0;
};

// An fp32 operand the datapath reads as it is (a value of the storage format): no error.
inline Bounded exact(double value) { return {value, 0}; }

// An fp32 constant standing for `exact_value`: it errs by the distance between the two.
Bounded constant(float stored, double exact_value);

// fl(a op b) for the four operations, as an fp32 unit computes them. Division by an operand
// whose error bound reaches its value gives an infinite bound.
Bounded operator+(Bounded a, Bounded b);
Bounded operator-(Bounded a, Bounded b);
Bounded operator*(Bounded a, Bounded b);
Bounded operator/(Bounded a, Bounded b);

// sqrtf, and the libm calls expf, logf, tanhf and powf (of an exact base and integer exponent).
Bounded sqrt(Bounded a);
Bounded exp(Bounded a);
Bounded log(Bounded a);
Bounded tanh(Bounded a);
Bounded power(float base, uint64_t exponent);

// The larger of two values: |max(a', b') - max(a, b)| <= max(error a, error b).
Bounded max(Bounded a, Bounded b);

// Σ a_i b_i on the GEMM datapath, whose chunking of the sum is a parenthesisation of its n
// products: Higham's gamma_n |a'|·|b'| whatever the order, plus the operands' own errors.
// The caller adds terms with add() and reads the result with result().
class AnyOrderDot {
 public:
  void add(Bounded a, Bounded b);
  Bounded result() const;

 private:
  uint64_t terms_ = 0;
  double value_ = 0;
  double propagated_ = 0;  // Σ bounds on |a' b' - a b|: the operands' errors carried through
  double magnitude_ = 0;   // a bound on Σ |a' b'|, what gamma_n multiplies
};

// fl(a) in a storage format: rounding to nearest errs by u_F |a'| plus half a subnormal.
Bounded rounded(Bounded a, arch::DType dtype);

// Compares output[i] with reference[i] within replay[i].error, the replayed datapath step that
// produced it, and fills a report as BoundedComparison does. Throws std::invalid_argument when
// the sizes differ.
NumericsReport compare_with_replay(const std::vector<float>& output, const std::vector<double>& reference,
                                   const std::vector<Bounded>& replay, arch::DType dtype, std::string reference_line);

}  // namespace tessel::sim
