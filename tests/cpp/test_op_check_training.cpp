// check_op on the training kinds: every one passes whole in every floating format; large ops
// are checked on slices that are the smaller ops they stand for (leading rows, a causal
// softmax's last rows, leading tokens, leading parameters, one batch entry's leading KV-head
// groups or a group's last queries); int8 and ops over the limits are skipped with the reason;
// and model-sized ops are checked within the default limits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/op_check.h"
#include "workloads/op.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using workloads::AttentionShape;
using workloads::EmbeddingShape;
using workloads::Op;
using workloads::OpKind;
using workloads::OptimizerShape;
using workloads::RowsShape;
using workloads::SoftmaxShape;

constexpr OpCheckLimits kNoLimit{uint64_t{1} << 40, uint64_t{1} << 50};

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::vector<Op> small_training_ops() {
  return {
      Op("softmax_backward", OpKind::SoftmaxBackward, SoftmaxShape{8, 40, false}),
      Op("causal_softmax_backward", OpKind::SoftmaxBackward, SoftmaxShape{24, 40, true}),
      Op("layer_norm_backward", OpKind::LayerNormBackward, RowsShape{6, 48}),
      Op("rms_norm_backward", OpKind::RmsNormBackward, RowsShape{6, 48}),
      Op("gelu_backward", OpKind::GeluBackward, RowsShape{6, 48}),
      Op("relu_backward", OpKind::ReluBackward, RowsShape{6, 48}),
      Op("silu_mul_backward", OpKind::SiluMulBackward, RowsShape{6, 48}),
      Op("gelu_mul_backward", OpKind::GeluMulBackward, RowsShape{6, 48}),
      Op("softcap_backward", OpKind::SoftcapBackward, workloads::SoftcapShape{6, 48, 30}),
      Op("attention_backward", OpKind::AttentionBackward, AttentionShape{2, 4, 2, 5, 23, 16, true, 0}),
      Op("attention_backward_mha", OpKind::AttentionBackward, AttentionShape{1, 3, 3, 7, 12, 8, false, 0}),
      Op("attention_backward_windowed", OpKind::AttentionBackward, AttentionShape{2, 4, 2, 5, 23, 16, true, 0, 6, 2.0}),
      Op("embedding_backward", OpKind::EmbeddingBackward, EmbeddingShape{40, 16, 100}),
      Op("cross_entropy", OpKind::CrossEntropy, RowsShape{6, 100}),
      Op("cross_entropy_backward", OpKind::CrossEntropyBackward, RowsShape{6, 100}),
      Op("adamw", OpKind::AdamW, OptimizerShape{1000}),
      Op("grad_norm", OpKind::GradientNorm, OptimizerShape{3000}),
      Op("unscale", OpKind::GradientUnscale, OptimizerShape{1000}),
      Op("fp8_cast", OpKind::Quantize, RowsShape{6, 48}),
  };
}

TEST(OpCheckTraining, EveryKindPassesWholeInEveryFloatFormat) {
  for (DType dtype : kFloatDtypes) {
    for (const Op& op : small_training_ops()) {
      SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " " << op.name);
      const NumericsReport report = check_op(op, dtype, 7, kNoLimit);
      expect_passes(report);
      // The optimizer's gradient steps run in fp32 whatever the run's format.
      const bool fp32_only = op.kind == OpKind::GradientNorm || op.kind == OpKind::GradientUnscale;
      EXPECT_EQ(report.dtype, arch::to_string(fp32_only ? DType::Fp32 : dtype));
      if (op.kind != OpKind::ReluBackward) {  // ReLU's bound is 0
        EXPECT_GT(report.error_bound, 0.0);
      }
      EXPECT_NE(report.reference.find("all "), std::string::npos) << report.reference;
    }
  }
}

TEST(OpCheckTraining, Int8IsNotChecked) {
  for (const Op& op : small_training_ops()) {
    const NumericsReport report = check_op(op, DType::Int8, 1, kNoLimit);
    EXPECT_FALSE(report.checked) << op.name;
    EXPECT_NE(report.reference.find("int8"), std::string::npos) << report.reference;
  }
}

