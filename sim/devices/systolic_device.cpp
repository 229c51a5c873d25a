#include "sim/devices/systolic_device.h"

#include <algorithm>
#include <string>
#include <utility>

#include "arch/energy.h"
#include "arch/power.h"
#include "arch/vector/vector_cost.h"
#include "mapper/cost_model.h"
#include "mapper/stream_plan.h"
#include "sim/engine.h"
#include "sim/simulation_limit.h"
#include "sim/stream_engine.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

mapper::MapResult pinned_mapping(const arch::SystolicSpec& spec, const ArrayOperands& operands,
                                 const RunSettings& settings) {
  mapper::GemmMapping mapping = *settings.pinned;
  mapping.dtype = *settings.dtype;
  mapping.weight_bytes = operands.weight_bytes;
  mapping.weight_density = operands.weight_density;
  mapping.input_bytes = operands.input_bytes;
  const workloads::Gemm& gemm = operands.gemm;
  const mapper::Extents extents{gemm.m, gemm.n, gemm.k};
  mapper::check_mapping(spec, extents, mapping, gemm.name);
  mapper::MapResult result;
  result.mapping = mapping;
  result.cost = mapper::analytic_cost(spec, extents, mapping);
  result.considered = 1;
  result.space = 1;
  return result;
}

// The objective measured on a simulated run, the same quantity the mapper estimated.
double simulated_objective(const arch::SystolicSpec& spec, const RunSettings& settings, const GemmRun& run) {
  const double cycles = static_cast<double>(run.total_cycles);
  const double energy = arch::energy_of(spec, *settings.dtype, run.activity).total_pj();
  switch (settings.objective) {
    case mapper::Objective::Latency: return cycles;
    case mapper::Objective::Energy: return energy;
    case mapper::Objective::EnergyDelay: return cycles * energy;
  }
  return cycles;
}

struct SimulatedGemm {
  GemmRun run;
  size_t confirmed = 0;      // mappings simulated to choose it
  uint64_t transactions = 0;  // their runs' tiles
};

// Simulates the mapper's best mappings (up to settings.confirm; runners-up too large to
// simulate are passed over) and keeps the best run; `map` ends up holding the mapping that ran.
// A runner-up that runs alike one simulated already (runs_alike) has its run known: it cannot
// beat the best, so it counts as confirmed without a simulation.
SimulatedGemm simulate_best(const arch::SystolicSpec& spec, const mapper::Extents& extents,
                            const RunSettings& settings, mapper::MapResult& map) {
  SimulatedGemm best{simulate_gemm(spec, extents, map.mapping), 1, map.cost.tiles};
  std::vector<mapper::GemmMapping> simulated{map.mapping};
  for (const mapper::RankedMapping& other : map.alternatives) {
    if (best.confirmed >= settings.confirm) break;
    if (other.cost.tiles > kMaxSimulatedTransactions) continue;
    ++best.confirmed;
    const auto alike = [&](const mapper::GemmMapping& ran) { return runs_alike(spec, extents, ran, other.mapping); };
    if (std::any_of(simulated.begin(), simulated.end(), alike)) continue;
    simulated.push_back(other.mapping);
    best.transactions += other.cost.tiles;
    GemmRun run = simulate_gemm(spec, extents, other.mapping);
    if (simulated_objective(spec, settings, run) < simulated_objective(spec, settings, best.run)) {
      best.run = std::move(run);
      map.mapping = other.mapping;
      map.cost = other.cost;
    }
  }
  return best;
}

