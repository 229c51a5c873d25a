// A GPU built from streaming multiprocessors (SMs): tensor cores and CUDA cores per SM, the
// register file and shared memory of an SM, an L2 shared by all SMs, and HBM. Read from a
// `kind: gpu` file (arch/config_gpu.h); the time formulas live in arch/gpu/gpu_timing.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/power.h"
#include "arch/types.h"

namespace tessel::arch {

struct TensorRate {
  DType dtype;
  double macs_per_cycle_per_sm;  // dense
  double mac_pj = 0;             // one multiply-accumulate in this format, at the nominal clock
};

// Energy of a GPU's actions at its nominal clock (a tensor-core MAC's is per format, in
// TensorRate); what an operator's activity costs is arch/gpu/gpu_energy.h's.
struct GpuEnergy {
  double fp32_op_pj;      // one CUDA-core op (an FMA is two)
  double special_op_pj;   // one special-function result
  double l2_pj_per_byte;  // L2 to an SM's shared memory
  double hbm_pj_per_byte;
};

// The links between the GPUs of one node (NVLink through NVSwitch: every GPU reaches every
// other at its full link bandwidth) and what a collective library makes of them.
struct NvlinkSpec {
  uint32_t gpus_per_node;      // GPUs the switch links all to all
  double bytes_per_second;     // one GPU's links together, each direction
  double achievable_fraction;  // of that, in a large collective's steady state; calibrated
  double collective_latency_s; // a collective's fixed cost: launch and the ranks' handshake; calibrated
  double step_latency_s;       // each step of a ring; calibrated
  std::optional<double> energy_pj_per_byte;  // a byte from one GPU to another; not stated: nothing
  bool in_switch_reduction = false;          // the NVSwitches sum what the GPUs send (NVLink SHARP)
};

struct GpuSpec {
  std::string name;
  std::string source_file;
  double clock_hz;
  uint32_t sms;
  std::vector<TensorRate> tensor;  // in the file's order; the first is the default format
  // Fraction of the tensor cores' peak a well-fed main loop sustains (issue slots spent on
  // address arithmetic, barriers and shared-memory loads). Calibrated; see the config.
  double tensor_efficiency;
  // The same for fused attention's two products, which head_dim-deep MMAs and the online
  // softmax's rescaling of the accumulator keep further from the peak. Calibrated.
  double attention_efficiency;
  // Sparse tensor cores: a weight pruned 2 of every 4 along K multiplies its kept half at the
  // dense rate, skipping the zeros (Ampere's and Hopper's sparse MMA), with a main loop that
  // sustains sparse_efficiency of that rate (the metadata and the dense operand's delivery keep
  // it below the dense loop's). Calibrated.
  bool sparse_2_4 = false;
  double sparse_efficiency = 0;
  double fp32_ops_per_cycle_per_sm;     // CUDA cores: an FMA counts as two
  double special_ops_per_cycle_per_sm;  // special-function units: exp, rsqrt, tanh
  uint64_t register_file_bytes_per_sm;
  uint64_t shared_memory_bytes_per_sm;  // the most one SM gives its thread blocks
  double shared_memory_bytes_per_cycle_per_sm;
  uint32_t max_threads_per_sm;
  uint64_t l2_bytes;
  double l2_bytes_per_cycle;  // all slices together
  double hbm_bytes_per_second;
  double hbm_latency_ns;
  double hbm_achievable_fraction;  // of the peak a streaming kernel sustains; calibrated
  uint64_t hbm_capacity_bytes = 0;  // 0: not stated
  double launch_overhead_s;        // from one kernel's launch to the next one's start; calibrated
  GpuEnergy energy;
  std::optional<PowerSpec> power;    // absent: no static power, no limit on the clock
  std::optional<NvlinkSpec> nvlink;  // absent: a single GPU, no collectives

  // The rate of `dtype`, or nothing when the tensor cores do not take it.
  std::optional<double> tensor_macs_per_cycle_per_sm(DType dtype) const;
  // Every SM's tensor cores together, dense; throws std::invalid_argument when they do not
  // take `dtype`.
  double peak_macs_per_cycle(DType dtype) const;
  // Energy of one tensor-core MAC in `dtype` at the nominal clock; throws like peak_macs_per_cycle.
  double tensor_mac_pj(DType dtype) const;
  double hbm_peak_bytes_per_cycle() const { return hbm_bytes_per_second / clock_hz; }
  DType default_dtype() const { return tensor.front().dtype; }
};

}  // namespace tessel::arch
