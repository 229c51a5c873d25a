#include "mapper/systolic_mapper.h"

#include <algorithm>
#include <numeric>
#include <queue>
#include <random>
#include <stdexcept>
#include <tuple>

#include "mapper/loop_nest.h"

namespace tessel::mapper {

namespace {

using arch::Operand;

using arch::ceil_div;
uint64_t round_up(uint64_t a, uint64_t b) { return ceil_div(a, b) * b; }

constexpr LoopOrder kOrders[] = {{Dim::M, Dim::N, Dim::K}, {Dim::M, Dim::K, Dim::N}, {Dim::N, Dim::M, Dim::K},
                                 {Dim::N, Dim::K, Dim::M}, {Dim::K, Dim::M, Dim::N}, {Dim::K, Dim::N, Dim::M}};
constexpr uint64_t kResidencies = 4 * 4 * 4;  // 0..3 loops for each operand
constexpr uint64_t kNestsPerTile = std::size(kOrders) * kResidencies * 2;

// One tile of the mapspace: everything the arrays' own cost depends on.
struct TileChoice {
  arch::Dataflow dataflow;
  Dim split;
  uint32_t parts;
  uint64_t part_size;
  Extents tile;
};

// Mappings rank by the objective, then by time, DRAM traffic, energy and the fewest tiles (of
// equal cost, the larger tile: stream runs make a K split cost nothing, not gain anything).
std::tuple<double, uint64_t, uint64_t, double, uint64_t> rank(Objective objective, const MappingCost& cost) {
  return {objective_value(objective, cost), cost.estimated_cycles, cost.dram_bytes(), cost.energy_pj, cost.tiles};
}

uint64_t block_bytes(const Extents& block, Operand operand, const GemmMapping& mapping) {
  switch (operand) {
    case Operand::Input: return input_block_bytes(mapping, block.m * block.k);
    case Operand::Weight: return weight_block_bytes(mapping, block.k * block.n);
    case Operand::Output: return block.m * block.n * arch::kAccumulatorBytes;
  }
  return 0;
}

using OperandBytes = std::array<uint64_t, 3>;  // by Operand

// Bytes each operand's block takes in its buffer: one copy for each array of the core (the
// input once when the core's arrays share it).
OperandBytes block_demands(const arch::SystolicSpec& spec, const LoopNest& nest, const GemmMapping& mapping,
                           bool input_shared) {
  OperandBytes bytes{};
  for (Operand operand : {Operand::Input, Operand::Weight, Operand::Output}) {
    const uint64_t copies = operand == Operand::Input && input_shared ? 1 : spec.arrays_per_core;
    bytes[static_cast<size_t>(operand)] = block_bytes(nest.operand(operand).block, operand, mapping) * copies;
  }
  return bytes;
}

// Bytes a buffer must hold: its operands' blocks, twice when double-buffered.
uint64_t buffer_demand(const arch::BufferSpec& buffer, const OperandBytes& blocks, bool double_buffered) {
  uint64_t bytes = 0;
  for (Operand operand : buffer.holds) bytes += blocks[static_cast<size_t>(operand)];
  return bytes * (double_buffered ? 2 : 1);
}

bool fits(const arch::SystolicSpec& spec, const OperandBytes& blocks, bool double_buffered) {
  return std::all_of(spec.buffers.begin(), spec.buffers.end(), [&](const arch::BufferSpec& buffer) {
    return buffer_demand(buffer, blocks, double_buffered) <= buffer.capacity_bytes;
  });
}

OperandBytes block_demands(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping) {
  return block_demands(spec, LoopNest(part_extents(gemm, mapping, 0), mapping), mapping,
                       shares_input(gemm, mapping, spec.arrays_per_core));
}

// A tile of the mapspace with the arrays' cost of it and the floor that cost puts under
// every mapping of the tile.
struct BoundedTile {
  TileChoice choice;
  TileCost cost;
  double floor;  // objective value no nest of this tile can beat
};

class Search {
 public:
  Search(const arch::SystolicSpec& spec, const Extents& gemm, const MapperOptions& options)
      : spec_(spec),
        gemm_(gemm),
        options_(options),
        // The best and its runners-up; saturating, since alternatives may be SIZE_MAX.
        keep_(options.alternatives < SIZE_MAX ? options.alternatives + 1 : SIZE_MAX),
        compulsory_bytes_(compulsory_dram_bytes(gemm, options.dtype, options.weight_bytes, options.input_bytes)),
        compulsory_cycles_(static_cast<uint64_t>(dram_transfer_cycles(spec.dram, compulsory_bytes_))) {}

