// The operator graphs of one training step of a transformer on one device: the forward pass of
// a micro-batch (its slice of the model, ending with the loss on the last pipeline stage), its
// backward pass (every operator's gradients in reverse, recomputation included), and what the
// forward pass keeps for the backward one, tensor by tensor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/types.h"
#include "workloads/model_config.h"
#include "workloads/op_graph.h"
#include "workloads/transformer.h"

namespace tessel::workloads {

// What the backward pass recomputes instead of keeping (Korthikanti et al., 2022): nothing;
// the attention core (QKᵀ, softmax, their product with V: only unfused attention keeps
// anything there, FlashAttention recomputes it anyway); or each whole layer from its input.
enum class Recompute { None, Selective, Full };

std::string_view to_string(Recompute recompute);
std::optional<Recompute> parse_recompute(std::string_view text);  // "none", "selective", "full"

struct TrainingOptions {
  uint64_t micro_batch = 1;  // sequences
  uint64_t seq = 1;          // tokens each
  AttentionImpl attention = AttentionImpl::Fused;
  Recompute recompute = Recompute::None;
  // Megatron's sequence parallelism: the norms, residuals and their activations split by
  // tokens over the tensor-parallel devices, all-gathers and reduce-scatters in place of
  // all-reduces.
  bool sequence_parallel = false;
  // LoRA: the layers' weights frozen, each linear of the layers gaining trained adapters
  // A[k×r]·B[r×n]; 0: every weight trains.
  uint64_t lora_rank = 0;
  // fp8 training as Transformer Engine runs it: the layers' linears multiply in fp8 (forward
  // and both backward products), each operand cast with a per-tensor scale together with its
  // transpose; their inputs are kept in fp8; everything else computes in the run's format.
  bool fp8 = false;
  // Knowledge distillation: a frozen teacher's forward pass beside the student's, on the same
  // devices (its layers split over the same stages in proportion, its tensors over the same
  // tensor-parallel devices), its probabilities the soft targets of a second loss. Its
  // vocabulary must be the student's.
  std::optional<ModelConfig> teacher;
};

// A tensor the forward pass keeps until the backward pass has used it.
struct SavedTensor {
  std::string name;  // the op that produced it, and which output
  uint64_t elements = 0;
  std::optional<arch::DType> format;  // none: the compute format

  uint64_t bytes(arch::DType compute) const { return elements * arch::bytes_of(format.value_or(compute)); }
};

// One device's share of a training step, for one micro-batch.
struct TrainingGraphs {
  OpGraph forward;
  // The head's gradients, each block of layers' in reverse, then the embeddings'; a stage that
  // is not the first ends by sending the gradient of its input to the stage before.
  OpGraph backward;
  // For each block of forward.layers, what one repeat of its layers keeps for one micro-batch;
  // and what the embeddings and the head keep.
  std::vector<std::vector<SavedTensor>> layer_saved;
  std::vector<SavedTensor> edge_saved;
  // Parameters the device holds: per block one repeat's, and the embeddings' and head's.
  std::vector<uint64_t> layer_parameters;
  uint64_t edge_parameters = 0;
  // Of those, the ones the optimizer updates (LoRA: the adapters only).
  std::vector<uint64_t> layer_trainable;
  uint64_t edge_trainable = 0;

  // MACs the backward pass spends recomputing the forward pass (one micro-batch).
  uint64_t recomputed_macs = 0;

  // Distillation: the teacher's forward pass on this device for one micro-batch (run before
  // the student's; its soft targets, on the last stage, are kept in edge_saved), and the
  // teacher's parameters it holds, frozen in the compute format.
  OpGraph teacher;
  uint64_t teacher_parameters = 0;

  uint64_t parameters() const;
  uint64_t trainable() const;
  uint64_t fp8_parameters() const;  // of those, the weights of fp8 products: held as fp8 copies too
  uint64_t saved_bytes(arch::DType compute) const;  // one micro-batch, all of the device's layers
};

// Where a pipeline stage's activations go and its gradients come back from: none on the last
// and first stage (interleaved schedules wrap around).
struct StageNeighbours {
  std::optional<uint64_t> next;
  std::optional<uint64_t> previous;
};

// One device's training graphs for `slice` (its tensor-parallel shard of its stage's layers).
// Throws InputError for an invalid config or options, or sizes tensor parallelism does not
// divide (sequence parallelism needs it to divide the micro-batch's tokens).
TrainingGraphs build_training_step(const ModelConfig& config, const TrainingOptions& options, const ModelSlice& slice,
                                   const StageNeighbours& neighbours);

}  // namespace tessel::workloads
