#include "mapper/cost_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "arch/systolic/tile_work.h"

namespace tessel::mapper {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Tiles along one dimension fall into at most three classes that cost the same: the first
// (which for K starts the sums), the full ones after it, and a smaller edge tile.
struct TileClass {
  uint64_t size;
  uint64_t count;
  bool first;
};

std::vector<TileClass> tile_classes(uint64_t extent, uint64_t tile) {
  const uint64_t tiles = ceil_div(extent, tile);
  const uint64_t edge = extent - (tiles - 1) * tile;
  std::vector<TileClass> classes{{std::min(tile, extent), 1, true}};
  if (tiles >= 2) {
    if (tiles > 2) classes.push_back({tile, tiles - 2, false});
    classes.push_back({edge, 1, false});
  }
  return classes;
}

// The innermost loop that iterates more than once; an operand that does not depend on it
// stays in its buffer while it runs.
Dim innermost_iterating(const LoopOrder& order, const Extents& counts) {
  for (auto loop = order.rbegin(); loop != order.rend(); ++loop) {
    if (counts.along(*loop) > 1) return *loop;
  }
  return order.back();
}

struct SliceCost {
  uint64_t compute_cycles = 0;
  uint64_t port_cycles = 0;
  uint64_t tiles = 0;
  uint64_t folds = 0;
  uint64_t pe_slots = 0;
  uint64_t first_load_bytes = 0;
  uint64_t last_store_bytes = 0;
  arch::Activity activity;
};

SliceCost slice_cost(const arch::SystolicSpec& spec, const Extents& slice,
                     const GemmMapping& mapping) {
  SliceCost cost;
  if (slice.m == 0 || slice.n == 0 || slice.k == 0) return cost;
  const double rate = spec.find_dtype(mapping.dtype)->macs_per_pe_per_cycle;
  const uint32_t operand_bytes = arch::bytes_of(mapping.dtype);
  const uint32_t output_bytes = final_output_bytes(mapping.dtype);

  for (const TileClass& m : tile_classes(slice.m, mapping.tile.m)) {
    for (const TileClass& n : tile_classes(slice.n, mapping.tile.n)) {
      for (const TileClass& k : tile_classes(slice.k, mapping.tile.k)) {
        const uint64_t count = m.count * n.count * k.count;
        const arch::TileWork work =
            arch::tile_work(spec.array, rate, operand_bytes, m.size, n.size, k.size, !k.first);
        const uint64_t ports = arch::buffer_port_cycles(spec, work.accesses);
        cost.compute_cycles += count * work.compute_cycles;
        cost.port_cycles += count * std::max(work.compute_cycles, ports);
        cost.tiles += count;
        cost.folds += count * work.folds;
        cost.pe_slots += count * work.pe_slots;
        auto& reads = cost.activity.buffer_read_bytes;
        reads[0] += count * work.accesses.input_read;
        reads[1] += count * work.accesses.weight_read;
        reads[2] += count * work.accesses.output_read;
        cost.activity.buffer_write_bytes[2] += count * work.accesses.output_write;
      }
    }
  }

  const Extents counts{ceil_div(slice.m, mapping.tile.m), ceil_div(slice.n, mapping.tile.n),
                       ceil_div(slice.k, mapping.tile.k)};
  const Dim inner = innermost_iterating(mapping.order, counts);
  const uint64_t input_bytes = slice.m * slice.k * operand_bytes * (inner == Dim::N ? 1 : counts.n);
  const uint64_t weight_bytes = slice.k * slice.n * operand_bytes * (inner == Dim::M ? 1 : counts.m);
  const uint64_t outputs = slice.m * slice.n;
  // Unless K is the innermost loop, every K chunk but the last spills partial sums.
  const uint64_t spills = inner == Dim::K ? 0 : counts.k - 1;
  const uint64_t partial_bytes = outputs * arch::kAccumulatorBytes * spills;
  const uint64_t store_bytes = partial_bytes + outputs * output_bytes;

  arch::Activity& activity = cost.activity;
  activity.macs = slice.m * slice.n * slice.k;
  activity.dram_read_bytes = input_bytes + weight_bytes + partial_bytes;
  activity.dram_write_bytes = store_bytes;
  activity.buffer_write_bytes[0] += input_bytes;
  activity.buffer_write_bytes[1] += weight_bytes;
  activity.buffer_write_bytes[2] += partial_bytes;
  activity.buffer_read_bytes[2] += store_bytes;

  const uint64_t first_m = std::min(slice.m, mapping.tile.m);
  const uint64_t first_n = std::min(slice.n, mapping.tile.n);
  const uint64_t first_k = std::min(slice.k, mapping.tile.k);
  cost.first_load_bytes = (first_m + first_n) * first_k * operand_bytes;
  cost.last_store_bytes = first_m * first_n * output_bytes;
  return cost;
}

}  // namespace

