// The one interface every kind of hardware implements (README, "Architecture"): its facts
// (peaks per format, memory levels and capacities, clock) and the result of running one
// operator. The drivers, the system timeline and the report writer know only this interface;
// a new kind is one implementation (sim/devices/) plus its config reader (arch/load_arch.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/arch_spec.h"
#include "arch/energy.h"
#include "arch/power.h"
#include "arch/link/collective_cost.h"
#include "mapper/mapping.h"
#include "mapper/systolic_mapper.h"
#include "sim/numerics/gemm_check.h"
#include "sim/roofline.h"
#include "sim/stats.h"
#include "workloads/gemm.h"
#include "workloads/op.h"

namespace tessel::sim {

enum class CheckMode { Auto, Always, Never };

// How a run's operators are to be run: the choices a user makes once for a whole run. Each
// name is the `tessel run` flag that sets it.
struct RunSettings {
  std::optional<arch::DType> dtype;        // --dtype; the device's first format when not given
  std::optional<arch::Dataflow> dataflow;  // --dataflow os|ws|is: override a systolic array's
  bool search_dataflows = false;           // --dataflow any: the mapper picks one per layer
  mapper::Objective objective = mapper::Objective::Latency;  // --objective
  std::optional<mapper::GemmMapping> pinned;                 // --mapping: one mapping for every GEMM
  // --confirm: the mapper's best this many mappings are simulated and the fastest kept; the
  // analytic ranking cannot see every stall of memory shared by several arrays or SMs.
  size_t confirm = 3;
  CheckMode check = CheckMode::Auto;  // --check / --no-check
  // Auto checks GEMMs within both limits: MACs bound the product's cost, elements of A, B and
  // C the cost of drawing operands and the memory.
  uint64_t check_limit_macs = default_check_limit_macs();
  uint64_t check_limit_elements = default_check_limit_elements();
  uint64_t seed = 1;  // --seed: of the numerics check's random operands
  // --decode-stride: a generate run simulates the decode steps whose cache length is a
  // multiple of this (and its first and last step) and interpolates those between; 1
  // simulates every step.
  uint64_t decode_stride = 64;
  // Set by grouped_linear for a linear that multiplies in a format of its own: the run's, which
  // a quantized linear's numerics check measures its scheme against.
  std::optional<arch::DType> unquantized_dtype;
};

// A setting this kind of hardware cannot honour; what() reads like a flag error:
// "--dataflow: a GPU has no dataflow to choose".
class SettingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A memory of the device: on-chip levels first, main memory (DRAM, HBM) last.
struct MemoryLevel {
  std::string name;
  std::string scope;                      // "per core", "per SM", "device"
  std::optional<uint64_t> capacity_bytes;  // not stated: nothing
  std::optional<double> bytes_per_cycle;   // read bandwidth; unlimited: nothing
};

struct FormatPeak {
  arch::DType dtype;
  double macs_per_cycle;  // the whole device
};

// What every kind of hardware states about itself.
struct DeviceFacts {
  std::string kind;  // "systolic" (FPGA designs included), "gpu", "cpu"
  std::string name;
  std::string source_file;
  double clock_hz = 0;
  std::vector<FormatPeak> peaks;  // the first is the default format
  std::vector<MemoryLevel> memories;
  std::optional<std::string> dataflow;       // a systolic array's
  std::optional<double> area_mm2;            // where the architecture states one
  std::vector<arch::ResourceUse> resources;  // what an FPGA design takes of its device
  std::optional<arch::PowerSpec> power;      // where the architecture states it
  // The gap from one kernel's launch to the next that each op's time includes (a GPU's launch
  // overhead); nothing for devices that launch no kernels.
  std::optional<double> launch_gap_s;

  // Multiply-accumulates a cycle in `dtype`; throws std::invalid_argument when not supported.
  double peak_macs_per_cycle(arch::DType dtype) const;
  bool supports(arch::DType dtype) const;
  const MemoryLevel& main_memory() const { return memories.back(); }
  // Peak main-memory bytes a cycle; nothing when unlimited.
  std::optional<double> dram_bytes_per_cycle() const { return main_memory().bytes_per_cycle; }
  std::optional<uint64_t> dram_capacity_bytes() const { return main_memory().capacity_bytes; }
};

// What running one operator cost: the figures of ONE execution, as the device counted them.
struct OpResult {
  // The op, filled in by the driver that ran it.
  std::string name;
  workloads::OpKind kind{};
  std::string shape;
  uint64_t repeats = 1;  // executions in the step: a layer's ops run once per layer
  bool in_layer = false;
  uint64_t flops = 0;
  uint64_t macs = 0;

  // Time: whole cycles of the device's clock, and that clock.
  uint64_t cycles = 0;
  double clock_hz = 0;
  // The clock the device's cores ran the op at: below clock_hz when its power limit held it back.
  double core_clock_hz = 0;
  double core_hz() const { return core_clock_hz > 0 ? core_clock_hz : clock_hz; }
  double seconds() const { return static_cast<double>(cycles) / clock_hz; }
  double power_w() const { return cycles > 0 ? energy.total_pj() * 1e-12 / seconds() : 0.0; }

