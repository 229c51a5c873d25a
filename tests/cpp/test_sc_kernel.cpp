// fresh_kernel: many elaborations and simulations in one process.
#include <gtest/gtest.h>

#include <cstdint>

#include <systemc>

#include "sim/sc_kernel.h"

namespace tessel::sim {
namespace {

// A clocked counter: the pieces a real model uses (clock, method, signal).
class EdgeCounter : public sc_core::sc_module {
 public:
  sc_core::sc_signal<int> count{"count"};

  SC_HAS_PROCESS(EdgeCounter);
  explicit EdgeCounter(sc_core::sc_module_name name)
      : sc_module(name), clock_("clock", sc_core::sc_time(1.0, sc_core::SC_NS)) {
    SC_METHOD(on_rising_edge);
    sensitive << clock_.posedge_event();
    dont_initialize();
  }

 private:
  void on_rising_edge() { count.write(count.read() + 1); }

  sc_core::sc_clock clock_;
};

struct RunResult {
  int count;
  uint64_t end_time_ps;
};

RunResult run_counter() {
  fresh_kernel();
  EdgeCounter counter("counter");
  run_kernel(sc_core::sc_time(25.0, sc_core::SC_NS));
  return {counter.count.read(), sc_core::sc_time_stamp().value()};
}

TEST(Kernel, FreshKernelRunsTheSameModuleTwoThousandTimesAlike) {
  const RunResult first = run_counter();
  EXPECT_EQ(first.count, 25);  // rising edges at 0, 1, ..., 24 ns
  EXPECT_EQ(first.end_time_ps, 25'000u);
  for (int run = 1; run < 2000; ++run) {
    const RunResult again = run_counter();
    ASSERT_EQ(again.count, first.count) << "run " << run;
    ASSERT_EQ(again.end_time_ps, first.end_time_ps) << "run " << run;
  }
}

}  // namespace
}  // namespace tessel::sim
