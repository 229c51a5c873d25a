// The mapper for GEMMs on systolic accelerators. The mapspace: the dataflow (where the
// hardware can switch), the spatial split across arrays (M or N, even or array-aligned
// slices), the tile each array computes (array-aligned sizes: doublings and even splits of
// each dimension), the order of the loops over tiles, how many of those loops each
// operand's buffer block spans, and single or double buffering. Mappings whose blocks do
// not fit the buffers are never returned.
//
// The search is exhaustive with pruning when the mapspace is small enough: the arrays' own
// cost of a tile (independent of order, residency and buffering) bounds every mapping of
// that tile from below, so tiles that cannot beat the best found are skipped whole.
// Larger spaces are sampled: as many tiles as the limit affords, in a seeded order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "arch/spec.h"
#include "mapper/cost_model.h"
#include "mapper/mapping.h"
#include "workloads/gemm.h"

namespace tessel::mapper {

enum class Objective { Latency, Energy, EnergyDelay };
std::string_view to_string(Objective objective);
std::optional<Objective> parse_objective(std::string_view text);  // "latency", "energy", "edp"
double objective_value(Objective objective, const MappingCost& cost);

struct MapperOptions {
  arch::DType dtype;
  Objective objective = Objective::Latency;
  bool search_dataflows = false;          // the hardware can switch: try os, ws and is
  uint64_t seed = 1;                      // order of the sampled search
  size_t alternatives = 5;                // runners-up kept, best first
  uint64_t exhaustive_limit = 20'000'000; // mappings in the space above which the search samples
  double weight_bytes = 0;                // a packed weight's bytes an element (GemmMapping::weight_bytes)
  double weight_density = 1;              // a pruned weight's kept share (GemmMapping::weight_density)
  double input_bytes = 0;                 // an input element's bytes (GemmMapping::input_bytes)
};

struct RankedMapping {
  GemmMapping mapping;
  MappingCost cost;
};

struct MapResult {
  GemmMapping mapping;
  MappingCost cost;
  uint64_t considered = 0;  // mappings costed in full
  uint64_t space = 0;       // mappings in the mapspace, before any pruning
  bool exhaustive = true;   // false when the space was sampled
  std::vector<RankedMapping> alternatives;
};

// Throws std::runtime_error when the format is unsupported or no mapping fits the buffers.
MapResult map_gemm(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, const MapperOptions& options);

// Whether every buffer holds the mapping's blocks (twice when double-buffered) for each
// array that shares it.
bool fits_buffers(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping);

// Throws std::runtime_error, naming the layer and the problem, when a given mapping (a
// pinned one) cannot run the GEMM: an unsupported format, slices that do not cover it or
// need more arrays than there are, empty tiles, or blocks that overflow a buffer.
void check_mapping(const arch::SystolicSpec& spec, const Extents& gemm, const GemmMapping& mapping,
                   const std::string& layer);

// The tile sizes the mapspace offers along a dimension of `extent` laid on `unit` PEs.
std::vector<uint64_t> tile_candidates(uint64_t extent, uint64_t unit);
// The array extent each GEMM dimension lands on under a dataflow (1 for the temporal one).
Extents array_units(const arch::ArraySpec& array, arch::Dataflow dataflow);

// Identical layers are mapped once: results memoised by shape and options, for one
// architecture (the one given at construction).
class MappingCache {
 public:
  explicit MappingCache(const arch::SystolicSpec& spec) : spec_(spec) {}
  const MapResult& map(const workloads::Gemm& gemm, const MapperOptions& options);
  uint64_t hits() const { return hits_; }

 private:
  using Key = std::tuple<uint64_t, uint64_t, uint64_t, arch::DType, Objective, bool, uint64_t, double, double, double>;
  const arch::SystolicSpec& spec_;
  std::map<Key, MapResult> results_;
  uint64_t hits_ = 0;
};

}  // namespace tessel::mapper
