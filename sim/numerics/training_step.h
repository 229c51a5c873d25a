// One training step of a tiny Llama-style model, forward and backward, on the datapath in one
// storage format and in fp64 from the same parameters and tokens:
//   x = embedding[tokens]; each layer as layer_check.h's decoder layer (RMSNorm, Q/K/V, RoPE,
//   causal GQA attention by the fused kernel, Wo, residual; RMSNorm, SwiGLU MLP, residual);
//   logits = RMSNorm(x) W_lm; loss = mean over tokens of cross-entropy(logits, targets).
// The backward pass takes every gradient through every op: the linears' dX = dY Wᵀ (rounded
// to the format; Q/K/V and gate/up as one fused GEMM each, their dY side by side) and
// dW = Xᵀ dY (fp32) on the GEMM datapath, and backward_ops.h and attention_backward.h for the
// rest, with the attention forward's O and log-sum-exp saved for it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/layer_check.h"

namespace tessel::sim {

struct TrainingStepShape {
  DecoderLayerShape layer;  // layer.seq tokens of one sequence; the sizes of every layer
  uint64_t layers = 2;
  uint64_t vocab = 96;
};

// The parameters, values of the storage format held in floats, as named tensors in a fixed
// order: "embedding" [vocab × hidden]; for each layer i "layers.i." followed by
// attention_norm, wq, wk, wv, wo, mlp_norm, w_gate, w_up, w_down (as DecoderLayer holds them);
// "final_norm" [hidden]; "lm_head" [hidden × vocab].
struct TinyModel {
  TrainingStepShape shape;
  float norm_eps = 1e-5f;
  float rope_base = 10000.0f;
  uint64_t block_kv = 4;  // keys per tile of the attention kernels, forward and backward
  uint64_t k_tile = 32;   // the linears' SRAM tile of K
  std::vector<std::string> names;
  std::vector<std::vector<float>> parameters;
};

// Layers drawn as draw_decoder_layer draws them (each seeded from the model's engine); the embedding
// normal(0, 1), so the first layer's input is O(1); the final gain 1 + normal(0, 0.1^2); the
// LM head normal(0, 1/hidden), so the logits are O(1). Throws std::invalid_argument for int8.
TinyModel draw_tiny_model(const TrainingStepShape& shape, uint64_t seed, arch::DType dtype);

// Tokens and the targets the loss compares the logits with, uniform over the vocabulary.
struct TokenBatch {
  std::vector<uint64_t> tokens;
  std::vector<uint64_t> targets;
};
TokenBatch draw_token_batch(const TrainingStepShape& shape, uint64_t seed);

// The mean loss and the gradient of every parameter, in the model's order. The datapath's
// gradients are fp32, as its weight gradients accumulate.
template <typename Value>
struct StepGradients {
  Value loss = 0;
  std::vector<std::vector<Value>> gradients;
};

// On the datapath in `dtype`; the mean loss is the fp32 sum of the tokens' losses divided by
// their count.
StepGradients<float> training_step_datapath(const TinyModel& model, const TokenBatch& batch, arch::DType dtype);

// In fp64 with `parameters` in place of the model's (the model's converted, or perturbed ones
// for finite differences), never rounded.
StepGradients<double> training_step_reference(const TinyModel& model,
                                              const std::vector<std::vector<double>>& parameters,
                                              const TokenBatch& batch);

// The fp64 forward pass alone: the mean loss.
double training_loss_reference(const TinyModel& model, const std::vector<std::vector<double>>& parameters,
                               const TokenBatch& batch);

}  // namespace tessel::sim