// The stats a GEMM's mapping, memories and arrays add to its op's.
std::vector<StatGroup> gemm_details(const arch::SystolicSpec& spec, const mapper::MapResult& map,
                                    const SimulatedGemm& simulated) {
  const GemmRun& run = simulated.run;
  std::vector<StatGroup> groups;
  StatGroup& mapping = groups.emplace_back("mapping", "the mapper's choice");
  mapping.add("mapping", map.mapping.describe(), "dataflow, dtype, split, SRAM tile, loop order, buffering")
      .add("considered", map.considered, "count", "mappings the mapper costed")
      .add("analytic_cycles", map.cost.estimated_cycles, "cycles", "the tile-analytic estimate of this mapping")
      .add("analytic_gap",
           static_cast<double>(map.cost.estimated_cycles) / static_cast<double>(run.total_cycles) - 1.0, "ratio",
           "analytic estimate / simulated cycles - 1")
      .add("space", map.space, "count", "mappings in the mapspace")
      .add("exhaustive", uint64_t{map.exhaustive}, "count", "1 when the whole space was searched (with pruning)")
      .add("confirmed", uint64_t{simulated.confirmed}, "count", "best-ranked mappings simulated to choose this one");
  groups.emplace_back("dram", "off-chip memory")
      .add("busy_cycles", run.dram_busy_cycles, "cycles", "cycles the channel moved data")
      .add("read_bytes", run.activity.dram_read_bytes, "bytes", "bytes read")
      .add("write_bytes", run.activity.dram_write_bytes, "bytes", "bytes written");
  StatGroup& buffers = groups.emplace_back("buffers", "on-chip buffers, per core");
  for (const BufferStats& b : run.buffers) {
    buffers
        .child("core" + std::to_string(b.core) + "_" + b.name,
               "buffer " + b.name + " of core " + std::to_string(b.core))
        .add("read_bytes", b.read_bytes, "bytes", "bytes read by the arrays and the DMA")
        .add("write_bytes", b.write_bytes, "bytes", "bytes written by the arrays and the DMA");
  }
  StatGroup& arrays = groups.emplace_back("arrays", "systolic arrays, one slice of the GEMM each");
  for (size_t i = 0; i < run.arrays.size(); ++i) {
    const ArrayStats& a = run.arrays[i];
    const std::string shape = std::to_string(spec.array.rows) + "x" + std::to_string(spec.array.cols);
    arrays.child("array" + std::to_string(i), shape + " array")
        .add("compute_cycles", a.compute_cycles, "cycles", "fold cycles")
        .add("port_stall_cycles", a.port_stall_cycles, "cycles", "extra cycles the buffer ports needed")
        .add("finish_cycle", a.finish_cycle, "cycles", "when its last output reached DRAM")
        .add("tiles", a.tiles, "count", "SRAM tiles computed")
        .add("folds", a.folds, "count", "array folds computed")
        .add("macs", a.macs, "count", "useful multiply-accumulates");
  }
  return groups;
}

// The transactions of a streamed op's simulation: its chunks over every core.
uint64_t stream_chunks(const mapper::StreamPlan& plan) {
  return plan.units == 0 ? 0 : arch::ceil_div(plan.units, plan.units_per_chunk);
}

// Floors no simulation of a streamed op can beat: the MACs at every array's peak, the vector
// work spread evenly over the cores' vector units, the op's bytes at full DRAM bandwidth.
Roofline stream_roofline(const arch::SystolicSpec& spec, const mapper::StreamPlan& plan, arch::DType dtype) {
  double compute = static_cast<double>(plan.macs) / spec.peak_macs_per_cycle(dtype);
  if (plan.vector.elements > 0) {
    const double vector = static_cast<double>(arch::vector_cost(spec.vector_unit, plan.vector).cycles);
    compute = std::max(compute, vector / spec.cores);
  }
  const double bytes = static_cast<double>(plan.load_bytes + plan.store_bytes);
  return roofline_floors(compute, spec.dram.unlimited ? 0.0 : bytes / spec.dram.bytes_per_cycle);
}

}  // namespace

ArrayOperands array_operands(const arch::SystolicSpec& spec, const Op& op, arch::DType dtype) {
  const auto& s = op.shape_as<workloads::LinearShape>();
  ArrayOperands operands{{op.name, s.m, s.n, s.k}};
  operands.weight_bytes = op.weight_stored() ? op.weight_bytes_per_element(dtype) : 0.0;
  const std::optional<workloads::WeightSparsity>& sparsity = op.weight_sparsity;
  if (!sparsity) return operands;
  const bool native = sparsity->structured() && sparsity->keep == spec.array.sparse_keep &&
                      sparsity->group == spec.array.sparse_group;
  if (native) {
    // K % group == 0: apply_quant refuses a pattern that does not tile K.
    const double expansion = static_cast<double>(sparsity->group) / sparsity->keep;
    operands.gemm.k = s.k / sparsity->group * sparsity->keep;
    operands.weight_bytes *= expansion;
    operands.input_bytes = static_cast<double>(arch::bytes_of(dtype)) * expansion;
    return operands;
  }
  operands.weight_density = sparsity->kept();
  return operands;
}

