// fp64 references of the vector operators: the formulas of vector_ops.h evaluated in double
// with Eigen and never rounded to a storage format. They take doubles so that a chain of
// them (the decoder layer's reference) does not round between steps; the arguments and
// exceptions are those of the datapath functions of the same name.
#pragma once

#include <vector>

#include "sim/numerics/vector_ops.h"

namespace tessel::sim {

std::vector<double> softmax_rows_reference(const std::vector<double>& x, RowShape shape,
                                           SoftmaxMask mask);

std::vector<double> layer_norm_rows_reference(const std::vector<double>& x, RowShape shape,
                                              const std::vector<double>& gamma,
                                              const std::vector<double>& beta, double eps);

std::vector<double> rms_norm_rows_reference(const std::vector<double>& x, RowShape shape,
                                            const std::vector<double>& gamma, double eps);

// The exact GELU is GeluForm::Erf; GeluForm::Tanh evaluates the approximation's formula in
// fp64, which the check needs to know the approximation's own model error.
std::vector<double> gelu_reference(const std::vector<double>& x, GeluForm form);

std::vector<double> silu_reference(const std::vector<double>& x);

std::vector<double> silu_and_multiply_reference(const std::vector<double>& gate,
                                                const std::vector<double>& up);

std::vector<double> gelu_and_multiply_reference(const std::vector<double>& gate, const std::vector<double>& up);

std::vector<double> softcap_reference(const std::vector<double>& x, double cap);

std::vector<double> rope_half_split_reference(const std::vector<double>& x, RowShape shape,
                                              const RopeLayout& layout);

std::vector<double> residual_add_reference(const std::vector<double>& a,
                                           const std::vector<double>& b);

}  // namespace tessel::sim
