// Checks the vector operators' datapath values against their fp64 references on the same
// inputs. Each check bounds every element by the error the datapath may make: the fp32
// steps of vector_ops.cpp, counted one rounding at a time (Higham's model: every fp32
// operation errs by a relative u at most, every libm call by kLibmError), carried through
// the operator's condition, plus the final rounding to the format (rounded_output_bound).
// The arguments are those the datapath function took, then its output; every function
// throws std::invalid_argument where the datapath function would, or on an output of the
// wrong size.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/vector_ops.h"

namespace tessel::sim {

// Relative error bound of one probability of softmax_rows before its rounding to the format,
// for an entry `distance` below its row's maximum in a row of `visible` entries whose
// smallest lies `largest_distance` below the maximum.
double softmax_fp32_relative_error(double distance, double largest_distance, uint64_t visible);

NumericsReport compare_softmax_rows(const std::vector<float>& x, RowShape shape, SoftmaxMask mask,
                                    const std::vector<float>& output, arch::DType dtype);

NumericsReport compare_layer_norm_rows(const std::vector<float>& x, RowShape shape,
                                       const std::vector<float>& gamma,
                                       const std::vector<float>& beta, float eps,
                                       const std::vector<float>& output, arch::DType dtype);

NumericsReport compare_rms_norm_rows(const std::vector<float>& x, RowShape shape,
                                     const std::vector<float>& gamma, float eps,
                                     const std::vector<float>& output, arch::DType dtype);

// Always against the exact (erf) GELU: for GeluForm::Tanh the bound adds, element by
// element, the approximation's own model error |gelu_tanh(x) - gelu_erf(x)| evaluated in
// fp64 (at most 4.8e-4, near |x| = 2.7).
NumericsReport compare_gelu(const std::vector<float>& x, GeluForm form,
                            const std::vector<float>& output, arch::DType dtype);

NumericsReport compare_silu(const std::vector<float>& x, const std::vector<float>& output,
                            arch::DType dtype);

NumericsReport compare_silu_and_multiply(const std::vector<float>& gate,
                                         const std::vector<float>& up,
                                         const std::vector<float>& output, arch::DType dtype);

// GeGLU and the soft cap are checked by running error analysis (running_error.h): the fp32
// steps replayed in fp64, each carrying a rigorous bound, then the rounding to the format.
NumericsReport compare_gelu_and_multiply(const std::vector<float>& gate, const std::vector<float>& up,
                                         const std::vector<float>& output, arch::DType dtype);

NumericsReport compare_softcap(const std::vector<float>& x, float cap, const std::vector<float>& output,
                               arch::DType dtype);

NumericsReport compare_rope_half_split(const std::vector<float>& x, RowShape shape,
                                       const RopeLayout& layout, const std::vector<float>& output,
                                       arch::DType dtype);

NumericsReport compare_residual_add(const std::vector<float>& a, const std::vector<float>& b,
                                    const std::vector<float>& output, arch::DType dtype);

}  // namespace tessel::sim
