// Training graphs of the families' particulars: GeGLU's and the soft caps' backward passes, and
// parallel attention and MLP sub-blocks under tensor and sequence parallelism.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "workloads/model_config.h"
#include "workloads/training.h"

namespace tessel::workloads {
namespace {

TrainingGraphs step(const std::string& model, uint64_t tp, bool sequence_parallel,
                    AttentionImpl attention = AttentionImpl::Fused) {
  TrainingOptions options;
  options.micro_batch = 2;
  options.seq = 256;
  options.attention = attention;
  options.sequence_parallel = sequence_parallel;
  ModelSlice slice;
  slice.tensor_parallel = tp;
  return build_training_step(model_preset(model), options, slice, {});
}

uint64_t count(const std::vector<Op>& ops, OpKind kind) {
  return static_cast<uint64_t>(std::count_if(ops.begin(), ops.end(), [&](const Op& op) { return op.kind == kind; }));
}

bool has(const std::vector<Op>& ops, const std::string& name) {
  return std::any_of(ops.begin(), ops.end(), [&](const Op& op) { return op.name == name; });
}

// Every new forward kind has its gradient, and the capped logits feed the loss.
TEST(TrainingFamilies, GeGluAndSoftCapsHaveTheirGradients) {
  const TrainingGraphs gemma2 = step("gemma2-9b", 1, false, AttentionImpl::Unfused);
  const std::vector<Op>& layer = gemma2.backward.layers.at(0).ops;
  EXPECT_EQ(count(layer, OpKind::GeluMulBackward), 1u);
  EXPECT_EQ(count(layer, OpKind::SoftcapBackward), 1u);  // the scores' cap
  EXPECT_TRUE(has(gemma2.forward.epilogue, "lm_head.softcap"));
  EXPECT_TRUE(has(gemma2.backward.prologue, "lm_head.softcap.grad"));
  // The capped logits are kept for their gradient, beside the loss's softmax.
  const auto& saved = gemma2.edge_saved;
  EXPECT_TRUE(
      std::any_of(saved.begin(), saved.end(), [](const SavedTensor& t) { return t.name == "lm_head.softcap"; }));
}

// Attention and MLP of a parallel layer each read the layer's input: under sequence
// parallelism each gathers it (GPT-NeoX's two norms), or the MLP reuses what the QKV
// projection gathered (Falcon-7B's one norm); one reduce-scatter completes both sub-blocks.
TEST(TrainingFamilies, ParallelSubBlocksUnderSequenceParallelism) {
  const TrainingGraphs neox = step("pythia-6.9b", 4, true);
  const std::vector<Op>& neox_layer = neox.forward.layers.at(0).ops;
  EXPECT_TRUE(has(neox_layer, "attn.qkv_proj.all_gather"));
  EXPECT_TRUE(has(neox_layer, "mlp.up_proj.all_gather"));
  EXPECT_EQ(count(neox_layer, OpKind::ReduceScatter), 1u);
  EXPECT_EQ(count(neox_layer, OpKind::AllReduce), 0u);

  const TrainingGraphs falcon = step("falcon-40b", 8, true);
  EXPECT_TRUE(has(falcon.forward.layers.at(0).ops, "mlp.up_proj.all_gather"));
  ModelConfig shared_norm = model_preset("falcon-40b");
  shared_norm.block_layout = BlockLayout::ParallelSharedNorm;
  TrainingOptions options;
  options.micro_batch = 2;
  options.seq = 256;
  options.sequence_parallel = true;
  ModelSlice slice;
  slice.tensor_parallel = 8;
  const TrainingGraphs shared = build_training_step(shared_norm, options, slice, {});
  const std::vector<Op>& shared_layer = shared.forward.layers.at(0).ops;
  EXPECT_TRUE(has(shared_layer, "attn.qkv_proj.all_gather"));
  EXPECT_FALSE(has(shared_layer, "mlp.up_proj.all_gather"));
  EXPECT_EQ(count(shared_layer, OpKind::ReduceScatter), 1u);
}

// The MLP branch's norm reads the layer's input, which the attention's norm keeps already: a
// parallel layer keeps it once.
TEST(TrainingFamilies, ParallelLayerKeepsItsInputOnce) {
  const TrainingGraphs neox = step("pythia-6.9b", 1, false);
  const std::vector<SavedTensor>& saved = neox.layer_saved.at(0);
  EXPECT_EQ(std::count_if(saved.begin(), saved.end(), [](const SavedTensor& t) { return t.name == "layer.input"; }),
            1);
}

}  // namespace
}  // namespace tessel::workloads