double dram_transfer_cycles(const arch::DramSpec& dram, uint64_t bytes) {
  return dram.unlimited ? 0.0 : static_cast<double>(bytes) / dram.bytes_per_cycle;
}

arch::Activity activity_of(const TileStep& step) {
  arch::Activity activity;
  activity.macs = step.size.m * step.size.n * step.size.k;
  activity.dram_read_bytes = step.load_input_bytes + step.load_weight_bytes + step.load_partial_bytes;
  activity.dram_write_bytes = step.store_bytes;
  const arch::TileAccesses& array = step.work.accesses;
  activity.buffer_read_bytes[0] = array.input_read;
  activity.buffer_read_bytes[1] = array.weight_read;
  activity.buffer_read_bytes[2] = array.output_read + step.store_bytes;
  activity.buffer_write_bytes[0] = step.load_input_bytes;
  activity.buffer_write_bytes[1] = step.load_weight_bytes;
  activity.buffer_write_bytes[2] = array.output_write + step.load_partial_bytes;
  return activity;
}

MappingCost analytic_cost(const arch::SystolicSpec& spec, const Extents& gemm,
                          const GemmMapping& mapping) {
  // Slices differ only in the last one, so at most two distinct costs.
  const SliceCost full = slice_cost(spec, part_extents(gemm, mapping, 0), mapping);
  const SliceCost last =
      mapping.parts > 1 ? slice_cost(spec, part_extents(gemm, mapping, mapping.parts - 1), mapping) : full;
  const uint64_t full_parts = mapping.parts - 1;

  MappingCost cost;
  cost.compute_cycles = std::max(full.compute_cycles, last.compute_cycles);
  cost.port_cycles = std::max(full.port_cycles, last.port_cycles);
  cost.tiles = full.tiles * full_parts + last.tiles;
  cost.folds = full.folds * full_parts + last.folds;
  cost.pe_slots = full.pe_slots * full_parts + last.pe_slots;
  for (uint64_t i = 0; i < full_parts; ++i) cost.activity += full.activity;
  cost.activity += last.activity;
  cost.energy_pj = arch::energy_of(spec, mapping.dtype, cost.activity).total_pj();

  const arch::DramSpec& dram = spec.dram;
  const uint64_t dram_bytes = cost.activity.dram_read_bytes + cost.activity.dram_write_bytes;
  const double streaming = dram_transfer_cycles(dram, dram_bytes);
  const double latency = dram.unlimited ? 0.0 : static_cast<double>(dram.latency_cycles);
  double estimate = 0.0;
  if (mapping.double_buffered) {
    // Transfers hide under compute except the first load and the last store, which every
    // array makes at the same time.
    const double prologue = dram_transfer_cycles(dram, full.first_load_bytes * mapping.parts) + latency;
    const double epilogue = dram_transfer_cycles(dram, full.last_store_bytes * mapping.parts) + latency;
    estimate = std::max(static_cast<double>(cost.port_cycles) + prologue + epilogue,
                        streaming + 2 * latency);
  } else {
    // Each tile loads, computes and stores in turn; transfers of the arrays share DRAM.
    const double tiles = static_cast<double>(std::max(full.tiles, last.tiles));
    estimate = static_cast<double>(cost.port_cycles) + streaming + 2 * latency * tiles;
  }
  cost.estimated_cycles = static_cast<uint64_t>(std::ceil(estimate));
  return cost;
}

}  // namespace tessel::mapper
