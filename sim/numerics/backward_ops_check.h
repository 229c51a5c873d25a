// Checks the training operators' datapath values against their fp64 references on the same
// inputs. Each bound is derived by running error analysis (running_error.h): the check replays
// the datapath's fp32 steps in fp64, in the datapath's order, carrying a rigorous bound on each
// step's error, and ends with the rounding to the storage format for activation gradients
// (parameter gradients and AdamW's state stay fp32). An element passes iff it lies within its
// bound of the reference. Sums that run on the GEMM datapath take Higham's order-free gamma_n.
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
                                                  const std::vector<float>& dy, const SiluMulGradients<float>& output,
                                                  arch::DType dtype);

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

}  // namespace tessel::sim
