// The streamed operators: how a plan splits an op, and what the SystemC run of it costs.
#include <gtest/gtest.h>

#include <random>

#include "arch/vector/vector_cost.h"
#include "sim/stream_engine.h"
#include "mapper/stream_plan.h"
#include "test_specs.h"

namespace tessel::sim {
namespace {

using workloads::Op;
using workloads::OpKind;

arch::SystolicSpec two_core_spec(double dram_bytes_per_cycle) {
  arch::SystolicSpec spec = testing::finite_dram(
      testing::ideal_array(16, 16, arch::Dataflow::WeightStationary, true), dram_bytes_per_cycle, 100);
  spec.cores = 2;
  spec.arrays_per_core = 2;
  for (arch::BufferSpec& buffer : spec.buffers) buffer.capacity_bytes = uint64_t{1} << 20;
  return spec;
}

std::vector<Op> sample_ops(uint64_t seed) {
  std::mt19937_64 engine(seed);
  const auto size = [&](uint64_t low, uint64_t high) {
    return std::uniform_int_distribution<uint64_t>(low, high)(engine);
  };
  const uint64_t heads = size(1, 4) * 2;
  return {
      Op("norm", OpKind::RmsNorm, workloads::RowsShape{size(1, 3000), size(1, 700)}),
      Op("silu", OpKind::SiluMul, workloads::RowsShape{size(1, 3000), size(1, 700)}),
      Op("softmax", OpKind::Softmax, workloads::SoftmaxShape{size(1, 900), size(1, 900), false}),
      Op("rope", OpKind::Rope, workloads::RopeShape{size(1, 500), heads, 2 * size(1, 64)}),
      Op("kv", OpKind::KvCacheAppend, workloads::KvCacheShape{size(1, 4), size(1, 3000), 2, 64}),
      Op("bmm", OpKind::BatchedMatmul, workloads::BatchedMatmulShape{heads * 3, size(1, 300), size(1, 300),
                                                                     size(1, 300), heads, 0}),
      Op("attn", OpKind::Attention, workloads::AttentionShape{size(1, 3), heads, heads / 2, 64, 64 + size(0, 500),
                                                             64, true, 0}),
  };
}

// Any split of the units into chunks adds up to the op: no byte, MAC or element is lost or
// counted twice by the cumulative rounding.
TEST(StreamPlan, ChunksOfAnyPartitionAddUpToTheOp) {
  const arch::SystolicSpec spec = two_core_spec(64);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    for (const Op& op : sample_ops(seed)) {
      const mapper::StreamPlan plan = mapper::plan_stream(spec, op, arch::DType::Bf16, false);
      std::mt19937_64 engine(seed);
      uint64_t load = 0, store = 0, macs = 0, elements = 0, written = 0;
      for (uint64_t first = 0; first < plan.units;) {
        const uint64_t count = std::uniform_int_distribution<uint64_t>(1, plan.units - first)(engine);
        const mapper::StreamChunk c = plan.chunk(first, count);
        load += c.load_bytes;
        store += c.store_bytes;
        macs += c.macs;
        elements += c.vector.elements;
        written += c.vector.bytes_written;
        first += count;
      }
      EXPECT_EQ(load, plan.load_bytes) << op.name;
      EXPECT_EQ(store, plan.store_bytes) << op.name;
      EXPECT_EQ(macs, op.macs()) << op.name;
      EXPECT_EQ(elements, plan.vector.elements) << op.name;
      EXPECT_EQ(written, plan.vector.bytes_written) << op.name;
      EXPECT_EQ(plan.load_bytes, op.elements().read * 2) << op.name;
      EXPECT_EQ(plan.store_bytes, op.elements().written * 2) << op.name;
    }
  }
}

TEST(StreamPlan, CoresShareTheUnitsEvenly) {
  const Op op("norm", OpKind::RmsNorm, workloads::RowsShape{7, 64});
  const mapper::StreamPlan plan = mapper::plan_stream(two_core_spec(64), op, arch::DType::Bf16, false);
  EXPECT_EQ(plan.core_first_unit(0, 2), 0u);
  EXPECT_EQ(plan.core_units(0, 2) + plan.core_units(1, 2), 7u);
  EXPECT_EQ(plan.core_first_unit(1, 2), plan.core_units(0, 2));
  EXPECT_LE(plan.core_units(1, 2) - plan.core_units(0, 2) + 1, 2u);
}

TEST(StreamPlan, LinearIsRejected) {
  const Op op("fc", OpKind::Linear, workloads::LinearShape{4, 4, 4});
  EXPECT_THROW(mapper::plan_stream(two_core_spec(64), op, arch::DType::Bf16, false), std::invalid_argument);
}

// Grouped-query heads that share a K/V head run as one product with their rows stacked, so
// the array streams the group's queries through one load of K.
TEST(StreamPlan, GroupedHeadsShareOneProduct) {
  const arch::SystolicSpec spec = two_core_spec(64);
  const Op grouped("s", OpKind::BatchedMatmul, workloads::BatchedMatmulShape{8, 1, 512, 64, 8, 0});
  const Op separate("s", OpKind::BatchedMatmul, workloads::BatchedMatmulShape{8, 1, 512, 64, 1, 0});
  const mapper::StreamPlan g = mapper::plan_stream(spec, grouped, arch::DType::Bf16, false);
  const mapper::StreamPlan s = mapper::plan_stream(spec, separate, arch::DType::Bf16, false);
  EXPECT_EQ(g.units, 1u);  // one K block of 512 columns
  EXPECT_EQ(s.units, 8u);
  EXPECT_LT(g.unit_array_cycles * g.units, s.unit_array_cycles * s.units);
}

// A large copy streams at the DRAM's bandwidth: the chunks pipeline, so the latency and the
// first load are paid once. 1% covers that latency and the last chunk's store.
TEST(StreamEngine, LargeCopyRunsAtDramBandwidth) {
  const arch::SystolicSpec spec = two_core_spec(64);
  const Op op("kv", OpKind::KvCacheAppend, workloads::KvCacheShape{1, 4096, 8, 64});
  const mapper::StreamPlan plan = mapper::plan_stream(spec, op, arch::DType::Bf16, false);
  const StreamRun run = simulate_stream(spec, plan);
  const double floor = static_cast<double>(plan.load_bytes + plan.store_bytes) / 64.0;
  EXPECT_EQ(run.activity.dram_read_bytes, plan.load_bytes);
  EXPECT_EQ(run.activity.dram_write_bytes, plan.store_bytes);
  EXPECT_GE(static_cast<double>(run.total_cycles), floor);
  EXPECT_LE(static_cast<double>(run.total_cycles), floor * 1.01);
  EXPECT_GT(run.chunks, 2u);
}

// Decode attention streams its K/V from the cache itself, overlapping the reads with its
// compute: it loads exactly the cache plus its query, and takes about the longer of the two.
// 12.5%: a core streams 8 key blocks, and only the first block's load and the last one's
// compute stand outside the overlap.
TEST(StreamEngine, AttentionReadsItsCacheWhileComputing) {
  const arch::SystolicSpec spec = two_core_spec(64);
  const Op op("attn", OpKind::Attention, workloads::AttentionShape{1, 8, 2, 1, 4096, 64, true, 4095});
  const mapper::StreamPlan plan = mapper::plan_stream(spec, op, arch::DType::Bf16, false);
  const uint64_t cache = 2 * 4095 * 64 * 2;  // kv_heads × cached × head_dim × (K and V)
  EXPECT_EQ(plan.load_bytes, (op.elements().read + cache) * 2);
  const StreamRun run = simulate_stream(spec, plan);
  const double memory = static_cast<double>(plan.load_bytes + plan.store_bytes) / 64.0;
  EXPECT_LE(static_cast<double>(run.total_cycles), 1.125 * std::max(memory, static_cast<double>(run.array_cycles)));
  EXPECT_GE(static_cast<double>(run.total_cycles), memory);
  const Op read("kv", OpKind::KvCacheRead, workloads::KvCacheShape{1, 4095, 2, 64});
  EXPECT_THROW(mapper::plan_stream(spec, read, arch::DType::Bf16, false), std::invalid_argument);
}

// With a DRAM far faster than the vector units, a vector op takes its vector work split over
// the cores; 2% covers the first load and last store around it.
TEST(StreamEngine, VectorBoundOpRunsAtTheVectorUnitsRate) {
  const arch::SystolicSpec spec = two_core_spec(1e6);
  const Op op("gelu", OpKind::Gelu, workloads::RowsShape{512, 1024});
  const mapper::StreamPlan plan = mapper::plan_stream(spec, op, arch::DType::Bf16, false);
  const StreamRun run = simulate_stream(spec, plan);
  const double vector = static_cast<double>(arch::vector_cost(spec.vector_unit, plan.vector).cycles) / 2.0;
  EXPECT_GE(static_cast<double>(run.total_cycles), vector);
  EXPECT_LE(static_cast<double>(run.total_cycles), vector * 1.02);
  EXPECT_DOUBLE_EQ(run.activity.vector_special_ops, 512.0 * 1024.0);  // one tanh an element
}

// One query row per head (decode) leaves a systolic array loading stationary blocks for a
// single streamed row: the vector unit does those products faster, and the plan says so. A
// prefill's products stay on the arrays.
TEST(StreamPlan, SingleRowProductsMoveToTheVectorUnit) {
  arch::SystolicSpec spec = two_core_spec(64);
  spec.vector_unit.lanes = 256;
  const Op decode("attn", OpKind::Attention, workloads::AttentionShape{4, 8, 8, 1, 1024, 64, true, 1023});
  const Op prefill("attn", OpKind::Attention, workloads::AttentionShape{1, 8, 8, 256, 256, 64, true, 0});
  const mapper::StreamPlan d = mapper::plan_stream(spec, decode, arch::DType::Bf16, false);
  const mapper::StreamPlan p = mapper::plan_stream(spec, prefill, arch::DType::Bf16, false);
  EXPECT_TRUE(d.matrix_on_vector_unit);
  EXPECT_EQ(d.unit_array_cycles, 0u);
  EXPECT_GE(d.vector.alu_ops_per_element * static_cast<double>(d.vector.elements), 2.0 * static_cast<double>(decode.macs()));
  EXPECT_FALSE(p.matrix_on_vector_unit);
  EXPECT_GT(p.unit_array_cycles, 0u);
  const StreamRun run = simulate_stream(spec, d);
  EXPECT_EQ(run.activity.macs, 0u) << "the arrays did none of them";
  EXPECT_GE(run.activity.vector_alu_ops, 2.0 * static_cast<double>(decode.macs()));
}

// Matrix work: a chunk's units run on the core's arrays side by side.
TEST(StreamEngine, BatchedMatmulUsesEveryArray) {
  const arch::SystolicSpec spec = two_core_spec(1e6);
  const Op op("bmm", OpKind::BatchedMatmul, workloads::BatchedMatmulShape{4, 64, 64, 64, 1, 0});
  const mapper::StreamPlan plan = mapper::plan_stream(spec, op, arch::DType::Bf16, false);
  const StreamRun run = simulate_stream(spec, plan);
  EXPECT_EQ(plan.units, 4u);
  EXPECT_EQ(run.array_cycles, plan.unit_array_cycles);  // 2 units a core, one per array
  EXPECT_LT(plan.unit_split_array_cycles, plan.unit_array_cycles);
  EXPECT_EQ(run.activity.macs, op.macs());
}

}  // namespace
}  // namespace tessel::sim
