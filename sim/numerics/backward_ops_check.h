// Checks the training operators' datapath values against their fp64 references on the same
// inputs. Each bound is derived by running error analysis (running_error.h): the check replays
// the datapath's fp32 steps in fp64, in the datapath's order, carrying a rigorous bound on each
// step's error, and ends with the rounding to the storage format for activation gradients
// (parameter gradients and AdamW's state stay fp32). An element passes iff it lies within its
// bound of the reference. Sums that run on the GEMM datapath take Higham's order-free gamma_n;
// the gradient norm's sum and the fp8 cast take the a priori bounds stated with them.
// The arguments are those the datapath function took, then its output; every function throws
// std::invalid_argument where the datapath function would, or on an output of the wrong size.
// A report covering several outputs gives the worst figures and names the outputs that failed.
// attention_backward_check.h checks AttentionBackward the same way.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/backward_ops.h"
#include "sim/numerics/gemm_check.h"

namespace tessel::sim {

NumericsReport compare_softmax_backward_rows(const std::vector<float>& y, const std::vector<float>& dy, RowShape shape,
                                             const std::vector<float>& dx, arch::DType dtype);

NumericsReport compare_layer_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy,
                                                RowShape shape, const std::vector<float>& gamma, float eps,
                                                const NormGradients<float>& output, arch::DType dtype);

NumericsReport compare_rms_norm_backward_rows(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                              const std::vector<float>& gamma, float eps,
                                              const NormGradients<float>& output, arch::DType dtype);

NumericsReport compare_gelu_tanh_backward(const std::vector<float>& x, const std::vector<float>& dy,
                                          const std::vector<float>& dx, arch::DType dtype);

// Selecting dy or 0 rounds nothing: the bound is 0.
NumericsReport compare_relu_backward(const std::vector<float>& x, const std::vector<float>& dy,
                                     const std::vector<float>& dx, arch::DType dtype);

// The fp32 scale's rounding, the product's and the format's.
NumericsReport compare_dropout(const std::vector<float>& x, const std::vector<uint8_t>& keep, double probability,
                               const std::vector<float>& y, arch::DType dtype);

NumericsReport compare_silu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                  const std::vector<float>& dy, const GatedGradients<float>& output,
                                                  arch::DType dtype);

NumericsReport compare_gelu_and_multiply_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                                  const std::vector<float>& dy, const GatedGradients<float>& output,
                                                  arch::DType dtype);

// y is the saved soft-capped output the datapath's backward read.
NumericsReport compare_softcap_backward(const std::vector<float>& y, const std::vector<float>& dy, float cap,
                                        const std::vector<float>& dx, arch::DType dtype);

// `initial` is the table gradient before the op, `output` after; dy is in `dtype`.
NumericsReport compare_embedding_backward(const std::vector<uint64_t>& ids, const std::vector<float>& dy,
                                          uint64_t hidden, const std::vector<float>& initial,
                                          const std::vector<float>& output, arch::DType dtype);

NumericsReport compare_cross_entropy_rows(const std::vector<float>& logits, RowShape shape,
                                          const std::vector<uint64_t>& targets,
                                          const CrossEntropyOutputs<float>& output, arch::DType dtype);

NumericsReport compare_cross_entropy_backward_rows(const std::vector<float>& softmax, RowShape shape,
                                                   const std::vector<uint64_t>& targets, uint64_t tokens,
                                                   const std::vector<float>& d_logits, arch::DType dtype);

// The new weights, moments and compute-format copy against the fp64 update of the same state.
NumericsReport compare_adamw_update(const AdamWState<float>& state, const std::vector<float>& gradient,
                                    const AdamWHyperparameters& hyper, const AdamWUpdate& output, arch::DType dtype);

// The gradients and values below are fp32 whatever the run's format: their reports say fp32.
// Every gradient whose scaled value is finite within the fp32 reciprocal's rounding and the
// product's, (2u + u²) |scaled / loss_scale| with u = 2^-24 (no error for a power-of-two scale
// but an underflow's); the others are discarded with the step. found_inf must be exact.
NumericsReport compare_unscale_gradients(const std::vector<float>& scaled, float loss_scale,
                                         const UnscaledGradients<float>& output);

// The fp32 sum within the forward error bound of summing n non-negative terms in fp32,
// gamma_m(u) Σ g² with m = min(n, kGradientNormBlock) + ceil(n / kGradientNormBlock) - 1, the
// most roundings a term passes through (Higham, Accuracy and Stability, §4.2), plus 2^-149
// for each square that underflows. u is kComputeRoundoff, which also covers the reference's
// fp64 sum of the same blocks.
NumericsReport compare_gradient_square_sum(const std::vector<float>& gradient, float sum);

// amax exactly; the scale within one fp32 rounding of 448 / amax; and each dequantized value
// code / scale (the datapath's scale) against x itself: within 2^-4 |x| where |x|·scale is in
// E4M3's normal range (its rounding's u / (1 + u) after the fp32 product's 2^-24 stays below
// 2^-4), and below it within half a subnormal, 2^-10, plus the product's 2^-24 |x·scale|, over
// the scale.
NumericsReport compare_quantize_fp8_e4m3(const std::vector<float>& x, const Fp8Tensor& output, arch::DType dtype);

}  // namespace tessel::sim
