// The cycle-approximate view (fidelity level 3): instantiates the SystemC
// modules of an accelerator, runs one mapped GEMM as tile transactions and collects what
// every module counted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/energy.h"
#include "arch/spec.h"
#include "mapper/mapping.h"

namespace tessel::sim {

struct ArrayStats {
  uint64_t compute_cycles;     // cycles the array's folds take
  uint64_t port_stall_cycles;  // extra cycles waiting on buffer ports
  uint64_t finish_cycle;       // when its last output reached DRAM
  uint64_t tiles;
  uint64_t folds;
  uint64_t macs;
  uint64_t pe_slots;
};

struct BufferStats {
  std::string name;
  uint32_t core;
  uint64_t read_bytes;
  uint64_t write_bytes;
};

struct GemmRun {
  uint64_t total_cycles;    // the last array's finish
  uint64_t compute_cycles;  // the busiest array's fold cycles
  uint64_t stall_cycles;    // total - compute: waiting on DRAM or buffer ports
  double dram_busy_cycles;  // cycles the DRAM channel moved data
  arch::Activity activity;  // every array, buffer and DRAM byte
  std::vector<ArrayStats> arrays;
  std::vector<BufferStats> buffers;
};

// Runs in a fresh SystemC kernel, so it can be called any number of times in one process
// (but not from two threads at once: the kernel is process-global).
GemmRun simulate_gemm(const arch::SystolicSpec& spec, const mapper::Extents& gemm,
                      const mapper::GemmMapping& mapping);

// Whether simulate_gemm gives the two mappings the same run: both cut the GEMM alike and each
// array walks the same tile steps (mappings that differ only in where a loop of one trip sits,
// or in a residency that changes no block, do). Walks the tiles without simulating them.
bool runs_alike(const arch::SystolicSpec& spec, const mapper::Extents& gemm, const mapper::GemmMapping& a,
                const mapper::GemmMapping& b);

}  // namespace tessel::sim