  Roofline roofline{};
  // Busy fraction of what does the op's arithmetic: arrays or tensor cores for matrix
  // products, else the vector units or CUDA cores; 0 for pure data movement.
  double utilization = 0;
  double dram_utilization = 0;  // DRAM bytes / (cycles × peak bandwidth)
  // A linear's MACs / the MAC slots its tiles offer (what padding wastes); 0 for other ops.
  double mapping_efficiency = 0;
  // What kept the op busy: the busiest array (or core's arrays, or SM's tensor cores), the
  // busiest vector unit, the DRAM channel.
  uint64_t array_busy_cycles = 0;
  uint64_t vector_busy_cycles = 0;
  double dram_busy_cycles = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
  std::string mapping;  // the mapping chosen, or how the op streamed
  // The device's own figures of the op (a mapper's search, per-array and per-buffer counts),
  // for stats.json.
  std::vector<StatGroup> details;
  // A collective or send: the phases it occupies the links for (the system timeline runs them).
  std::optional<arch::CollectiveCost> communication;
  // Filled in by the driver: the stream (group, index) an overlapped collective runs on beside
  // the device's compute, or a WaitComm waits for (all but its wait_keep latest).
  std::optional<std::pair<workloads::CollectiveGroup, uint32_t>> stream;
  uint64_t wait_keep = 0;
  NumericsReport numerics;
  bool reused = false;  // an identical op ran before: its result was reused
  uint64_t transactions = 0;  // what its SystemC runs simulated (simulation_limit.h)

  // Cycles beyond the busiest array's: waiting on memory or ports.
  uint64_t stall_cycles() const { return cycles - std::min(cycles, array_busy_cycles); }
};

class Device {
 public:
  virtual ~Device() = default;

  virtual const DeviceFacts& facts() const = 0;

  // Takes the run's settings before any op runs: throws SettingError for what this kind of
  // hardware cannot honour, applies what changes the device itself (a dataflow override), and
  // returns the settings with the format resolved.
  virtual RunSettings configure(RunSettings settings) = 0;

  // Runs one operator (mapped, simulated, costed and, per settings.check, checked). Operators
  // that move data between devices (collectives, sends) are the system's: a device refuses them.
  virtual OpResult run(const workloads::Op& op, const RunSettings& settings) = 0;

  // The transactions run(op) would simulate with the op's best mapping or plan
  // (simulation_limit.h), found without simulating: what lets a run refuse an op too large to
  // simulate before any starts.
  virtual uint64_t transactions(const workloads::Op& op, const RunSettings& settings) = 0;

  // What the device's energy table charges for `activity` in `dtype` (the memory traffic of a
  // collective the links run, say).
  virtual arch::EnergyBreakdown energy(const arch::Activity& activity, arch::DType dtype) const = 0;

  // `tessel describe`: the device's derived figures.
  virtual void describe(std::ostream& out) const = 0;

  // `tessel map`: the mapper's choice for one GEMM, its cost and `top` runners-up, as text,
  // and the same as JSON.
  struct MappingReport {
    std::string text;
    nlohmann::json json;
  };
  virtual MappingReport explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings, size_t top,
                                        uint64_t seed) = 0;
};

// The implementation of the spec's kind.
std::unique_ptr<Device> make_device(const arch::ArchSpec& spec);

// The format asked for, or the device's first when none was; throws SettingError
// "--dtype X: <why_not>" when the device lacks it.
arch::DType resolve_dtype(const DeviceFacts& facts, std::optional<arch::DType> requested, const std::string& why_not);

// Refuses, naming the flag, the choices only a systolic array's mapper makes (a dataflow, an
// objective other than latency, a pinned mapping): `device` names the kind ("a GPU") and
// `gemms` how its GEMMs are mapped instead ("mapped to thread blocks").
void refuse_array_mapping_choices(const RunSettings& settings, const std::string& device, const std::string& gemms);

// The format a linear multiplies in: its own (fp8 training's products, a recipe's int8 or int4)
// or the run's; throws SettingError when the device has no rate for it.
arch::DType linear_format(const workloads::Op& op, const DeviceFacts& facts, const RunSettings& settings);

// A linear of several groups (a device's experts) as its kernels run, one group after another:
// `run_one` costs one group in the settings given, and the op costs that many times it. A
// linear with a format of its own (fp8 training's products) runs in it; throws SettingError
// when the device has no rate for it.
OpResult grouped_linear(const workloads::Op& op, const DeviceFacts& facts, const RunSettings& settings,
                        const std::function<OpResult(const workloads::Op&, const RunSettings&)>& run_one);

// Throws std::invalid_argument for an op that moves data between devices: the system's links
// run those.
void refuse_communication(const workloads::Op& op);

// A GEMM's numerics check per settings.check: the whole for Always; for Auto the whole within
// both limits, and a larger one on its largest block of rows and columns over the whole of K
// within them (gemm_check_block), which the report names; none for Never.
NumericsReport check_linear(const RunSettings& settings, const GemmCheckRequest& gemm);

// The numerics check of an op other than a Linear per settings.check (op_check's limits for
// Auto, no limits for Always); not checked for Never.
NumericsReport check_non_linear_op(const workloads::Op& op, const RunSettings& settings);

// The KvCacheRead op's result on every device: the attention kernels that follow read the
// cache themselves, overlapped with their compute, so it takes no time and moves no bytes of
// its own (they are counted in the attention rows).
OpResult kv_cache_read_by_attention(double clock_hz);

// DRAM bytes / (cycles × peak bandwidth); 0 when unlimited or no cycles.
double dram_utilization(const DeviceFacts& facts, const arch::Activity& activity, uint64_t cycles);

}  // namespace tessel::sim
