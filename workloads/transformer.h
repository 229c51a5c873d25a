// The operator graphs of a transformer's prefill and decode steps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "workloads/model_config.h"
#include "workloads/op_graph.h"

namespace tessel::workloads {

// One forward step over `batch` sequences: q_len new tokens per sequence, each attending to
// at most kv_len positions, the kv_len − q_len already cached and the q_len new ones.
struct Phase {
  enum Kind { Prefill, Decode };
  Kind kind = Prefill;
  uint64_t batch = 1;
  uint64_t q_len = 1;
  uint64_t kv_len = 1;

  uint64_t cached_len() const { return kv_len - q_len; }

  // The prompt of `seq` tokens, nothing cached: q_len = kv_len = seq.
  static Phase prefill(uint64_t batch, uint64_t seq);
  // One new token per sequence attending to the `cached` tokens before it and to itself:
  // q_len = 1, kv_len = cached + 1.
  static Phase decode(uint64_t batch, uint64_t cached);
};

// e.g. "prefill batch 8, 2048 tokens" or "decode batch 8, 2047 cached".
std::string phase_text(const Phase& phase);

// One step's FLOPs over every layer (its linears, the LM head and attention) estimated from
// above, saturated at UINT64_MAX rather than wrapped. build_layer and build_model refuse a step
// past kMaxFlops (workloads/counts.h), so no count of its ops overflows.
uint64_t step_flops_bound(const ModelConfig& config, const Phase& phase);
// Throws InputError when the steps of a request (a generate run's prefill and decode steps)
// pass kMaxFlops together, so that their sums do not overflow either.
void check_steps_size(const ModelConfig& config, const std::vector<Phase>& phases);

enum class AttentionImpl {
  Unfused,  // scores BatchedMatmul, Softmax, context BatchedMatmul: scores cross memory
  Fused,    // one flash-style Attention op: scores stay on chip
};

// Megatron-style tensor parallelism over `gpus` GPUs: what ONE of them holds. Each takes
// heads / gpus query heads with their share of the K/V heads (one, replicated, when there are
// fewer K/V heads than GPUs), intermediate / gpus of the MLP (and of every expert) and
// vocab / gpus (rounded up) of the token embedding and LM head; the hidden size, norms and
// residuals stay whole. Throws
// InputError naming the field `gpus` does not divide. `gpus` = 1 returns the config.
ModelConfig tensor_parallel_shard(const ModelConfig& config, uint64_t gpus);

// The ops of ONE layer (decoder, or encoder for BERT) in execution order, named "attn.*" and
// "mlp.*", in a graph of one block of one layer: a dense layer attending over the whole
// context. Token-wise ops have batch × q_len rows. With tensor_parallel > 1, one GPU's shard
// (tensor_parallel_shard) and an all-reduce of the hidden state after the attention output
// projection and after the MLP's down projection (one after both when they run in parallel).
// Throws InputError for an invalid config or phase, or a decode phase of an encoder.
OpGraph build_layer(const ModelConfig& config, const Phase& phase, AttentionImpl impl, uint64_t tensor_parallel = 1);

// The whole step: the embeddings ("embed.*"), the layers, then for a decoder the final norm
// (pre-norm models) and the LM head. Layers that run the same ops are one block, built once
// and repeated: all of a dense model's; a mixture of experts' dense and expert layers; where
// a sliding window narrows some layers' attention in this phase, the runs of windowed and
// global layers, or one block of a run of both when they alternate (Gemma 2).
// Logits are computed only for the tokens whose next token is sampled: in a decode step every
// new token, in prefill only each sequence's last one (HF generate computes all prefill
// positions' logits and keeps the last; computing only the last is the efficient kernel's
// choice). The final norm covers the same rows. An encoder ends with its last layer.
// With tensor_parallel > 1, one GPU's shard: the token embedding is all-reduced after its
// vocab-parallel lookup, and the LM head's logits all-gathered.
OpGraph build_model(const ModelConfig& config, const Phase& phase, AttentionImpl impl, uint64_t tensor_parallel = 1);

// One device's share of a model: its tensor-parallel shard and, under pipeline parallelism, its
// stage's consecutive layers. The first stage also holds the embeddings, the last the final
// norm and LM head; every other stage ends by sending its hidden state to the next
// ("pipeline.send").
struct ModelSlice {
  uint64_t tensor_parallel = 1;
  uint64_t first_layer = 0;
  uint64_t layers = 0;  // 0: to the last layer
  uint64_t stage = 0;   // the pipeline stage, which the send names
  // Mixture of experts: replicas whose devices share each MoE layer's experts (each holds
  // experts / expert_parallel of them; tokens reach them by all-to-all), and how unevenly
  // tokens pick experts: the busiest expert gets expert_skew times the mean (1: uniform).
  uint64_t expert_parallel = 1;
  double expert_skew = 1.0;
};

// build_model for a slice; throws InputError when its layers are not the model's.
OpGraph build_model(const ModelConfig& config, const Phase& phase, AttentionImpl impl, const ModelSlice& slice);

// A served batch as one step (continuous batching): groups of alike sequences, each with its
// new tokens over its cached ones (a prompt's chunk, decode tokens), whose token-wise ops run
// together over all their tokens and whose attention runs group by group.
struct BatchStep {
  std::vector<Phase> groups;
  uint64_t sampled = 0;  // tokens whose logits are computed: each decode token, each prompt's last
};

// e.g. "batch step of 12 sequences, 530 new tokens".
std::string batch_step_text(const BatchStep& step);
// The new tokens of all the groups.
uint64_t batch_tokens(const std::vector<Phase>& groups);

// build_model for a batch step (a Phase's `kind` has no say: `sampled` sets the LM head's rows);
// one group with the phase's sampled tokens is build_model's step. Throws InputError for an
// empty or invalid batch.
OpGraph build_batch_step(const ModelConfig& config, const BatchStep& step, AttentionImpl impl,
                         const ModelSlice& slice);

// Elements of K and V that `batch` sequences of `positions` tokens keep in layers
// [first_layer, first_layer + layers) of `shard` (a tensor-parallel shard's K/V heads): every
// position, but at most sliding_window of them in a windowed layer.
uint64_t kv_cache_elements(const ModelConfig& shard, uint64_t batch, uint64_t positions, uint64_t first_layer,
                           uint64_t layers);
// Their bytes as the shard's recipe stores the cache (scales included), or in `compute`.
uint64_t kv_cache_bytes(const ModelConfig& shard, uint64_t batch, uint64_t positions, uint64_t first_layer,
                        uint64_t layers, arch::DType compute);

}  // namespace tessel::workloads
