// The vector unit's SystemC module: tasks occupy it for their computed cycles in simulated
// time, and its counters add up over the tasks it ran.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include <systemc>

#include "arch/memory/sim_time.h"
#include "arch/vector/vector_unit.h"
#include "sim/sc_kernel.h"

namespace tessel::arch {
namespace {

// 16 lanes of 1 op a cycle, 4 special ops a cycle, 64 buffer bytes a cycle,
// 1 pJ an op, 4 pJ a special op.
const VectorUnitSpec kUnit{16, 1.0, 4.0, 64.0, 1.0, 4.0, 0.0};

// 100 elements x 2 ops / 16 a cycle = 12.5, so 13 ALU-bound cycles.
const VectorTask kAluBound{100, 2.0, 0.0, 1.0, 400, 2};
// 40 exps at 4 a cycle: 10 special-bound cycles.
const VectorTask kSpecialBound{40, 1.0, 1.0, 1.0, 160, 4};

// Runs its tasks one after another on a unit from one SC_THREAD, noting when each ends.
class Driver : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(Driver);
  Driver(const sc_core::sc_module_name& name, VectorUnit& unit, std::vector<VectorTask> tasks)
      : sc_core::sc_module(name), unit_(unit), tasks_(std::move(tasks)) {
    SC_THREAD(drive);
  }

  std::vector<VectorCost> costs;
  std::vector<uint64_t> finished_at;  // cycle at which each task ended

 private:
  void drive() {
    for (const VectorTask& task : tasks_) {
      costs.push_back(unit_.run(task));
      finished_at.push_back(time_to_cycles(sc_core::sc_time_stamp()));
    }
  }

  VectorUnit& unit_;
  std::vector<VectorTask> tasks_;
};

TEST(VectorUnit, TasksBackToBackTakeTheSumOfTheirCycles) {
  ASSERT_EQ(vector_cost(kUnit, kAluBound).cycles, 13u);
  ASSERT_EQ(vector_cost(kUnit, kSpecialBound).cycles, 10u);
  sim::fresh_kernel();
  VectorUnit unit("vector_unit", kUnit);
  Driver driver("driver", unit, {kAluBound, kSpecialBound});
  sim::run_kernel();

  EXPECT_EQ(driver.finished_at, (std::vector<uint64_t>{13, 23}));
  EXPECT_EQ(sc_core::sc_time_stamp().value(), 23 * kTicksPerCycle);
  ASSERT_EQ(driver.costs.size(), 2u);
  EXPECT_STREQ(driver.costs[0].bound, "alu");
  EXPECT_STREQ(driver.costs[1].bound, "special");
}

TEST(VectorUnit, CountersAddUpOverTasks) {
  sim::fresh_kernel();
  VectorUnit unit("vector_unit", kUnit);
  Driver driver("driver", unit, {kAluBound, kSpecialBound, kAluBound});
  sim::run_kernel();

  EXPECT_EQ(unit.tasks(), 3u);
  EXPECT_EQ(unit.busy_cycles(), 13u + 10u + 13u);
  EXPECT_EQ(unit.elements(), 100u + 40u + 100u);
  EXPECT_DOUBLE_EQ(unit.alu_ops(), 200.0 + 40.0 + 200.0);
  EXPECT_DOUBLE_EQ(unit.special_ops(), 40.0);
  EXPECT_EQ(unit.buffer_read_bytes(), 200u + 160u + 200u);
  EXPECT_EQ(unit.buffer_write_bytes(), 400u + 160u + 400u);
  // 440 ops x 1 pJ + 40 special ops x 4 pJ.
  EXPECT_DOUBLE_EQ(unit.energy_pj(), 440.0 + 160.0);
}

TEST(VectorUnit, UnitsOfTwoCoresRunAtTheSameTime) {
  sim::fresh_kernel();
  VectorUnit first("vector_unit_0", kUnit);
  VectorUnit second("vector_unit_1", kUnit);
  Driver first_driver("driver_0", first, {kAluBound});
  Driver second_driver("driver_1", second, {kSpecialBound});
  sim::run_kernel();

  EXPECT_EQ(first_driver.finished_at, (std::vector<uint64_t>{13}));
  EXPECT_EQ(second_driver.finished_at, (std::vector<uint64_t>{10}));
  EXPECT_EQ(sc_core::sc_time_stamp().value(), 13 * kTicksPerCycle);
}

}  // namespace
}  // namespace tessel::arch
