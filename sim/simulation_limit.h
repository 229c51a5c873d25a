// How much a run may simulate. A SystemC run of an op takes about a microsecond a transaction
// (a systolic array's tile, a streamed op's chunk, a GPU thread block's chunk, over every array,
// core or SM), so a GEMM of 10^18 MACs would run for hours; a run sizes each step's new ops
// from their mappings first and refuses, with the reason, what passes these limits before
// simulating it.
#pragma once

#include <cstdint>
#include <string>

namespace tessel::sim {

constexpr uint64_t kMaxSimulatedTransactions = uint64_t{1} << 24;  // one op: some seconds
constexpr uint64_t kMaxRunTransactions = uint64_t{1} << 28;        // every op of a run: a few minutes

// Throws workloads::InputError naming `what` and the limit when one op's `transactions` pass
// kMaxSimulatedTransactions.
void check_simulation_size(const std::string& what, uint64_t transactions);
// Throws workloads::InputError naming the step `at` when a run's transactions so far and the
// step's would pass kMaxRunTransactions together.
void check_run_size(uint64_t transactions, const std::string& at);

}  // namespace tessel::sim