TEST(OpCheckTraining, ALargeRowsOpChecksALeadingSliceThatIsTheSmallerOp) {
  // 4096 rows of 64: x, dy and dx a row (192), gains and their two gradients once (192):
  // (4096 - 192) / 192 = 20 rows fit.
  const NumericsReport slice =
      check_op(Op("ln", OpKind::LayerNormBackward, RowsShape{4096, 64}), DType::Bf16, 5, {4096});
  expect_passes(slice);
  EXPECT_TRUE(starts_with(slice.reference, "rows 0-19 of 4096: ")) << slice.reference;
  const NumericsReport whole =
      check_op(Op("ln", OpKind::LayerNormBackward, RowsShape{20, 64}), DType::Bf16, 5, kNoLimit);
  EXPECT_EQ(slice.max_abs_error, whole.max_abs_error);
  EXPECT_EQ(slice.sqnr_db, whole.sqnr_db);
}

TEST(OpCheckTraining, ACrossEntropyBackwardSliceKeepsTheBatchsTokenCount) {
  // Its gradient is the mean's: a slice of 20 rows of 4096 divides by 4096, not 20, so it is
  // not the 20-row op (whose gradients are 205 times larger), yet passes its bound.
  const Op large("ce", OpKind::CrossEntropyBackward, RowsShape{4096, 64});
  const NumericsReport slice = check_op(large, DType::Fp32, 3, {20 * 3 * 64});
  expect_passes(slice);
  EXPECT_TRUE(starts_with(slice.reference, "rows 0-19 of 4096: ")) << slice.reference;
  const NumericsReport small =
      check_op(Op("ce", OpKind::CrossEntropyBackward, RowsShape{20, 64}), DType::Fp32, 3, kNoLimit);
  EXPECT_GT(small.error_bound, 100 * slice.error_bound);
}

TEST(OpCheckTraining, ACausalSoftmaxBackwardChecksTheLastRows) {
  const Op op("softmax_backward", OpKind::SoftmaxBackward, SoftmaxShape{64, 64, true});
  const NumericsReport slice = check_op(op, DType::Fp16, 4, {16 * 4 * 64});
  expect_passes(slice);
  EXPECT_TRUE(starts_with(slice.reference, "rows 48-63 of 64 (causal: the last 16 queries of 64 keys): "))
      << slice.reference;
  const NumericsReport small =
      check_op(Op("small", OpKind::SoftmaxBackward, SoftmaxShape{16, 64, true}), DType::Fp16, 4, kNoLimit);
  EXPECT_EQ(slice.max_abs_error, small.max_abs_error);
}

TEST(OpCheckTraining, EmbeddingAndAdamWCheckLeadingTokensAndParameters) {
  // A token costs dy's row and up to two table rows: 3 · 16 = 48 elements, 10 fit in 480.
  const NumericsReport embedding = check_op(
      Op("embedding_backward", OpKind::EmbeddingBackward, EmbeddingShape{1000, 16, 50000}), DType::Bf16, 2, {480});
  expect_passes(embedding);
  EXPECT_TRUE(starts_with(embedding.reference, "tokens 0-9 of 1000, ids in the table's first 10 rows: "))
      << embedding.reference;
  // Eight fp32 elements a parameter.
  const NumericsReport adamw = check_op(Op("adamw", OpKind::AdamW, OptimizerShape{1000000}), DType::Bf16, 2, {8 * 500});
  expect_passes(adamw);
  EXPECT_TRUE(starts_with(adamw.reference, "parameters 0-499 of 1000000 at step 10: ")) << adamw.reference;
}

TEST(OpCheckTraining, GradientStepsCheckLeadingParameters) {
  const NumericsReport norm =
      check_op(Op("grad_norm", OpKind::GradientNorm, OptimizerShape{1000000}), DType::Bf16, 2, {5000});
  expect_passes(norm);
  EXPECT_TRUE(starts_with(norm.reference, "parameters 0-4999 of 1000000: ")) << norm.reference;
  // Two fp32 elements a parameter: the scaled gradient and the unscaled one.
  const NumericsReport unscale =
      check_op(Op("unscale", OpKind::GradientUnscale, OptimizerShape{1000000}), DType::Fp16, 2, {2 * 500});
  expect_passes(unscale);
  EXPECT_TRUE(starts_with(unscale.reference, "parameters 0-499 of 1000000 at loss scale 65536: "))
      << unscale.reference;
}

TEST(OpCheckTraining, ALargeQuantizeChecksLeadingRowsAsATensorOfTheirOwn) {
  // x and its codes: 2 · 64 elements a row, 20 rows in 2560. Their amax and scale are theirs,
  // so the slice is the 20-row op.
  const NumericsReport slice = check_op(Op("cast", OpKind::Quantize, RowsShape{4096, 64}), DType::Bf16, 5, {2560});
  expect_passes(slice);
  EXPECT_TRUE(starts_with(slice.reference, "rows 0-19 of 4096: ")) << slice.reference;
  const NumericsReport whole = check_op(Op("cast", OpKind::Quantize, RowsShape{20, 64}), DType::Bf16, 5, kNoLimit);
  EXPECT_EQ(slice.max_abs_error, whole.max_abs_error);
  EXPECT_EQ(slice.sqnr_db, whole.sqnr_db);
}

