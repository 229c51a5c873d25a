// check_op: every computing kind passes on small ops in every floating format; a large op is
// checked on a slice that is the same problem as the smaller op it stands for; causal
// softmax slices keep their masks; batched matmuls report their worst entry; data movement,
// int8 on the vector unit and ops over the limit are skipped with the reason; Linear throws.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "op_numerics_util.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_check.h"
#include "workloads/op.h"

namespace tessel::sim {
namespace {

using arch::DType;
using testing_support::expect_passes;
using testing_support::kFloatDtypes;
using workloads::AttentionShape;
using workloads::BatchedMatmulShape;
using workloads::EmbeddingShape;
using workloads::KvCacheShape;
using workloads::Op;
using workloads::OpKind;
using workloads::RopeShape;
using workloads::RowsShape;
using workloads::SoftmaxShape;

constexpr OpCheckLimits kNoLimit{uint64_t{1} << 40, uint64_t{1} << 50};

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Small ops of every kind that computes, each checked whole.
std::vector<Op> small_ops() {
  return {
      Op("scores", OpKind::BatchedMatmul, BatchedMatmulShape{4, 8, 12, 16, 2, 0}),
      Op("softmax", OpKind::Softmax, SoftmaxShape{8, 40, false}),
      Op("causal_softmax", OpKind::Softmax, SoftmaxShape{24, 40, true}),
      Op("layer_norm", OpKind::LayerNorm, RowsShape{6, 48}),
      Op("rms_norm", OpKind::RmsNorm, RowsShape{6, 48}),
      Op("gelu", OpKind::Gelu, RowsShape{6, 48}),
      Op("relu", OpKind::Relu, RowsShape{6, 48}),
      Op("silu_mul", OpKind::SiluMul, RowsShape{6, 48}),
      Op("gelu_mul", OpKind::GeluMul, RowsShape{6, 48}),
      Op("softcap", OpKind::Softcap, workloads::SoftcapShape{6, 48, 30}),
      Op("residual", OpKind::ResidualAdd, RowsShape{6, 48}),
      Op("rope", OpKind::Rope, RopeShape{5, 3, 16}),
      // GQA, a chunk of queries at the end of the keys; and a plain multi-head, unmasked one.
      Op("attention", OpKind::Attention, AttentionShape{2, 4, 2, 5, 23, 16, true, 0}),
      Op("attention_mha", OpKind::Attention, AttentionShape{1, 3, 3, 7, 12, 8, false, 0}),
      // A sliding window of 6 keys and scores capped at 2.
      Op("attention_windowed", OpKind::Attention, AttentionShape{2, 4, 2, 5, 23, 16, true, 0, 6, 2.0}),
  };
}

TEST(OpCheck, EveryComputingKindPassesWholeInEveryFloatFormat) {
  for (DType dtype : kFloatDtypes) {
    for (const Op& op : small_ops()) {
      SCOPED_TRACE(testing::Message() << arch::to_string(dtype) << " " << op.name);
      const NumericsReport report = check_op(op, dtype, 7, kNoLimit);
      expect_passes(report);
      EXPECT_EQ(report.dtype, arch::to_string(dtype));
      if (op.kind != OpKind::Relu) {  // Relu's bound is 0
        EXPECT_GT(report.error_bound, 0.0);
      }
      EXPECT_NE(report.reference.find("all "), std::string::npos) << report.reference;
    }
  }
}

TEST(OpCheck, ReluIsExact) {
  const Op relu("relu", OpKind::Relu, RowsShape{16, 64});
  for (DType dtype : kFloatDtypes) {
    const NumericsReport report = check_op(relu, dtype, 3, kNoLimit);
    EXPECT_TRUE(report.passed);
    EXPECT_EQ(report.max_abs_error, 0.0);
    EXPECT_EQ(report.error_bound, 0.0);
    EXPECT_TRUE(std::isinf(report.sqnr_db));
    EXPECT_EQ(report.relative_error, 0.0);
  }
}

TEST(OpCheck, TheSeedPicksTheInputs) {
  const Op gelu("gelu", OpKind::Gelu, RowsShape{8, 64});
  const NumericsReport first = check_op(gelu, DType::Fp16, 1, kNoLimit);
  EXPECT_EQ(check_op(gelu, DType::Fp16, 1, kNoLimit).sqnr_db, first.sqnr_db);
  EXPECT_NE(check_op(gelu, DType::Fp16, 2, kNoLimit).sqnr_db, first.sqnr_db);
}

TEST(OpCheck, ALargeRowsOpChecksALeadingSliceThatIsTheSmallerOp) {
  // 4096 rows of 64 with gains and shifts (2 x 64): (4096 - 128) / 128 = 31 rows fit.
  const Op large("layer_norm", OpKind::LayerNorm, RowsShape{4096, 64});
  const NumericsReport slice = check_op(large, DType::Bf16, 5, {4096});
  expect_passes(slice);
  EXPECT_TRUE(starts_with(slice.reference, "rows 0-30 of 4096: ")) << slice.reference;
  // The slice is the 31-row op itself: the same inputs, the same figures.
  const NumericsReport whole =
      check_op(Op("small", OpKind::LayerNorm, RowsShape{31, 64}), DType::Bf16, 5, kNoLimit);
  EXPECT_TRUE(starts_with(whole.reference, "all 31 rows: ")) << whole.reference;
  EXPECT_EQ(slice.max_abs_error, whole.max_abs_error);
  EXPECT_EQ(slice.sqnr_db, whole.sqnr_db);
}

TEST(OpCheck, ALargeRopeChecksLeadingTokensFromPositionZero) {
  const Op rope("rope", OpKind::Rope, RopeShape{1000, 4, 32});  // 128 per token, in and out
  const NumericsReport report = check_op(rope, DType::Fp32, 9, {256 * 10});
  expect_passes(report);
  EXPECT_TRUE(starts_with(report.reference, "tokens 0-9 of 1000 at positions from 0: "))
      << report.reference;
}

TEST(OpCheck, ACausalSoftmaxSliceIsTheOpsLastRowsWithTheirOwnMasks) {
  // 64 rows of 64 keys; 16 rows fit. Rows 48-63 see 49..64 keys, exactly the end-aligned
  // mask of a 16 x 64 problem; the leading rows see 1..16 and would not be one.
  const Op op("softmax", OpKind::Softmax, SoftmaxShape{64, 64, true});
  const NumericsReport slice = check_op(op, DType::Fp16, 4, {16 * 2 * 64});
  expect_passes(slice);
  EXPECT_TRUE(
      starts_with(slice.reference, "rows 48-63 of 64 (causal: the last 16 queries of 64 keys): "))
      << slice.reference;
  const NumericsReport small =
      check_op(Op("small", OpKind::Softmax, SoftmaxShape{16, 64, true}), DType::Fp16, 4, kNoLimit);
  EXPECT_EQ(slice.max_abs_error, small.max_abs_error);
  // An unmasked softmax keeps its leading rows.
  const NumericsReport unmasked = check_op(
      Op("softmax", OpKind::Softmax, SoftmaxShape{64, 64, false}), DType::Fp16, 4, {16 * 2 * 64});
  EXPECT_TRUE(starts_with(unmasked.reference, "rows 0-15 of 64: ")) << unmasked.reference;
}

TEST(OpCheck, ACausalSoftmaxOfStackedHeadsChecksAtMostOneMatrixOfRows) {
  // Four heads of 32 x 32 scores stacked: a causal problem has no more queries than keys.
  const Op op("softmax", OpKind::Softmax, SoftmaxShape{128, 32, true});
  const NumericsReport report = check_op(op, DType::Bf16, 2, kNoLimit);
  expect_passes(report);
  EXPECT_TRUE(starts_with(report.reference,
                          "rows 96-127 of 128 (causal: the last 32 queries of 32 keys): "))
      << report.reference;
}

TEST(OpCheck, ABatchedMatmulChecksLeadingEntriesAndReportsTheWorst) {
  // 16 entries of 8x12x16: 8·16 + 16·12 + 8·12 = 416 elements each, 3 fit in 1300.
  const Op op("context", OpKind::BatchedMatmul, BatchedMatmulShape{16, 8, 12, 16, 4, 0});
  const NumericsReport report = check_op(op, DType::Fp16, 11, {1300});
  expect_passes(report);
  EXPECT_TRUE(starts_with(report.reference, "batch entries 0-2 of 16, each 8x12x16"))
      << report.reference;
  double largest = 0, lowest_sqnr = INFINITY;
  for (uint64_t entry = 0; entry < 3; ++entry) {
    const NumericsReport one = check_gemm({8, 12, 16, DType::Fp16, 16, 11 + entry});
    largest = std::max(largest, one.max_abs_error);
    lowest_sqnr = std::min(lowest_sqnr, one.sqnr_db);
  }
  EXPECT_EQ(report.max_abs_error, largest);
  EXPECT_EQ(report.sqnr_db, lowest_sqnr);
}

TEST(OpCheck, ALargeAttentionChecksWholeKvHeadGroupsOfOneBatchEntry) {
  // 8 query heads in 2 groups of 4; a group needs 2·4·6·8 + 2·20·8 + 2·4·6·20 = 1664
  // elements, so 2000 admits one group.
  const Op op("attention", OpKind::Attention, AttentionShape{3, 8, 2, 6, 20, 8, true, 14});
  const NumericsReport report = check_op(op, DType::Bf16, 6, {2000});
  expect_passes(report);
  EXPECT_TRUE(
      starts_with(report.reference, "batch entry 0 of 3, heads 0-3 of 8 (KV heads 0-0 of 2): "))
      << report.reference;
  EXPECT_NE(report.reference.find("unfused attention vs fused attention"), std::string::npos);
}

TEST(OpCheck, DataMovementComputesNothingToCheck) {
  const Op ops[] = {
      Op("append", OpKind::KvCacheAppend, KvCacheShape{1, 4, 2, 8}),
      Op("read", OpKind::KvCacheRead, KvCacheShape{1, 4, 2, 8}),
      Op("embed", OpKind::Embedding, EmbeddingShape{4, 16, 100}),
  };
  for (const Op& op : ops) {
    for (DType dtype : {DType::Fp16, DType::Int8}) {
      const NumericsReport report = check_op(op, dtype, 1, kNoLimit);
      EXPECT_FALSE(report.checked) << op.name;
      EXPECT_FALSE(report.passed) << op.name;
      EXPECT_NE(report.reference.find("computes nothing"), std::string::npos) << report.reference;
    }
  }
}

TEST(OpCheck, LinearThrows) {
  const Op linear("proj", OpKind::Linear, workloads::LinearShape{4, 8, 16, false});
  EXPECT_THROW(check_op(linear, DType::Fp16, 1, kNoLimit), std::invalid_argument);
  EXPECT_THROW(check_op(linear, DType::Int8, 1, kNoLimit), std::invalid_argument);
}

TEST(OpCheck, AnOpWhoseSingleRowExceedsTheLimitIsNotChecked) {
  const Op ops[] = {
      Op("residual", OpKind::ResidualAdd, RowsShape{4, 1000}),                       // 3000 a row
      Op("softmax", OpKind::Softmax, SoftmaxShape{4, 1500, true}),                   // 3000 a row
      Op("scores", OpKind::BatchedMatmul, BatchedMatmulShape{2, 30, 30, 30, 1, 0}),  // 2700
  };
  for (const Op& op : ops) {
    const NumericsReport report = check_op(op, DType::Fp32, 1, {2500});
    EXPECT_FALSE(report.checked) << op.name;
    EXPECT_NE(report.reference.find("over the check's limit of 2500"), std::string::npos)
        << report.reference;
  }
  // A KV-head group of 2 heads over 16 keys: Q and O 2·2·q·16, K and V 2·16·16, S and P
  // 2·2·q·16 elements for q queries: 2560 for all 16, 2432 for the last 15, 640 for one.
  const Op attention("attention", OpKind::Attention, AttentionShape{1, 2, 1, 16, 16, 16, true, 0});
  const NumericsReport last = check_op(attention, DType::Fp32, 1, {2500});
  expect_passes(last);
  EXPECT_NE(last.reference.find("queries 1-15 of 16"), std::string::npos) << last.reference;
  const NumericsReport none = check_op(attention, DType::Fp32, 1, {639});
  EXPECT_FALSE(none.checked);
  EXPECT_NE(none.reference.find("over the check's limit of 639"), std::string::npos) << none.reference;
  // One row exactly at the limit is checked.
  EXPECT_TRUE(
      check_op(Op("relu", OpKind::Relu, RowsShape{4, 1250}), DType::Fp32, 1, {2500}).checked);
}

TEST(OpCheck, MatrixProductsAreAlsoLimitedByTheirMacs) {
  // 64^3 = 262144 MACs in 12288 elements: within the elements, over 200000 MACs.
  const Op gemm("scores", OpKind::BatchedMatmul, BatchedMatmulShape{2, 64, 64, 64, 1, 0});
  const NumericsReport over = check_op(gemm, DType::Fp16, 1, {1 << 20, 200000});
  EXPECT_FALSE(over.checked);
  EXPECT_NE(over.reference.find("262144 MACs"), std::string::npos) << over.reference;
  EXPECT_TRUE(starts_with(check_op(gemm, DType::Fp16, 1, {1 << 20, 300000}).reference,
                          "batch entries 0-0 of 2"));
  // An attention MAC weighs kAttentionMacCost, over the unmasked scores only: a causal
  // 16 x 16 head has 136 of 256, so 2 · 136 · 16 MACs.
  const uint64_t head = kAttentionMacCost * 2 * 136 * 16;
  const Op attention("attention", OpKind::Attention, AttentionShape{1, 3, 3, 16, 16, 16, true, 0});
  const NumericsReport two = check_op(attention, DType::Fp32, 1, {1 << 20, 2 * head + head / 2});
  expect_passes(two);
  EXPECT_TRUE(starts_with(two.reference, "batch entry 0 of 1, heads 0-1 of 3 (KV heads 0-1 of 3)"))
      << two.reference;
  // Under one head's MACs: its last 15 queries (135 visible pairs) fit, one query (16 pairs)
  // is the least a check takes.
  const NumericsReport last = check_op(attention, DType::Fp32, 1, {1 << 20, head - 1});
  expect_passes(last);
  EXPECT_NE(last.reference.find("queries 1-15 of 16"), std::string::npos) << last.reference;
  const uint64_t one_query = kAttentionMacCost * 2 * 16 * 16;
  const NumericsReport none = check_op(attention, DType::Fp32, 1, {1 << 20, one_query - 1});
  EXPECT_FALSE(none.checked);
  EXPECT_NE(none.reference.find(std::to_string(one_query) + " MACs"), std::string::npos)
      << none.reference;
}

TEST(OpCheck, ShapesTheDatapathRejectsThrow) {
  EXPECT_THROW(check_op(Op("rope", OpKind::Rope, RopeShape{4, 2, 15}), DType::Fp16, 1, kNoLimit),
               std::invalid_argument);
  // A causal mask aligned to the end leaves the first of 8 queries over 4 keys nothing.
  EXPECT_THROW(
      check_op(Op("attention", OpKind::Attention, AttentionShape{1, 1, 1, 8, 4, 8, true, 0}),
               DType::Fp16, 1, kNoLimit),
      std::invalid_argument);
}

TEST(OpCheck, Int8VectorOpsAndAttentionAreNotChecked) {
  for (const Op& op : small_ops()) {
    if (op.kind == OpKind::BatchedMatmul) continue;
    const NumericsReport report = check_op(op, DType::Int8, 1, kNoLimit);
    EXPECT_FALSE(report.checked) << op.name;
    EXPECT_EQ(report.dtype, "int8");
    EXPECT_NE(report.reference.find("int8"), std::string::npos) << report.reference;
  }
}

TEST(OpCheck, Int8BatchedMatmulIsBitExact) {
  const Op op("scores", OpKind::BatchedMatmul, BatchedMatmulShape{4, 8, 12, 64, 2, 0});
  const NumericsReport report = check_op(op, DType::Int8, 3, kNoLimit);
  EXPECT_TRUE(report.checked);
  EXPECT_TRUE(report.passed);
  EXPECT_EQ(report.max_abs_error, 0.0);
  EXPECT_EQ(report.error_bound, 0.0);
  EXPECT_NE(report.reference.find("bit-identical"), std::string::npos) << report.reference;
  EXPECT_GT(report.quantization_sqnr_db, 20.0);  // int8 costs accuracy, and it is reported
}

TEST(OpCheck, TheDefaultLimitsCheckAModelSizedRowsOpOnASlice) {
  // A 7B model's prefill of 4096 tokens: 4096 x 4096 residual adds, far past the limit.
  const Op op("residual", OpKind::ResidualAdd, RowsShape{4096, 4096});
  const OpCheckLimits limits = default_op_check_limits();
  const NumericsReport report = check_op(op, DType::Bf16, 1, limits);
  expect_passes(report);
  const uint64_t rows = limits.max_elements / (3 * 4096);
  EXPECT_TRUE(starts_with(report.reference, "rows 0-" + std::to_string(rows - 1) + " of 4096: "))
      << report.reference;
}

}  // namespace
}  // namespace tessel::sim
