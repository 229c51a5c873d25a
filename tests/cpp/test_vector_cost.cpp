// The vector unit's cycle formula: which of ALU lanes, special-function units and buffer path
// binds, where a task tips into one more cycle, and what energy it charges.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "arch/vector/vector_cost.h"

namespace tessel::arch {
namespace {

// 8 lanes of 1 op a cycle, 2 special ops a cycle, 64 buffer bytes a cycle,
// 0.5 pJ an op, 2.5 pJ a special op.
VectorUnitSpec small_unit() { return {8, 1.0, 2.0, 64.0, 0.5, 2.5, 0.0}; }

// One ALU op an element, one pass over fp32 data, nothing written.
VectorTask alu_task(uint64_t elements) { return {elements, 1.0, 0.0, 1.0, 0, 4}; }

TEST(VectorCost, LanesElementsTakeOneCycleAndOneMoreTakesTwo) {
  VectorUnitSpec unit = small_unit();
  unit.buffer_bytes_per_cycle = 1e12;
  EXPECT_EQ(vector_cost(unit, alu_task(8)).cycles, 1u);
  EXPECT_EQ(vector_cost(unit, alu_task(9)).cycles, 2u);
  EXPECT_EQ(vector_cost(unit, alu_task(16)).cycles, 2u);
  EXPECT_STREQ(vector_cost(unit, alu_task(9)).bound, "alu");
}

TEST(VectorCost, OpsPerLaneAndOpsPerElementScaleTheAluTime) {
  VectorUnitSpec unit = small_unit();
  unit.ops_per_lane_per_cycle = 2.0;  // 16 ops a cycle
  unit.buffer_bytes_per_cycle = 1e12;
  EXPECT_EQ(vector_cost(unit, alu_task(16)).alu_cycles, 1u);
  EXPECT_EQ(vector_cost(unit, alu_task(17)).alu_cycles, 2u);
  VectorTask three_ops = alu_task(16);
  three_ops.alu_ops_per_element = 3.0;
  EXPECT_EQ(vector_cost(unit, three_ops).alu_cycles, 3u);
}

TEST(VectorCost, SpecialFunctionsBindWhenTheirUnitIsSlower) {
  VectorTask softmax_like{8, 1.0, 1.0, 1.0, 0, 4};  // 8 ALU ops, 8 exps, 32 bytes read
  const VectorCost cost = vector_cost(small_unit(), softmax_like);
  EXPECT_EQ(cost.alu_cycles, 1u);
  EXPECT_EQ(cost.special_cycles, 4u);  // 8 exps at 2 a cycle
  EXPECT_EQ(cost.buffer_cycles, 1u);
  EXPECT_EQ(cost.cycles, 4u);
  EXPECT_STREQ(cost.bound, "special");
}

TEST(VectorCost, BufferBindsOnReadsAndWritesTogether) {
  // 64 fp32 elements, two passes: 512 bytes read; 256 written; 768 / 64 = 12 cycles,
  // against 64 / 8 = 8 ALU cycles.
  const VectorTask task{64, 1.0, 0.0, 2.0, 256, 4};
  const VectorCost cost = vector_cost(small_unit(), task);
  EXPECT_EQ(cost.buffer_read_bytes, 512u);
  EXPECT_EQ(cost.buffer_write_bytes, 256u);
  EXPECT_EQ(cost.alu_cycles, 8u);
  EXPECT_EQ(cost.buffer_cycles, 12u);
  EXPECT_EQ(cost.cycles, 12u);
  EXPECT_STREQ(cost.bound, "buffer");
}

TEST(VectorCost, ExactTieGoesToTheAluAndOneMoreByteTipsIt) {
  // 512 bytes read at 64 a cycle: 8 cycles, as many as the ALU lanes need.
  VectorTask task{64, 1.0, 0.0, 2.0, 0, 4};
  const VectorCost tie = vector_cost(small_unit(), task);
  EXPECT_EQ(tie.cycles, 8u);
  EXPECT_STREQ(tie.bound, "alu");
  task.bytes_written = 1;
  const VectorCost over = vector_cost(small_unit(), task);
  EXPECT_EQ(over.cycles, 9u);
  EXPECT_STREQ(over.bound, "buffer");
}

TEST(VectorCost, FractionalPassesReadThatShareOfTheTensor) {
  const VectorTask task{10, 1.0, 0.0, 1.5, 0, 2};
  EXPECT_EQ(vector_cost(small_unit(), task).buffer_read_bytes, 30u);
}

TEST(VectorCost, EnergyIsOpsTimesTheirEnergiesWhateverTheBufferTraffic) {
  VectorTask task{10, 3.0, 0.5, 1.0, 0, 4};
  // 30 ops x 0.5 pJ + 5 special ops x 2.5 pJ.
  EXPECT_DOUBLE_EQ(vector_cost(small_unit(), task).energy_pj, 27.5);
  task.passes = 4.0;
  task.bytes_written = 1000;
  EXPECT_DOUBLE_EQ(vector_cost(small_unit(), task).energy_pj, 27.5);
}

TEST(VectorCost, WholeCyclesAreNotRoundedUpByFloatingNoise) {
  // 21 ops at 0.7 a cycle is 30 cycles; in doubles the quotient is 30.000000000000004.
  const VectorUnitSpec unit{1, 0.7, 1.0, 1e12, 0.0, 0.0, 0.0};
  ASSERT_GT(21.0 / 0.7, 30.0);
  EXPECT_EQ(vector_cost(unit, alu_task(21)).cycles, 30u);
}

TEST(VectorCost, EmptyTaskTakesNoCycles) {
  const VectorCost cost = vector_cost(small_unit(), alu_task(0));
  EXPECT_EQ(cost.cycles, 0u);
  EXPECT_EQ(cost.buffer_read_bytes, 0u);
  EXPECT_DOUBLE_EQ(cost.energy_pj, 0.0);
}

TEST(VectorCost, RejectsNegativeOrNonFiniteRatesAndZeroElementBytes) {
  VectorTask negative = alu_task(8);
  negative.alu_ops_per_element = -1.0;
  EXPECT_THROW(vector_cost(small_unit(), negative), std::invalid_argument);
  VectorTask not_a_number = alu_task(8);
  not_a_number.passes = std::nan("");
  EXPECT_THROW(vector_cost(small_unit(), not_a_number), std::invalid_argument);
  VectorTask infinite = alu_task(8);
  infinite.special_ops_per_element = std::numeric_limits<double>::infinity();
  EXPECT_THROW(vector_cost(small_unit(), infinite), std::invalid_argument);
  VectorTask no_bytes = alu_task(8);
  no_bytes.element_bytes = 0;
  EXPECT_THROW(vector_cost(small_unit(), no_bytes), std::invalid_argument);
}

}  // namespace
}  // namespace tessel::arch
