// SystemC allows one elaboration per kernel. Running many simulations in one process
// (tests, sweeps, Python) needs a fresh kernel for each: see fresh_kernel().
#pragma once

namespace tessel::sim {

// Replaces the current SystemC simulation context with a new one. Call it before building
// the modules of a run, after every module of the previous run has been destroyed.
// The first context is never deleted: SystemC 2.3.4's static events belong to it.
void fresh_kernel();

}  // namespace tessel::sim