Roofline systolic_gemm_roofline(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype,
                                double weight_bytes, double input_bytes) {
  const uint64_t bytes = mapper::compulsory_dram_bytes({gemm.m, gemm.n, gemm.k}, dtype, weight_bytes, input_bytes);
  const double compute = static_cast<double>(gemm.macs()) / spec.peak_macs_per_cycle(dtype);
  return roofline_floors(compute, spec.dram.unlimited ? 0.0 : static_cast<double>(bytes) / spec.dram.bytes_per_cycle);
}

SystolicDevice::SystolicDevice(arch::SystolicSpec spec) : spec_(std::move(spec)) { refresh_facts(); }

void SystolicDevice::refresh_facts() {
  mappings_ = std::make_unique<mapper::MappingCache>(spec_);
  facts_ = {};
  facts_.kind = "systolic";
  facts_.name = spec_.name;
  facts_.source_file = spec_.source_file;
  facts_.clock_hz = spec_.clock_hz;
  for (const arch::DTypeSpec& format : spec_.dtypes) {
    facts_.peaks.push_back({format.dtype, spec_.peak_macs_per_cycle(format.dtype)});
  }
  for (const arch::BufferSpec& buffer : spec_.buffers) {
    facts_.memories.push_back({buffer.name, "per core", buffer.capacity_bytes, buffer.read_bytes_per_cycle});
  }
  MemoryLevel dram{"dram", "device", std::nullopt, std::nullopt};
  if (spec_.dram.capacity_bytes > 0) dram.capacity_bytes = spec_.dram.capacity_bytes;
  if (!spec_.dram.unlimited) dram.bytes_per_cycle = spec_.dram.bytes_per_cycle;
  facts_.memories.push_back(dram);
  facts_.dataflow = std::string(arch::to_string(spec_.array.dataflow));
  facts_.area_mm2 = spec_.area_mm2();
  facts_.resources = spec_.resources;
  facts_.power = spec_.power;
}

RunSettings SystolicDevice::configure(RunSettings settings) {
  settings.dtype = resolve_dtype(facts_, settings.dtype, spec_.source_file + " does not list it under dtypes");
  if (settings.dataflow && *settings.dataflow != spec_.array.dataflow) {
    spec_.array.dataflow = *settings.dataflow;
    refresh_facts();
  }
  return settings;
}

OpResult SystolicDevice::run(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  OpResult result;
  switch (op.kind) {
    case OpKind::Linear:
      result = grouped_linear(op, facts_, settings,
                              [&](const Op& one, const RunSettings& product) { return run_linear(one, product); });
      break;
    case OpKind::KvCacheRead: result = kv_cache_read_by_attention(spec_.clock_hz); break;
    default: result = run_streamed(op, settings);
  }
  // The board's static power over the op's time, at the one clock the array runs at.
  if (spec_.power) result.energy.static_pj = arch::static_pj(*spec_.power, result.seconds());
  return result;
}

arch::EnergyBreakdown SystolicDevice::energy(const arch::Activity& activity, arch::DType dtype) const {
  return arch::energy_of(spec_, dtype, activity);
}

uint64_t SystolicDevice::transactions(const Op& op, const RunSettings& settings) {
  refuse_communication(op);
  switch (op.kind) {
    case OpKind::Linear: {
      // In the format run() multiplies it in, so that the mapping found here is the one it reuses.
      RunSettings product = settings;
      product.dtype = linear_format(op, facts_, settings);
      return linear_mapping(array_operands(spec_, op, *product.dtype), product).cost.tiles;
    }
    case OpKind::KvCacheRead: return 0;
    default: return stream_chunks(mapper::plan_stream(spec_, op, *settings.dtype, settings.search_dataflows));
  }
}

mapper::MapResult SystolicDevice::linear_mapping(const ArrayOperands& operands, const RunSettings& settings) {
  if (settings.pinned) return pinned_mapping(spec_, operands, settings);
  mapper::MapperOptions options;
  options.weight_bytes = operands.weight_bytes;
  options.weight_density = operands.weight_density;
  options.input_bytes = operands.input_bytes;
  options.dtype = *settings.dtype;
  options.objective = settings.objective;
  options.search_dataflows = settings.search_dataflows;
  options.alternatives = std::max<size_t>(options.alternatives, settings.confirm);
  return mappings_->map(operands.gemm, options);
}

