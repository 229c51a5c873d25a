// A server CPU: sockets of cores, each core with matrix engines (AMX tiles, AVX-512 FMA and
// dot-product units) whose rates differ per number format, a vector path for everything that
// is not a matrix product, private L1 and L2 caches, an L3 each socket shares, and DDR
// channels. Read from a `kind: cpu` file (arch/config_cpu.h); the time formulas live in
// arch/cpu/cpu_timing.h.
//
// Sockets multiply cores, L3, DDR and power: the model assumes a NUMA-aware runtime whose
// threads read their own socket's memory (as oneDNN with weights partitioned per socket).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/power.h"
#include "arch/types.h"

namespace tessel::arch {

struct CpuEngineRate {
  DType dtype;
  double macs_per_cycle_per_core;  // dense, at the core clock
  double mac_pj;  // one multiply-accumulate with its operands from L1 and L2, at the nominal clock
};

// One way a core multiplies matrices. Its instructions work on blocks of tile_m rows of A and
// tile_n columns of B over tile_k_bytes of K (AMX: 16 x 16 over 64 bytes; an AVX-512 FMA or
// dot product: one row, 16 lanes of 32 bits over 4 bytes), so a product pads to those blocks.
struct CpuMatrixEngine {
  std::string name;
  uint32_t tile_m;
  uint32_t tile_n;
  uint32_t tile_k_bytes;
  std::vector<CpuEngineRate> rates;  // in the file's order
  // Fraction of the peak a blocked GEMM's inner kernel sustains (loads, tile configuration,
  // loop overhead). Calibrated; see the config.
  double efficiency;

  // The rate of `dtype`, or nothing when the engine does not take it.
  const CpuEngineRate* rate(DType dtype) const;
  // Elements of K one instruction covers in `dtype`: at least one.
  uint32_t tile_k(DType dtype) const;
};

struct CpuEnergy {
  double fp32_op_pj;         // one vector-lane op (an FMA is two)
  double special_op_pj;      // one exp, rsqrt or tanh result
  double l3_pj_per_byte;     // L3 to a core's L2, across the mesh
  double dram_pj_per_byte;   // DDR, the memory controller and PHY
};

struct CpuSpec {
  std::string name;
  std::string source_file;
  double clock_hz;  // the all-core clock with every core busy; a power limit may lower it
  uint32_t sockets;
  uint32_t cores_per_socket;
  std::vector<CpuMatrixEngine> engines;  // the first engine's first format is the default
  double fp32_ops_per_cycle_per_core;    // vector lanes: an FMA counts as two
  double special_ops_per_cycle_per_core;  // vectorised exp, rsqrt, tanh results
  uint64_t l1d_bytes_per_core;
  uint64_t l2_bytes_per_core;
  double l2_bytes_per_cycle_per_core;
  uint64_t l3_bytes_per_socket;
  double l3_bytes_per_cycle_per_core;  // what one core pulls from the L3 with every core pulling
  uint32_t ddr_channels_per_socket;
  double ddr_bytes_per_second_per_socket;  // peak
  double ddr_achievable_fraction;          // of the peak all cores streaming sustain; calibrated
  double ddr_latency_ns;
  uint64_t ddr_capacity_bytes_per_socket = 0;  // 0: not stated
  // The fork and join of the parallel region each operator runs in (the runtime's threads
  // woken, its barrier at the end): a CPU's counterpart of a GPU's kernel launch.
  double parallel_overhead_s;
  CpuEnergy energy;
  std::optional<PowerSpec> power;  // every socket together

  uint32_t cores() const { return sockets * cores_per_socket; }
  uint64_t l3_bytes() const { return l3_bytes_per_socket * sockets; }
  double ddr_bytes_per_second() const { return ddr_bytes_per_second_per_socket * sockets; }
  uint64_t ddr_capacity_bytes() const { return ddr_capacity_bytes_per_socket * sockets; }
  double ddr_peak_bytes_per_cycle() const { return ddr_bytes_per_second() / clock_hz; }
  // The engine with the highest rate in `dtype` (the first of equals), or nullptr.
  const CpuMatrixEngine* fastest_engine(DType dtype) const;
  // Every core's fastest engine together; throws std::invalid_argument when none takes `dtype`.
  double peak_macs_per_cycle(DType dtype) const;
  // The formats some engine takes, the default first and each once.
  std::vector<DType> formats() const;
};

}  // namespace tessel::arch