TEST(OpCheckTraining, ALargeAttentionBackwardChecksKvHeadGroupsOrTheirLastQueries) {
  // 8 query heads in 2 groups of 4 over 20 keys, 6 queries, d = 8: a group needs Q, O, dO, dQ,
  // K, V, dK, dV, L and one head's replayed S and P, 4·4·6·8 + 4·20·8 + 4·6 + 2·6·20 = 1672.
  const Op op("attention_backward", OpKind::AttentionBackward, AttentionShape{3, 8, 2, 6, 20, 8, true, 14});
  const NumericsReport groups = check_op(op, DType::Bf16, 6, {1700});
  expect_passes(groups);
  EXPECT_TRUE(starts_with(groups.reference, "batch entry 0 of 3, heads 0-3 of 8 (KV heads 0-0 of 2): "))
      << groups.reference;
  // 1200 admits the last 3 queries of one group (1156 elements), not 4 (1328).
  const NumericsReport queries = check_op(op, DType::Bf16, 6, {1200});
  expect_passes(queries);
  EXPECT_NE(queries.reference.find("queries 3-5 of 6"), std::string::npos) << queries.reference;
  // One query needs 4·4·8 + 4·20·8 + 4 + 2·20 = 812.
  const NumericsReport none = check_op(op, DType::Bf16, 6, {811});
  EXPECT_FALSE(none.checked);
  EXPECT_NE(none.reference.find("over the check's limit of 811"), std::string::npos) << none.reference;
}

TEST(OpCheckTraining, ALongCausalAttentionBackwardChecksItsLeadingTokens) {
  // 2 query heads on one KV head over 32 tokens, d = 8: one query over all 32 keys needs
  // 4·2·8 + 4·32·8 + 2 + 2·32 = 1154 elements; the leading r tokens 98 r + 2 r², so 1100
  // admits 9 of them.
  const Op op("attention_backward", OpKind::AttentionBackward, AttentionShape{1, 2, 1, 32, 32, 8, true, 0});
  const NumericsReport report = check_op(op, DType::Fp16, 8, {1100});
  expect_passes(report);
  EXPECT_NE(report.reference.find("tokens 0-8 of 32 (the leading queries and the keys they see"), std::string::npos)
      << report.reference;
  EXPECT_FALSE(check_op(op, DType::Fp16, 8, {99}).checked);  // not even one token: 100 elements
}

// A 7B model's training step on 4096 tokens: every kind past the default limits is checked on
// a slice (each about 0.2-0.5 s on one core of the development machine).
void expect_checked_on_a_slice(const Op& op) {
  const NumericsReport report = check_op(op, DType::Bf16, 1, default_op_check_limits());
  expect_passes(report);
  EXPECT_EQ(report.reference.find("all "), std::string::npos) << op.name << ": " << report.reference;
}

TEST(OpCheckTraining, ModelSizedRowsOpsAreCheckedWithinTheDefaultLimits) {
  expect_checked_on_a_slice(Op("rms_norm_backward", OpKind::RmsNormBackward, RowsShape{4096, 4096}));
  // The fp8 cast of a 7B model's MLP down projection's input: 4096 tokens of 11008.
  expect_checked_on_a_slice(Op("mlp.down.input_cast", OpKind::Quantize, RowsShape{4096, 11008}));
}

TEST(OpCheckTraining, ModelSizedAttentionAndOptimizerStepsAreCheckedWithinTheDefaultLimits) {
  // At 8192 tokens K, V and their gradients alone exceed the elements: the leading tokens.
  expect_checked_on_a_slice(
      Op("attention_backward", OpKind::AttentionBackward, AttentionShape{1, 32, 8, 8192, 8192, 128, true, 0}));
  expect_checked_on_a_slice(Op("adamw", OpKind::AdamW, OptimizerShape{6738415616}));
  expect_checked_on_a_slice(Op("grad_norm", OpKind::GradientNorm, OptimizerShape{6738415616}));
  expect_checked_on_a_slice(Op("unscale", OpKind::GradientUnscale, OptimizerShape{6738415616}));
}

}  // namespace
}  // namespace tessel::sim