OpResult SystolicDevice::run_linear(const Op& op, const RunSettings& settings) {
  const auto& s = op.shape_as<workloads::LinearShape>();
  const arch::DType dtype = *settings.dtype;
  const ArrayOperands operands = array_operands(spec_, op, dtype);
  const workloads::Gemm& gemm = operands.gemm;
  const double weight_bytes = operands.weight_bytes;
  mapper::MapResult map = linear_mapping(operands, settings);
  const SimulatedGemm simulated = simulate_best(spec_, {gemm.m, gemm.n, gemm.k}, settings, map);
  const GemmRun& run = simulated.run;

  OpResult result;
  result.cycles = run.total_cycles;
  result.clock_hz = spec_.clock_hz;
  result.array_busy_cycles = run.compute_cycles;
  result.dram_busy_cycles = run.dram_busy_cycles;
  result.roofline = systolic_gemm_roofline(spec_, gemm, dtype, weight_bytes, operands.input_bytes);
  result.activity = run.activity;
  const bool expands_zeros = op.weight_sparsity && !operands.compressed(op);
  if ((op.weight_storage && op.weight_storage->format != dtype) || expands_zeros) {
    // The array's edge unpacks every weight element it takes from the buffer and scales it (or
    // expands pruned ones into their places, unless the PEs take the pattern natively): two
    // operations each, charged as the vector unit's.
    const double elements = static_cast<double>(run.activity.buffer_read_bytes[static_cast<size_t>(
                                arch::Operand::Weight)]) /
                            weight_bytes;
    result.activity.vector_alu_ops += 2 * elements;
  }
  result.energy = arch::energy_of(spec_, dtype, result.activity);
  const double macs = static_cast<double>(gemm.macs());
  // The MACs the PEs performed: fewer than the GEMM's when they skip or gate a pruned weight's zeros.
  result.utilization = static_cast<double>(run.activity.macs) /
                       (static_cast<double>(run.total_cycles) * spec_.peak_macs_per_cycle(dtype));
  uint64_t pe_slots = 0;
  for (const ArrayStats& array : run.arrays) pe_slots += array.pe_slots;
  result.mapping_efficiency = macs / static_cast<double>(pe_slots);
  result.mapping = map.mapping.describe();
  result.details = gemm_details(spec_, map, simulated);
  result.transactions = simulated.transactions;
  // The check sums in the same order: each mapped K tile's kept values span tile.k · K / K_mapped of the dense K.
  result.numerics = check_linear(
      settings, {s.m, s.n, s.k, dtype, map.mapping.tile.k * s.k / gemm.k, settings.seed, op.weight_storage,
                 settings.unquantized_dtype, op.weight_sparsity});
  return result;
}

OpResult SystolicDevice::run_streamed(const Op& op, const RunSettings& settings) const {
  const arch::DType dtype = *settings.dtype;
  const mapper::StreamPlan plan = mapper::plan_stream(spec_, op, dtype, settings.search_dataflows);
  const StreamRun run = simulate_stream(spec_, plan);
  OpResult result;
  result.cycles = run.total_cycles;
  result.clock_hz = spec_.clock_hz;
  result.array_busy_cycles = run.array_cycles;
  result.vector_busy_cycles = run.vector_cycles;
  result.dram_busy_cycles = run.dram_busy_cycles;
  result.roofline = stream_roofline(spec_, plan, dtype);
  result.activity = run.activity;
  result.energy = arch::energy_of(spec_, dtype, run.activity);
  const double cycles = static_cast<double>(std::max<uint64_t>(run.total_cycles, 1));
  if (plan.macs > 0 && !plan.matrix_on_vector_unit) {
    result.utilization = static_cast<double>(plan.macs) / (cycles * spec_.peak_macs_per_cycle(dtype));
  } else if (plan.vector.elements > 0) {
    const uint64_t busy = arch::vector_cost(spec_.vector_unit, plan.vector).cycles;
    result.utilization = static_cast<double>(busy) / (cycles * spec_.cores);
  }
  result.mapping = "stream: " + std::to_string(plan.units) + " units over " + std::to_string(spec_.cores) +
                   " cores in chunks of " + std::to_string(plan.units_per_chunk) +
                   (plan.matrix_on_vector_unit ? "; products on the vector unit" : "");
  result.numerics = check_non_linear_op(op, settings);
  result.transactions = stream_chunks(plan);
  return result;
}

}  // namespace tessel::sim
