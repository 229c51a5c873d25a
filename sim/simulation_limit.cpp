#include "sim/simulation_limit.h"

#include "workloads/input_error.h"

namespace tessel::sim {

void check_simulation_size(const std::string& what, uint64_t transactions) {
  if (transactions <= kMaxSimulatedTransactions) return;
  throw workloads::InputError(what + ": its simulation would take " + std::to_string(transactions) +
                              " transactions, more than the " + std::to_string(kMaxSimulatedTransactions) +
                              " tessel simulates of one op (some seconds): give smaller sizes");
}

void check_run_size(uint64_t transactions, const std::string& at) {
  if (transactions <= kMaxRunTransactions) return;
  throw workloads::InputError("the run's simulations would pass " + std::to_string(kMaxRunTransactions) +
                              " transactions (a few minutes) at " + at + ": give fewer steps, sequences or tokens");
}

}  // namespace tessel::sim
