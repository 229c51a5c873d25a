// fp64 references of the training operators: the exact gradients (and loss and update) of
// backward_ops.h and attention_backward.h evaluated in double, with Eigen or plain loops, and
// never rounded to a storage format. Like vector_ops_reference.h they take doubles, so that a
// chain of them (the training step's reference) does not round between steps; the arguments
// and exceptions are those of the datapath functions of the same name.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/numerics/attention_backward.h"
#include "sim/numerics/backward_ops.h"

namespace tessel::sim {

std::vector<double> softmax_backward_rows_reference(const std::vector<double>& y, const std::vector<double>& dy,
                                                    RowShape shape);

NormGradients<double> layer_norm_backward_rows_reference(const std::vector<double>& x, const std::vector<double>& dy,
                                                         RowShape shape, const std::vector<double>& gamma, double eps);

NormGradients<double> rms_norm_backward_rows_reference(const std::vector<double>& x, const std::vector<double>& dy,
                                                       RowShape shape, const std::vector<double>& gamma, double eps);

std::vector<double> gelu_tanh_backward_reference(const std::vector<double>& x, const std::vector<double>& dy);

std::vector<double> relu_backward_reference(const std::vector<double>& x, const std::vector<double>& dy);
std::vector<double> dropout_reference(const std::vector<double>& x, const std::vector<uint8_t>& keep,
                                      double probability);

GatedGradients<double> silu_and_multiply_backward_reference(const std::vector<double>& gate,
                                                              const std::vector<double>& up,
                                                              const std::vector<double>& dy);

GatedGradients<double> gelu_and_multiply_backward_reference(const std::vector<double>& gate,
                                                           const std::vector<double>& up,
                                                           const std::vector<double>& dy);

std::vector<double> softcap_backward_reference(const std::vector<double>& y, const std::vector<double>& dy,
                                               double cap);

std::vector<double> rope_half_split_backward_reference(const std::vector<double>& dy, RowShape shape,
                                                       const RopeLayout& layout);

// table_gradient plus dy's rows added at the ids.
std::vector<double> embedding_backward_reference(const std::vector<uint64_t>& ids, const std::vector<double>& dy,
                                                 uint64_t hidden, std::vector<double> table_gradient);

CrossEntropyOutputs<double> cross_entropy_rows_reference(const std::vector<double>& logits, RowShape shape,
                                                         const std::vector<uint64_t>& targets);

std::vector<double> cross_entropy_backward_rows_reference(const std::vector<double>& softmax, RowShape shape,
                                                          const std::vector<uint64_t>& targets, uint64_t tokens);

// The update with the hyperparameters' values (the floats, exactly) in fp64.
AdamWState<double> adamw_update_reference(const AdamWState<double>& state, const std::vector<double>& gradient,
                                          const AdamWHyperparameters& hyper);

// scaled / loss_scale, and whether any scaled gradient is inf or NaN.
UnscaledGradients<double> unscale_gradients_reference(const std::vector<double>& scaled, double loss_scale);

// Σ g² in fp64, block by block as gradient_square_sum groups it (any order within a block), so
// that no term passes through more roundings than in the datapath's sum.
double gradient_square_sum_reference(const std::vector<double>& gradient);

// amax = max |x| and the scale 448 / amax (1 when amax is 0), clamped to the largest float as
// the datapath's is. The dequantized tensor's reference is x itself.
struct Fp8Scaling {
  double amax;
  double scale;
};
Fp8Scaling fp8_scaling_reference(const std::vector<double>& x);

// The exact gradient of attention_reference with respect to Q, K and V for the output gradient
// dO: with P the exact probabilities, dV = Pᵀ dO, dP = dO Vᵀ, dS = P (dP - rowsum(dP P)),
// dQ = dS K / sqrt(d), dK = dSᵀ Q / sqrt(d), a KV head's dK and dV summed over its group.
AttentionGradients<double> attention_backward_reference(const std::vector<double>& q, const std::vector<double>& k,
                                                        const std::vector<double>& v, const std::vector<double>& d_out,
                                                        const AttentionShape& shape);

}  // namespace tessel::sim
