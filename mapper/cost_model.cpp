#include "mapper/cost_model.h"

#include <algorithm>
#include <cmath>

#include "arch/systolic/tile_work.h"
#include "mapper/loop_nest.h"

namespace tessel::mapper {

namespace {

using arch::Operand;

using arch::ceil_div;

bool same_extents(const Extents& a, const Extents& b) { return a.m == b.m && a.n == b.n && a.k == b.k; }

// Tiles along one dimension fall into at most three classes that cost the same: the first
// (which for K starts the sums), the full ones after it, and the last, which may be smaller.
struct TileClass {
  uint64_t size;
  uint64_t count;
  uint64_t index;  // of a tile of the class along the dimension
  bool first() const { return index == 0; }
};

struct TileClasses {
  TileClass items[3];
  size_t size = 0;
  const TileClass* begin() const { return items; }
  const TileClass* end() const { return items + size; }
};

TileClasses tile_classes(uint64_t extent, uint64_t tile) {
  const uint64_t tiles = ceil_div(extent, tile);
  TileClasses classes;
  classes.items[classes.size++] = {std::min(tile, extent), 1, 0};
  if (tiles > 2) classes.items[classes.size++] = {tile, tiles - 2, 1};
  if (tiles >= 2) classes.items[classes.size++] = {extent - (tiles - 1) * tile, 1, tiles - 1};
  return classes;
}

// The array a mapping runs on (the spec's, in the mapping's dataflow).
arch::ArraySpec mapped_array(const arch::SystolicSpec& spec, const GemmMapping& mapping) {
  arch::ArraySpec array = spec.array;
  array.dataflow = mapping.dataflow;
  return array;
}

// Calls visit(count, m, n, k, run) for each class of a slice's tiles that cost the same, with
// the place its tiles take in a walk of stream runs (none unless `runs`).
template <typename Visit>
void for_each_tile_class(const Extents& slice, const GemmMapping& mapping, bool runs, const Visit& visit) {
  const Dim streamed = streamed_dim(mapping.dataflow);
  const uint64_t streamed_tiles = ceil_div(slice.along(streamed), mapping.tile.along(streamed));
  for (const TileClass& m : tile_classes(slice.m, mapping.tile.m)) {
    for (const TileClass& n : tile_classes(slice.n, mapping.tile.n)) {
      for (const TileClass& k : tile_classes(slice.k, mapping.tile.k)) {
        const uint64_t index[3] = {m.index, n.index, k.index};  // by Dim
        const arch::StreamRun run =
            runs ? stream_run(index[static_cast<size_t>(streamed)], streamed_tiles) : arch::StreamRun{};
        visit(m.count * n.count * k.count, m, n, k, run);
      }
    }
  }
}

TileCost::Slice slice_tiles(const arch::SystolicSpec& spec, const Extents& slice, const GemmMapping& mapping,
                            bool runs) {
  TileCost::Slice cost;
  if (slice.m == 0 || slice.n == 0 || slice.k == 0) return cost;
  const double rate = spec.find_dtype(mapping.dtype)->macs_per_pe_per_cycle;
  const double operand_bytes = arch::element_bytes(mapping.dtype);
  const arch::ArraySpec array = mapped_array(spec, mapping);
  for_each_tile_class(slice, mapping, runs,
                      [&](uint64_t count, const TileClass& m, const TileClass& n, const TileClass& k,
                          arch::StreamRun run) {
    const arch::TileWork work = as_stored(
        arch::tile_work(array, rate, operand_bytes, m.size, n.size, k.size, !k.first(), run), mapping, array);
    const uint64_t ports = arch::buffer_port_cycles(spec, work.accesses);
    cost.compute_cycles += count * work.compute_cycles;
    cost.port_cycles += count * std::max(work.compute_cycles, ports);
    if (work.run.continued) {
      cost.continued_tiles += count;
      cost.continued_port_cycles += count * std::max(work.compute_cycles, ports);
    }
    cost.tiles += count;
    cost.folds += count * work.folds;
    cost.pe_slots += count * work.pe_slots;
    auto& reads = cost.array.buffer_read_bytes;
    reads[0] += count * work.accesses.input_read;
    reads[1] += count * work.accesses.weight_read;
    reads[2] += count * work.accesses.output_read;
    cost.array.buffer_write_bytes[2] += count * work.accesses.output_write;
  });
  cost.array.macs = performed_macs(slice.m * slice.n * slice.k, mapping, spec.array);
  return cost;
}

// DRAM traffic of one slice and the events that pay DRAM latency.
struct SliceTraffic {
  arch::Activity activity;  // DRAM bytes and the DMA's buffer accesses
  uint64_t first_load_bytes = 0;
  uint64_t last_store_bytes = 0;
  uint64_t load_events = 0;   // tiles that load anything
  uint64_t store_events = 0;  // output blocks leaving
  // Steps after the first, grouped by the outermost loop they advance (level 0..2): how
  // many there are and the DRAM bytes such a step moves (new blocks in, output blocks out).
  uint64_t steps_at_level[3] = {0, 0, 0};
  double bytes_at_level[3] = {0, 0, 0};
};

SliceTraffic slice_traffic(const Extents& slice, const GemmMapping& mapping, bool fetches_input) {
  SliceTraffic traffic;
  if (slice.m == 0 || slice.n == 0 || slice.k == 0) return traffic;
  const uint32_t output_bytes = final_output_bytes(mapping.dtype);
  const LoopNest nest(slice, mapping);
  const uint64_t input_bytes =
      fetches_input ? input_block_bytes(mapping, slice.m * slice.k) * nest.refetch_factor(Operand::Input) : 0;
  const uint64_t weight_bytes = weight_block_bytes(mapping, slice.k * slice.n) * nest.refetch_factor(Operand::Weight);
  const uint64_t outputs = slice.m * slice.n;
  // Every visit of an output block but its last leaves partial sums behind.
  const uint64_t spills = nest.refetch_factor(Operand::Output) - 1;
  const uint64_t partial_bytes = outputs * arch::kAccumulatorBytes * spills;
  const uint64_t store_bytes = partial_bytes + outputs * output_bytes;

  arch::Activity& activity = traffic.activity;
  activity.dram_read_bytes = input_bytes + weight_bytes + partial_bytes;
  activity.dram_write_bytes = store_bytes;
  activity.buffer_write_bytes[0] = input_bytes;
  activity.buffer_write_bytes[1] = weight_bytes;
  activity.buffer_write_bytes[2] = partial_bytes;
  activity.buffer_read_bytes[2] = store_bytes;

  const Extents& a = nest.operand(Operand::Input).block;
  const Extents& b = nest.operand(Operand::Weight).block;
  const Extents& c = nest.operand(Operand::Output).block;
  traffic.first_load_bytes =
      (fetches_input ? input_block_bytes(mapping, a.m * a.k) : 0) + weight_block_bytes(mapping, b.k * b.n);
  traffic.last_store_bytes = c.m * c.n * output_bytes;
  // A tile loads when a loop outside the input's or the weight's block moves.
  const uint32_t deepest = std::max(nest.operand(Operand::Input).outside, nest.operand(Operand::Weight).outside);
  traffic.load_events = 1;
  for (uint32_t level = 0; level < deepest; ++level) traffic.load_events *= nest.trips_at(level);
  traffic.store_events = nest.block_visits(Operand::Output);

  const struct {
    Operand operand;
    uint64_t bytes;
  } moved[] = {{Operand::Input, input_bytes}, {Operand::Weight, weight_bytes},
               {Operand::Output, store_bytes + partial_bytes}};
  uint64_t enclosing = 1;
  for (uint32_t level = 0; level < 3; ++level) {
    traffic.steps_at_level[level] = enclosing * (nest.trips_at(level) - 1);
    enclosing *= nest.trips_at(level);
    for (const auto& x : moved) {
      // A step advancing a loop outside the block brings a new block (on average its share).
      if (level < nest.operand(x.operand).outside) {
        traffic.bytes_at_level[level] += static_cast<double>(x.bytes) / static_cast<double>(nest.block_visits(x.operand));
      }
    }
  }
  return traffic;
}

}  // namespace

uint64_t compulsory_dram_bytes(const Extents& gemm, arch::DType dtype, double weight_bytes, double input_bytes) {
  const double weight = weight_bytes > 0 ? weight_bytes : arch::element_bytes(dtype);
  const double input = input_bytes > 0 ? input_bytes : arch::element_bytes(dtype);
  return static_cast<uint64_t>(std::ceil(static_cast<double>(gemm.m * gemm.k) * input)) +
         static_cast<uint64_t>(std::ceil(static_cast<double>(gemm.k * gemm.n) * weight)) +
         gemm.m * gemm.n * final_output_bytes(dtype);
}

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

uint64_t array_cycles_floor(const arch::SystolicSpec& spec, const Extents& slice, const GemmMapping& mapping) {
  if (slice.m == 0 || slice.n == 0 || slice.k == 0) return 0;
  const double rate = spec.find_dtype(mapping.dtype)->macs_per_pe_per_cycle;
  const arch::ArraySpec array = mapped_array(spec, mapping);
  // slice_tiles' compute cycles of a walk in stream runs, without the buffer accesses.
  uint64_t cycles = 0;
  for_each_tile_class(slice, mapping, true,
                      [&](uint64_t count, const TileClass& m, const TileClass& n, const TileClass& k,
                          arch::StreamRun run) {
    cycles += count * arch::tile_compute_cycles(array, rate, m.size, n.size, k.size, run);
  });
  if (mapping.weight_density >= 1 || array.weight_zeros != arch::ZeroHandling::Skip) return cycles;
  // Skipped zeros scale each tile's cycles (as_stored); one cycle of margin for the rounding.
  const double scaled = std::floor(static_cast<double>(cycles) * mapping.weight_density);
  return scaled >= 1 ? static_cast<uint64_t>(scaled) - 1 : 0;
}

TileCost tile_cost(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping) {
  TileCost cost;
  const Extents full = part_extents(gemm, mapping, 0);
  const Extents last = part_extents(gemm, mapping, mapping.parts - 1);
  for (bool runs : {false, true}) {
    TileCost::Slices& walk = cost.walks[runs];
    walk.full = slice_tiles(spec, full, mapping, runs);
    walk.last = same_extents(full, last) ? walk.full : slice_tiles(spec, last, mapping, runs);
  }
  return cost;
}

MappingCost analytic_cost(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping,
                          const TileCost& tile_costs) {
  const Extents full_extents = part_extents(gemm, mapping, 0);
  const Extents last_extents = part_extents(gemm, mapping, mapping.parts - 1);
  const LoopNest full_nest(full_extents, mapping);
  const bool full_runs = forms_stream_runs(full_nest, mapping.dataflow);
  const bool last_runs = forms_stream_runs(LoopNest(last_extents, mapping), mapping.dataflow);
  const TileCost::Slices tiles{tile_costs.walks[full_runs].full, tile_costs.walks[last_runs].last};
  const SliceTraffic full = slice_traffic(full_extents, mapping, true);
  const SliceTraffic last = same_extents(full_extents, last_extents) ? full : slice_traffic(last_extents, mapping, true);
  // Arrays whose core's first array fetches the input for them (equal slices only).
  const bool sharing = shares_input(gemm, mapping, spec.arrays_per_core);
  const uint64_t followers = sharing ? mapping.parts - ceil_div(mapping.parts, spec.arrays_per_core) : 0;
  const SliceTraffic follower = sharing ? slice_traffic(full_extents, mapping, false) : full;
  const uint64_t fetching_full_parts = mapping.parts - 1 - followers;  // besides the last part
  const uint64_t full_parts = mapping.parts - 1;

  MappingCost cost;
  cost.compute_cycles = std::max(tiles.full.compute_cycles, tiles.last.compute_cycles);
  cost.port_cycles = std::max(tiles.full.port_cycles, tiles.last.port_cycles);
  cost.tiles = tiles.full.tiles * full_parts + tiles.last.tiles;
  cost.folds = tiles.full.folds * full_parts + tiles.last.folds;
  cost.pe_slots = tiles.full.pe_slots * full_parts + tiles.last.pe_slots;
  arch::Activity& activity = cost.activity;
  activity += tiles.full.array.times(full_parts);
  activity += full.activity.times(fetching_full_parts);
  activity += follower.activity.times(followers);
  activity += tiles.last.array;
  activity += last.activity;
  cost.energy_pj = arch::energy_of(spec, mapping.dtype, activity).total_pj();

  const arch::DramSpec& dram = spec.dram;
  const double streaming = dram_transfer_cycles(dram, cost.dram_bytes());
  const double latency = dram.unlimited ? 0.0 : static_cast<double>(dram.latency_cycles);
  const double tiles_per_array = static_cast<double>(std::max(tiles.full.tiles, tiles.last.tiles));
  const double port = static_cast<double>(cost.port_cycles);
  double estimate = port;
  if (dram.unlimited) {
    estimate = port;
  } else if (mapping.double_buffered) {
    // A pipeline of tiles: the first load, then each tile's compute overlapping the next
    // tile's transfers (every array's, through the one channel), then the last compute and
    // the last store. An array's step load is one DMA request that completes a DRAM latency
    // after its bytes (the engine issues its next only then), so a step takes at least that;
    // the other arrays' transfers fill the channel meanwhile.
    // Steps are grouped by the loop they advance, since those that bring new blocks move
    // more than the rest.
    const uint64_t fetching = mapping.parts - followers;
    const double first_load = dram_transfer_cycles(
        dram, full.first_load_bytes * fetching + follower.first_load_bytes * followers);
    const double last_store = dram_transfer_cycles(dram, full.last_store_bytes * mapping.parts);
    // A step overlaps the transfers of the next tile with the compute of the one before. In a
    // walk of stream runs, the steps that follow a tile the run goes on from (one-fold tiles
    // that do not drain: fold_timing.h) all advance the streamed dimension's loop.
    const TileCost::Slice& busiest = tiles.full.port_cycles >= tiles.last.port_cycles ? tiles.full : tiles.last;
    const double continued = static_cast<double>(busiest.continued_tiles);
    const double after_continued = continued > 0 ? static_cast<double>(busiest.continued_port_cycles) / continued : 0.0;
    const double compute_per_tile =
        (port - static_cast<double>(busiest.continued_port_cycles)) / (tiles_per_array - continued);
    double overlapped = 0;
    double inner_transfer = 0;  // of a step of the innermost loop that moves
    double inner_compute = compute_per_tile;
    for (uint32_t level = 0; level < 3; ++level) {
      const bool in_run = full_runs && full_nest.dim_at(level) == streamed_dim(mapping.dataflow);
      const double steps = static_cast<double>(full.steps_at_level[level]);
      const double steps_after_continued = in_run ? std::min(continued, steps) : 0.0;
      const double bytes = full.bytes_at_level[level] * static_cast<double>(fetching) +
                           follower.bytes_at_level[level] * static_cast<double>(followers);
      const double own_bytes = full.bytes_at_level[level];
      const double own = own_bytes > 0 ? own_bytes / dram.bytes_per_cycle + latency : 0.0;
      const double transfer = std::max(bytes / dram.bytes_per_cycle, own);
      overlapped += steps_after_continued * std::max(transfer, after_continued) +
                    (steps - steps_after_continued) * std::max(transfer, compute_per_tile);
      if (steps > 0) {
        inner_transfer = transfer;
        inner_compute = steps_after_continued > 0 ? after_continued : compute_per_tile;
      }
    }
    // A tile's buffer slot takes the load two tiles on only once the tile's output block has
    // left (the engine's ArrayRunner): each store but the last holds that load up by its own
    // time, which shows where a step's compute is short (the first tiles of stream runs).
    const double stores = static_cast<double>(full.store_events) - 1.0;
    if (stores > 0) {
      const double store_own = static_cast<double>(full.last_store_bytes) / dram.bytes_per_cycle + latency;
      overlapped += stores * (std::max(store_own + inner_transfer, inner_compute) -
                              std::max(inner_transfer, inner_compute));
    }
    estimate = latency + first_load + overlapped + compute_per_tile + last_store + latency;
  } else {
    // Each tile loads, computes and stores in turn; transfers of the arrays share DRAM.
    const double events = static_cast<double>(
        std::max(full.load_events + full.store_events, last.load_events + last.store_events));
    estimate = port + streaming + latency * events;
  }
  cost.estimated_cycles = static_cast<uint64_t>(std::ceil(estimate));
  return cost;
}

MappingCost analytic_cost(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping) {
  return analytic_cost(spec, gemm, mapping, tile_cost(spec, gemm, mapping));
}

}  // namespace tessel::mapper
