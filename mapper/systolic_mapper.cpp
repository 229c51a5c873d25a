#include "mapper/systolic_mapper.h"

#include <optional>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "arch/systolic/tile_work.h"

namespace tessel::mapper {

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t round_up(uint64_t a, uint64_t b) { return ceil_div(a, b) * b; }

// Multiples of the array extent a dimension lands on (1 for the temporal one), doubling,
// and the whole dimension.
std::vector<uint64_t> tile_candidates(uint64_t extent, uint64_t unit) {
  std::vector<uint64_t> sizes;
  for (uint64_t size = unit; size < extent; size *= 2) sizes.push_back(size);
  sizes.push_back(extent);
  return sizes;
}

// The array extent (rows, cols, or 1 for time) each GEMM dimension is laid on.
Extents array_units(const arch::ArraySpec& array) {
  const uint64_t r = array.rows;
  const uint64_t c = array.cols;
  switch (array.dataflow) {
    case arch::Dataflow::OutputStationary: return {r, c, 1};
    case arch::Dataflow::WeightStationary: return {1, c, r};
    case arch::Dataflow::InputStationary: return {c, 1, r};
  }
  return {1, 1, 1};
}

uint64_t tile_bytes(const GemmMapping& mapping, arch::Operand operand) {
  const uint64_t b = arch::bytes_of(mapping.dtype);
  const Extents& t = mapping.tile;
  switch (operand) {
    case arch::Operand::Input: return t.m * t.k * b;
    case arch::Operand::Weight: return t.k * t.n * b;
    case arch::Operand::Output: return t.m * t.n * arch::kAccumulatorBytes;
  }
  return 0;
}

bool better(const MappingCost& a, const MappingCost& b) {
  const auto key = [](const MappingCost& c) {
    return std::make_tuple(c.estimated_cycles, c.activity.dram_read_bytes + c.activity.dram_write_bytes,
                           c.energy_pj);
  };
  return key(a) < key(b);
}

// The loop orders that differ in cost: only the innermost loop decides which operand stays.
constexpr LoopOrder kOrders[] = {{Dim::M, Dim::N, Dim::K}, {Dim::M, Dim::K, Dim::N}, {Dim::N, Dim::K, Dim::M}};

}  // namespace

bool fits_buffers(const arch::SystolicSpec& spec, const GemmMapping& mapping) {
  for (const arch::BufferSpec& buffer : spec.buffers) {
    uint64_t bytes = 0;
    for (arch::Operand operand : buffer.holds) bytes += tile_bytes(mapping, operand);
    if (mapping.double_buffered) bytes *= 2;
    if (bytes * spec.arrays_per_core > buffer.capacity_bytes) return false;
  }
  return true;
}

MapResult map_gemm(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, arch::DType dtype) {
  if (spec.find_dtype(dtype) == nullptr) {
    throw std::runtime_error(spec.source_file + ": architecture '" + spec.name + "' does not support " +
                             std::string(arch::to_string(dtype)));
  }
  const Extents problem{gemm.m, gemm.n, gemm.k};
  const Extents units = array_units(spec.array);
  std::optional<MapResult> best;
  uint64_t considered = 0;

  const std::vector<Dim> splits = spec.array_count() > 1 ? std::vector<Dim>{Dim::M, Dim::N} : std::vector<Dim>{Dim::M};
  for (Dim split : splits) {
    const uint64_t along = problem.along(split);
    const uint64_t even = ceil_div(along, spec.array_count());
    // Even slices balance the arrays; slices aligned to the array waste no partial fold.
    std::vector<uint64_t> part_sizes{even};
    if (round_up(even, units.along(split)) != even) part_sizes.push_back(round_up(even, units.along(split)));
    for (uint64_t part_size : part_sizes) {
      GemmMapping mapping{spec.array.dataflow, dtype, split, 1, part_size, {}, kOrders[0], true};
      mapping.parts = static_cast<uint32_t>(ceil_div(along, part_size));
      const Extents slice = part_extents(problem, mapping, 0);
      for (uint64_t tm : tile_candidates(slice.m, units.m)) {
        for (uint64_t tn : tile_candidates(slice.n, units.n)) {
          for (uint64_t tk : tile_candidates(slice.k, units.k)) {
            mapping.tile = {tm, tn, tk};
            for (bool double_buffered : {true, false}) {
              mapping.double_buffered = double_buffered;
              if (!fits_buffers(spec, mapping)) continue;
              for (const LoopOrder& order : kOrders) {
                mapping.order = order;
                const MappingCost cost = analytic_cost(spec, problem, mapping);
                ++considered;
                if (!best || better(cost, best->cost)) best = MapResult{mapping, cost, 0};
              }
            }
          }
        }
      }
    }
  }
  if (!best) {
    throw std::runtime_error(spec.source_file + ": no tiling of GEMM '" + gemm.name +
                             "' fits the buffers of '" + spec.name +
                             "' (even one array-sized tile with a K chunk of 1 does not)");
  }
  best->considered = considered;
  return *best;
}

}  // namespace tessel::mapper