  BoundedTile bound(const TileChoice& choice) const {
    const GemmMapping mapping = mapping_of(choice);
    BoundedTile tile{choice, tile_cost(spec_, gemm_, mapping), 0.0};
    // The arrays' cycles and the DRAM traffic every operand needs at least once bound the
    // time; their energy and that traffic's bound the energy.
    MappingCost floor;
    const TileCost::Slices& cheapest = tile.cost.floor();
    floor.activity = cheapest.last.array;
    floor.activity += cheapest.full.array.times(mapping.parts - 1);
    floor.activity.dram_read_bytes = compulsory_bytes_;
    floor.estimated_cycles = std::max({cheapest.full.port_cycles, cheapest.last.port_cycles, compulsory_cycles_});
    floor.energy_pj = arch::energy_of(spec_, options_.dtype, floor.activity).total_pj();
    tile.floor = objective_value(options_.objective, floor);
    return tile;
  }

  // A floor under the tile's, without costing its arrays: under the latency objective the
  // arrays' closed-form cycles or the compulsory DRAM traffic's, whichever is longer.
  double quick_floor(const TileChoice& choice) const {
    if (options_.objective != Objective::Latency) return 0.0;
    const GemmMapping mapping = mapping_of(choice);
    return static_cast<double>(
        std::max(array_cycles_floor(spec_, part_extents(gemm_, mapping, 0), mapping), compulsory_cycles_));
  }

  // Whether a mapping whose objective value is `floor` or more could still be kept.
  bool may_keep(double floor) const {
    return best_.size() < keep_ || floor <= objective_value(options_.objective, best_.back().cost);
  }

  // Costs every nest of the tile.
  void visit(const BoundedTile& tile) {
    GemmMapping mapping = mapping_of(tile.choice);
    const Extents slice = part_extents(gemm_, mapping, 0);
    const bool input_shared = shares_input(gemm_, mapping, spec_.arrays_per_core);
    for (const LoopOrder& order : kOrders) {
      mapping.order = order;
      // Where each operand's block boundary falls for each residency, and the bytes its block
      // then takes (an operand's block depends on its own residency alone); residencies that
      // canonicalise to the same boundaries are the same mapping, costed once.
      std::array<std::array<uint32_t, 4>, 3> outside{};
      std::array<OperandBytes, 4> blocks{};
      for (uint8_t r = 0; r < 4; ++r) {
        mapping.resident_loops = {r, r, r};
        const LoopNest nest(slice, mapping);
        for (size_t x = 0; x < 3; ++x) outside[x][r] = nest.operand(static_cast<Operand>(x)).outside;
        blocks[r] = block_demands(spec_, nest, mapping, input_shared);
      }
      std::array<bool, kResidencies> seen{};
      for (uint64_t r = 0; r < kResidencies; ++r) {
        const uint64_t resident[3] = {r % 4, r / 4 % 4, r / 16};
        const uint32_t a = outside[0][resident[0]];
        const uint32_t b = outside[1][resident[1]];
        const uint32_t c = outside[2][resident[2]];
        if (seen[a + 4 * b + 16 * c]) continue;
        seen[a + 4 * b + 16 * c] = true;
        mapping.resident_loops = {static_cast<uint8_t>(3 - a), static_cast<uint8_t>(3 - b), static_cast<uint8_t>(3 - c)};
        const OperandBytes demand{blocks[resident[0]][0], blocks[resident[1]][1], blocks[resident[2]][2]};
        for (bool double_buffered : {true, false}) {
          mapping.double_buffered = double_buffered;
          if (!fits(spec_, demand, double_buffered)) continue;
          offer(mapping, analytic_cost(spec_, gemm_, mapping, tile.cost));
        }
      }
    }
  }

  uint64_t considered() const { return considered_; }
  bool found() const { return !best_.empty(); }
  const std::vector<RankedMapping>& ranked() const { return best_; }

 private:
  GemmMapping mapping_of(const TileChoice& c) const {
    return {c.dataflow, options_.dtype, c.split,         c.parts, c.part_size,
            c.tile,      kOrders[0],     {0, 0, 0}, true,  options_.weight_bytes, options_.weight_density,
            options_.input_bytes};
  }

  void offer(const GemmMapping& mapping, const MappingCost& cost) {
    ++considered_;
    const auto key = rank(options_.objective, cost);
    if (best_.size() == keep_ && key >= rank(options_.objective, best_.back().cost)) return;
    const auto at = std::upper_bound(best_.begin(), best_.end(), key, [&](const auto& k, const RankedMapping& r) {
      return k < rank(options_.objective, r.cost);
    });
    best_.insert(at, {mapping, cost});
    if (best_.size() > keep_) best_.pop_back();
  }

