// Operators: MACs, flops, elements moved, vector work and parameters, hand-checked on small
// shapes; the causal mask's pair count against brute force.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "workloads/op.h"

namespace tessel::workloads {
namespace {

void expect_elements(const Op& op, uint64_t read, uint64_t written) {
  const ElementCounts counts = op.elements();
  EXPECT_EQ(counts.read, read) << op.name;
  EXPECT_EQ(counts.written, written) << op.name;
}

TEST(Op, LinearCountsWeightsBiasAndOutput) {
  const Op op("proj", OpKind::Linear, LinearShape{2, 3, 4, true});
  EXPECT_EQ(op.macs(), 2u * 3 * 4);
  EXPECT_EQ(op.flops(), 2u * 24 + 2 * 3);  // 2 per MAC, one add per output for the bias
  expect_elements(op, 2 * 4 + 4 * 3 + 3, 2 * 3);
  EXPECT_EQ(op.parameters(), 4u * 3 + 3);
  EXPECT_FALSE(op.vector_work().has_value());
  EXPECT_EQ(op.shape_text(), "2x3x4");
}

TEST(Op, TiedLinearReadsItsWeightButOwnsNoParameters) {
  const Op op("lm_head", OpKind::Linear, LinearShape{2, 10, 4, false, WeightRole::Borrowed});
  EXPECT_EQ(op.parameters(), 0u);
  expect_elements(op, 2 * 4 + 4 * 10, 2 * 10);
  EXPECT_EQ(op.flops(), 2u * 2 * 10 * 4);
}

TEST(Op, BatchedMatmulReadsEachSharedBOnce) {
  // 4 products of 2x3x5; pairs of entries share a B, so 2 distinct Bs of 5x3.
  const Op shared("scores", OpKind::BatchedMatmul, BatchedMatmulShape{4, 2, 3, 5, 2, 0});
  EXPECT_EQ(shared.macs(), 4u * 2 * 3 * 5);
  EXPECT_EQ(shared.flops(), 2u * 120);
  expect_elements(shared, 4 * 2 * 5 + 2 * 5 * 3, 4 * 2 * 3);
  EXPECT_EQ(shared.parameters(), 0u);
  EXPECT_EQ(shared.shape_text(), "4x2x3x5");

  const Op unshared("scores", OpKind::BatchedMatmul, BatchedMatmulShape{4, 2, 3, 5, 1, 0});
  expect_elements(unshared, 4 * 2 * 5 + 4 * 5 * 3, 4 * 2 * 3);

  // 6 of each B's 15 elements come through KvCacheRead and are not counted again.
  const Op cached("scores", OpKind::BatchedMatmul, BatchedMatmulShape{4, 2, 3, 5, 2, 6});
  expect_elements(cached, 4 * 2 * 5 + 2 * (15 - 6), 4 * 2 * 3);
  EXPECT_EQ(cached.macs(), shared.macs());
}

TEST(Op, SoftmaxMakesThreePassesAndMaskingCostsASelect) {
  const Op plain("softmax", OpKind::Softmax, SoftmaxShape{3, 4, false});
  expect_elements(plain, 12, 12);
  const VectorWork work = plain.vector_work().value();
  EXPECT_EQ(work.passes, 3u);
  EXPECT_EQ(work.alu_ops(), 5u * 12);      // max, sub, scale, sum, normalise
  EXPECT_EQ(work.special_ops(), 12u + 3);  // exp per element, 1/sum per row
  EXPECT_EQ(plain.flops(), 60u + 15);

  const Op causal("softmax", OpKind::Softmax, SoftmaxShape{3, 4, true});
  EXPECT_EQ(causal.vector_work()->alu_ops(), 6u * 12);
  EXPECT_EQ(causal.flops(), 72u + 15);
}

TEST(Op, NormsCountTheirPassesAndScales) {
  const Op layer_norm("ln", OpKind::LayerNorm, RowsShape{2, 8});
  expect_elements(layer_norm, 16 + 2 * 8, 16);  // x, γ and β
  EXPECT_EQ(layer_norm.parameters(), 16u);
  const VectorWork ln = layer_norm.vector_work().value();
  EXPECT_EQ(ln.passes, 3u);
  EXPECT_EQ(ln.alu_ops(), 8u * 16 + 3 * 2);
  EXPECT_EQ(ln.special_ops(), 2u);  // one rsqrt per row
  EXPECT_EQ(layer_norm.flops(), 134u + 2);

  const Op rms_norm("rms", OpKind::RmsNorm, RowsShape{2, 8});
  expect_elements(rms_norm, 16 + 8, 16);
  EXPECT_EQ(rms_norm.parameters(), 8u);
  const VectorWork rms = rms_norm.vector_work().value();
  EXPECT_EQ(rms.passes, 2u);
  EXPECT_EQ(rms.alu_ops(), 4u * 16 + 2 * 2);
  EXPECT_EQ(rms.special_ops(), 2u);
}

TEST(Op, ElementWiseOpsCountPerElement) {
  const Op gelu("gelu", OpKind::Gelu, RowsShape{2, 8});
  expect_elements(gelu, 16, 16);
  EXPECT_EQ(gelu.flops(), 16u * (8 + 1));  // 8 ALU and one tanh each

  const Op relu("relu", OpKind::Relu, RowsShape{2, 8});
  EXPECT_EQ(relu.flops(), 16u);

  const Op silu_mul("silu_mul", OpKind::SiluMul, RowsShape{2, 8});
  expect_elements(silu_mul, 2 * 16, 16);                      // gate and up
  EXPECT_EQ(silu_mul.vector_work()->special_ops(), 2u * 16);  // exp and reciprocal
  EXPECT_EQ(silu_mul.flops(), 16u * (4 + 2));

  const Op add("residual", OpKind::ResidualAdd, RowsShape{2, 8});
  expect_elements(add, 2 * 16, 16);
  EXPECT_EQ(add.flops(), 16u);
  EXPECT_EQ(add.vector_work()->passes, 1u);
  EXPECT_EQ(add.shape_text(), "2x8");
}

TEST(Op, GeGluAndSoftCapsCountPerElement) {
  const Op gelu_mul("gelu_mul", OpKind::GeluMul, RowsShape{2, 8});
  expect_elements(gelu_mul, 2 * 16, 16);  // gate and up
  EXPECT_EQ(gelu_mul.flops(), 16u * (9 + 1));  // the tanh-form GELU and the multiply; one tanh

  const Op cap("cap", OpKind::Softcap, SoftcapShape{2, 8, 30});
  expect_elements(cap, 16, 16);
  EXPECT_EQ(cap.flops(), 16u * (2 + 1));  // x·(1/c), tanh, ·c
  EXPECT_EQ(cap.shape_text(), "2x8 cap 30");
  const Op cap_grad("cap.grad", OpKind::SoftcapBackward, SoftcapShape{2, 8, 30});
  expect_elements(cap_grad, 2 * 16, 16);  // y and dy
  EXPECT_EQ(cap_grad.flops(), 16u * 4);
  EXPECT_THROW(Op("x", OpKind::Softcap, SoftcapShape{2, 8, 0}), std::invalid_argument);
}

// A capped score costs a tanh and two multiplies more; a window leaves its pairs only.
TEST(Op, AttentionCapsAndWindowsItsScores) {
  const AttentionShape plain{1, 4, 2, 6, 6, 8, true, 0};
  AttentionShape capped = plain;
  capped.softcap = 50;
  const Op a("attn", OpKind::Attention, plain), b("attn", OpKind::Attention, capped);
  const uint64_t scores = 4 * 21;
  EXPECT_EQ(b.vector_work()->alu_ops() - a.vector_work()->alu_ops(), 2 * scores);
  EXPECT_EQ(b.vector_work()->special_ops() - a.vector_work()->special_ops(), scores);
  EXPECT_EQ(b.macs(), a.macs());
  AttentionShape windowed = capped;
  windowed.window = 2;  // each of 6 queries sees itself and the key before: 1 + 5 × 2 pairs
  const Op w("attn", OpKind::Attention, windowed);
  EXPECT_EQ(w.macs(), 2u * 4 * 11 * 8);
  EXPECT_EQ(w.shape_text(), "1x4:2x6x6x8 window 2 softcap 50");
  windowed.causal = false;
  EXPECT_THROW(Op("x", OpKind::Attention, windowed), std::invalid_argument);
}

TEST(Op, RopeReadsOneCosSinRowPerToken) {
  const Op rope("rope", OpKind::Rope, RopeShape{3, 2, 4});
  expect_elements(rope, 3 * 2 * 4 + 3 * 4, 3 * 2 * 4);
  EXPECT_EQ(rope.flops(), 3u * 24);
  EXPECT_EQ(rope.vector_work()->rows, 6u);
  EXPECT_EQ(rope.shape_text(), "3x2x4");
}

TEST(Op, KvCacheAndEmbeddingOnlyMoveData) {
  const Op append("append", OpKind::KvCacheAppend, KvCacheShape{2, 3, 2, 4});
  expect_elements(append, 2 * 3 * 2 * 4 * 2, 2 * 3 * 2 * 4 * 2);
  EXPECT_EQ(append.flops(), 0u);
  EXPECT_FALSE(append.vector_work().has_value());
  EXPECT_EQ(append.shape_text(), "2x3x2x4x2");

  const Op read("read", OpKind::KvCacheRead, KvCacheShape{2, 3, 2, 4});
  expect_elements(read, 96, 0);

  const Op embedding("embed", OpKind::Embedding, EmbeddingShape{5, 4, 10});
  expect_elements(embedding, 5 * 4, 5 * 4);
  EXPECT_EQ(embedding.parameters(), 10u * 4);
  EXPECT_EQ(embedding.flops(), 0u);
  EXPECT_EQ(embedding.shape_text(), "5x4 of 10");
}

TEST(Op, FusedAttentionCountsOnlyUnmaskedScores) {
  // 3 queries at the end of 5 positions see 3, 4 and 5 keys: 12 pairs per head.
  const Op op("attn", OpKind::Attention, AttentionShape{1, 4, 2, 3, 5, 8, true, 0});
  const uint64_t scores = 4 * 12;
  EXPECT_EQ(op.macs(), 2 * scores * 8);  // Q·Kᵀ and A·V
  const VectorWork work = op.vector_work().value();
  EXPECT_EQ(work.elements, scores);
  EXPECT_EQ(work.rows, 4u * 3);
  EXPECT_EQ(work.passes, 1u);
  EXPECT_EQ(work.alu_ops(), 4 * scores + 8 * 12);  // + head_dim to normalise each output row
  EXPECT_EQ(work.special_ops(), scores + 12);
  EXPECT_EQ(op.flops(), 2 * op.macs() + work.alu_ops() + work.special_ops());
  // Reads Q and the K/V of its 2 KV heads; writes the output; no scores.
  expect_elements(op, 4 * 3 * 8 + 2 * 5 * 8 * 2, 4 * 3 * 8);
  EXPECT_EQ(op.shape_text(), "1x4:2x3x5x8");

  const Op unmasked("attn", OpKind::Attention, AttentionShape{1, 4, 2, 3, 5, 8, false, 0});
  EXPECT_EQ(unmasked.macs(), 2u * 4 * 3 * 5 * 8);

  // The first 2 positions' K/V come from the cache, counted by KvCacheRead instead.
  const Op cached("attn", OpKind::Attention, AttentionShape{1, 4, 2, 3, 5, 8, true, 2});
  expect_elements(cached, 4 * 3 * 8 + 2 * 3 * 8 * 2, 4 * 3 * 8);
}

TEST(Op, CausalPairsMatchBruteForceOverTheMask) {
  std::mt19937 random(7);
  std::uniform_int_distribution<uint64_t> length(1, 70);
  for (int trial = 0; trial < 300; ++trial) {
    const uint64_t q_len = length(random);
    const uint64_t kv_len = length(random);
    uint64_t unmasked = 0;
    for (uint64_t i = 0; i < q_len; ++i) {
      for (uint64_t j = 0; j < kv_len; ++j) {
        // Query i is position kv_len - q_len + i; it sees that position and the ones before.
        if (j + q_len <= kv_len + i) ++unmasked;
      }
    }
    ASSERT_EQ(causal_pairs(q_len, kv_len), unmasked) << q_len << " x " << kv_len;
    const Op op("attn", OpKind::Attention, AttentionShape{2, 3, 1, q_len, kv_len, 4, true, 0});
    ASSERT_EQ(op.macs(), 2 * 2 * 3 * unmasked * 4) << q_len << " x " << kv_len;
  }
}

TEST(Op, RejectsAShapeOfAnotherKindAndZeroSizes) {
  EXPECT_THROW(Op("x", OpKind::Linear, RowsShape{2, 2}), std::invalid_argument);
  EXPECT_THROW(Op("x", OpKind::KvCacheRead, RowsShape{2, 2}), std::invalid_argument);
  EXPECT_THROW(Op("x", OpKind::Softmax, RowsShape{2, 2}), std::invalid_argument);
  EXPECT_THROW(Op("x", OpKind::LayerNorm, RowsShape{0, 2}), std::invalid_argument);
  EXPECT_THROW(Op("x", OpKind::Linear, LinearShape{1, 0, 1}), std::invalid_argument);
  // b_shared_by must divide batch, and the cached part must fit in B.
  EXPECT_THROW(Op("x", OpKind::BatchedMatmul, BatchedMatmulShape{6, 1, 2, 2, 4, 0}),
               std::invalid_argument);
  EXPECT_THROW(Op("x", OpKind::BatchedMatmul, BatchedMatmulShape{6, 1, 2, 2, 2, 5}),
               std::invalid_argument);
  // KV heads must divide query heads, and the cached prefix must fit in kv_len.
  EXPECT_THROW(Op("x", OpKind::Attention, AttentionShape{1, 4, 3, 1, 2, 8, false, 0}),
               std::invalid_argument);
  EXPECT_THROW(Op("x", OpKind::Attention, AttentionShape{1, 4, 2, 1, 2, 8, false, 3}),
               std::invalid_argument);
  try {
    Op("attn.qkv_proj", OpKind::Linear, LinearShape{0, 1, 1});
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("attn.qkv_proj"), std::string::npos);
  }
}

TEST(Op, KindNamesAreDistinct) {
  EXPECT_EQ(kind_name(OpKind::Linear), "Linear");
  EXPECT_EQ(kind_name(OpKind::KvCacheAppend), "KvCacheAppend");
  EXPECT_EQ(kind_name(OpKind::Attention), "Attention");
  EXPECT_NE(kind_name(OpKind::LayerNorm), kind_name(OpKind::RmsNorm));
}

}  // namespace
}  // namespace tessel::workloads
