// SystemC allows one elaboration per kernel. Running many simulations in one process
// (tests, sweeps, Python) needs a fresh kernel for each: see fresh_kernel().
#pragma once

#include <systemc>

namespace tessel::sim {

// Replaces the current SystemC simulation context with a new one. Call it before building
// the modules of a run, after every module of the previous run has been destroyed.
// The first context is never deleted: SystemC 2.3.4's static events belong to it.
void fresh_kernel();

// sc_start() on the current kernel: until no event is left, or for `duration`. Every run goes
// through here so that the process is in a known state afterwards (see sc_kernel.cpp).
void run_kernel();
void run_kernel(const sc_core::sc_time& duration);

}  // namespace tessel::sim