  const arch::SystolicSpec& spec_;
  Extents gemm_;
  MapperOptions options_;
  size_t keep_;
  uint64_t compulsory_bytes_;
  uint64_t compulsory_cycles_;  // of compulsory_bytes_ at DRAM's full bandwidth
  std::vector<RankedMapping> best_;
  uint64_t considered_ = 0;
};

std::vector<TileChoice> mapspace_tiles(const arch::SystolicSpec& spec, const Extents& gemm,
                                       const MapperOptions& options) {
  std::vector<arch::Dataflow> dataflows{spec.array.dataflow};
  if (options.search_dataflows) {
    dataflows = {arch::Dataflow::OutputStationary, arch::Dataflow::WeightStationary, arch::Dataflow::InputStationary};
  }
  const std::vector<Dim> splits = spec.array_count() > 1 ? std::vector<Dim>{Dim::M, Dim::N} : std::vector<Dim>{Dim::M};
  std::vector<TileChoice> choices;
  for (arch::Dataflow dataflow : dataflows) {
    const Extents units = array_units(spec.array, dataflow);
    for (Dim split : splits) {
      const uint64_t along = gemm.along(split);
      const uint64_t even = ceil_div(along, spec.array_count());
      // Even slices balance the arrays; slices aligned to the array waste no partial fold.
      std::vector<uint64_t> part_sizes{even};
      if (round_up(even, units.along(split)) < along && round_up(even, units.along(split)) != even) {
        part_sizes.push_back(round_up(even, units.along(split)));
      }
      for (uint64_t part_size : part_sizes) {
        const auto parts = static_cast<uint32_t>(ceil_div(along, part_size));
        Extents slice = gemm;
        (split == Dim::M ? slice.m : slice.n) = part_size;
        for (uint64_t tm : tile_candidates(slice.m, units.m)) {
          for (uint64_t tn : tile_candidates(slice.n, units.n)) {
            for (uint64_t tk : tile_candidates(slice.k, units.k)) {
              choices.push_back({dataflow, split, parts, part_size, {tm, tn, tk}});
            }
          }
        }
      }
    }
  }
  return choices;
}

}  // namespace

std::string_view to_string(Objective objective) {
  switch (objective) {
    case Objective::Latency: return "latency";
    case Objective::Energy: return "energy";
    case Objective::EnergyDelay: return "edp";
  }
  return "?";
}

std::optional<Objective> parse_objective(std::string_view text) {
  for (Objective o : {Objective::Latency, Objective::Energy, Objective::EnergyDelay}) {
    if (text == to_string(o)) return o;
  }
  return std::nullopt;
}

double objective_value(Objective objective, const MappingCost& cost) {
  switch (objective) {
    case Objective::Latency: return static_cast<double>(cost.estimated_cycles);
    case Objective::Energy: return cost.energy_pj;
    case Objective::EnergyDelay: return static_cast<double>(cost.estimated_cycles) * cost.energy_pj;
  }
  return 0.0;
}

std::vector<uint64_t> tile_candidates(uint64_t extent, uint64_t unit) {
  std::vector<uint64_t> sizes;
  for (uint64_t size = unit; size < extent; size *= 2) sizes.push_back(size);
  for (uint64_t pieces = 1; pieces <= 8; ++pieces) sizes.push_back(std::min(extent, round_up(ceil_div(extent, pieces), unit)));
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

Extents array_units(const arch::ArraySpec& array, arch::Dataflow dataflow) {
  const uint64_t r = array.rows;
  const uint64_t c = array.cols;
  switch (dataflow) {
    case arch::Dataflow::OutputStationary: return {r, c, 1};
    case arch::Dataflow::WeightStationary: return {1, c, r};
    case arch::Dataflow::InputStationary: return {c, 1, r};
  }
  return {1, 1, 1};
}

bool fits_buffers(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping) {
  return fits(spec, block_demands(spec, gemm, mapping), mapping.double_buffered);
}

void check_mapping(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping,
                   const std::string& layer) {
  const auto fail = [&](const std::string& problem) {
    throw std::runtime_error("mapping for layer '" + layer + "': " + problem);
  };
  if (spec.find_dtype(mapping.dtype) == nullptr) {
    fail(spec.name + " does not support " + std::string(arch::to_string(mapping.dtype)));
  }
  if (mapping.split == Dim::K) fail("split must be M or N: K is never split across arrays");
  if (mapping.parts == 0 || mapping.part_size == 0) fail("parts and part_size must be positive");
  if (mapping.parts > spec.array_count()) {
    fail(std::to_string(mapping.parts) + " parts but " + spec.name + " has " + std::to_string(spec.array_count()) +
         " arrays");
  }
  const uint64_t along = gemm.along(mapping.split);
  if (uint64_t{mapping.parts} * mapping.part_size < along || uint64_t{mapping.parts - 1} * mapping.part_size >= along) {
    fail(std::to_string(mapping.parts) + " slices of " + std::to_string(mapping.part_size) + " do not cover " +
         std::string(to_string(mapping.split)) + " = " + std::to_string(along) + " exactly");
  }
  if (mapping.tile.m == 0 || mapping.tile.n == 0 || mapping.tile.k == 0) fail("tile sizes must be positive");
  const OperandBytes blocks = block_demands(spec, gemm, mapping);
  for (const arch::BufferSpec& buffer : spec.buffers) {
    const uint64_t demand = buffer_demand(buffer, blocks, mapping.double_buffered);
    if (demand > buffer.capacity_bytes) {
      fail("its blocks need " + std::to_string(demand) + " bytes of buffer '" + buffer.name + "', which holds " +
           std::to_string(buffer.capacity_bytes));
    }
  }
}

MapResult map_gemm(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, const MapperOptions& options) {
  if (spec.find_dtype(options.dtype) == nullptr) {
    throw std::runtime_error(spec.source_file + ": architecture '" + spec.name + "' does not support " +
                             std::string(arch::to_string(options.dtype)));
  }
  const Extents problem{gemm.m, gemm.n, gemm.k};
  std::vector<TileChoice> tiles = mapspace_tiles(spec, problem, options);
  MapResult result;
  result.space = tiles.size() * kNestsPerTile;
  result.exhaustive = result.space <= options.exhaustive_limit;
  if (!result.exhaustive) {
    // Sample: a seeded order, as many tiles as the limit affords.
    std::shuffle(tiles.begin(), tiles.end(), std::mt19937_64(options.seed));
    tiles.resize(std::max<uint64_t>(1, options.exhaustive_limit / kNestsPerTile));
  }
  // Best first, by floor and then by place in the list: once a tile's floor is above the worst
  // mapping kept, so are the rest. A tile waits under its quick floor and has its arrays
  // costed only when that comes up; since the quick floor is never above the tile's own,
  // tiles are visited in the same order as if every floor were known from the start.
  Search search(spec, problem, options);
  constexpr size_t kNotCosted = SIZE_MAX;
  struct Pending {
    double floor;
    size_t tile;
    size_t costed;  // its place in `bounded`, once costed
    bool operator>(const Pending& other) const { return std::tie(floor, tile) > std::tie(other.floor, other.tile); }
  };
  std::vector<Pending> quick_floors;
  quick_floors.reserve(tiles.size());
  for (size_t i = 0; i < tiles.size(); ++i) quick_floors.push_back({search.quick_floor(tiles[i]), i, kNotCosted});
  // Heapified at once, not pushed one by one: most tiles are never popped.
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending(std::greater<>(), std::move(quick_floors));
  std::vector<BoundedTile> bounded;
  while (!pending.empty() && search.may_keep(pending.top().floor)) {
    const Pending next = pending.top();
    pending.pop();
    if (next.costed != kNotCosted) {
      search.visit(bounded[next.costed]);
      continue;
    }
    bounded.push_back(search.bound(tiles[next.tile]));
    pending.push({bounded.back().floor, next.tile, bounded.size() - 1});
  }
  if (!search.found()) {
    throw std::runtime_error(spec.source_file + ": no mapping of GEMM '" + gemm.name + "' (" + std::to_string(gemm.m) +
                             "x" + std::to_string(gemm.n) + "x" + std::to_string(gemm.k) + ") fits the buffers of '" +
                             spec.name + "' (not even one array-sized tile with a K tile of 1)");
  }
  const std::vector<RankedMapping>& ranked = search.ranked();
  result.mapping = ranked.front().mapping;
  result.cost = ranked.front().cost;
  result.alternatives.assign(ranked.begin() + 1, ranked.end());
  result.considered = search.considered();
  return result;
}

const MapResult& MappingCache::map(const workloads::Gemm& gemm, const MapperOptions& options) {
  const Key key{gemm.m,          gemm.n,          gemm.k,        options.dtype, options.objective,
                options.search_dataflows, options.seed, options.weight_bytes, options.weight_density,
                options.input_bytes};
  const auto found = results_.find(key);
  if (found != results_.end()) {
    ++hits_;
    return found->second;
  }
  return results_.emplace(key, map_gemm(spec_, gemm, options)).first->second;
}

}  // namespace tessel::mapper
