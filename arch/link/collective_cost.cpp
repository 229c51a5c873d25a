#include "arch/link/collective_cost.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tessel::arch {

namespace {

using Kind = CollectiveKind;
using Algorithm = CollectiveAlgorithm;

struct Named {
  Algorithm algorithm;
  std::string_view name;
};
constexpr Named kAlgorithms[] = {{Algorithm::Ring, "ring"},       {Algorithm::Tree, "tree"},
                                 {Algorithm::Hierarchical, "hierarchical"}, {Algorithm::Torus, "torus"},
                                 {Algorithm::InSwitch, "in-switch"}, {Algorithm::Direct, "direct"}};

double bandwidth(const LevelSpec& level) { return level.link.achievable_bytes_per_second(); }

// The span with only `levels` kept (the others collapse to one member).
GroupSpan only(const GroupSpan& span, const std::vector<size_t>& levels) {
  GroupSpan part = span;
  for (size_t l = 0; l < part.members.size(); ++l) {
    if (std::find(levels.begin(), levels.end(), l) != levels.end()) continue;
    std::fill(part.members[l].begin(), part.members[l].end(), 1u);
  }
  return part;
}

// One logical ring through every member, visited innermost first: of its n hops, those that
// change an outer position cross that level. `chunk` moves each step. A collective library
// runs several such rings at once (NCCL's channels), each leaving a node through another
// member's port, so a level's crossings spread over every member's port of it: each step, a
// port carries chunk × (that level's hops / n).
CollectivePhase ring_phase(const std::vector<LevelSpec>& levels, const GroupSpan& span, double steps, double chunk) {
  const double n = static_cast<double>(span.size());
  std::vector<double> hops(levels.size(), 0.0);
  double below = 1;  // members of the positions inside the current one
  size_t top = 0;
  for (size_t l = 0; l < span.members.size(); ++l) {
    for (uint32_t members : span.members[l]) {
      if (members <= 1) continue;
      below *= members;
      hops[l] += n / below * (members - 1);
      top = l;
    }
  }
  hops[top] += 1;  // the hop from the last member back to the first
  CollectivePhase phase;
  double step = 0;
  for (size_t l = 0; l < levels.size(); ++l) {
    if (hops[l] == 0) continue;
    step = std::max(step, levels[l].link.latency_s + chunk * hops[l] / n / bandwidth(levels[l]));
    phase.uses.push_back({l, std::nullopt, steps * chunk * hops[l] / n, 1});
  }
  phase.seconds = steps * step;
  return phase;
}

std::vector<CollectivePhase> ring(const std::vector<LevelSpec>& levels, Kind kind, const GroupSpan& span, double bytes) {
  const double n = static_cast<double>(span.size());
  switch (kind) {
    case Kind::AllReduce: return {ring_phase(levels, span, 2 * (n - 1), bytes / n)};
    case Kind::ReduceScatter: return {ring_phase(levels, span, n - 1, bytes / n)};
    case Kind::AllGather: return {ring_phase(levels, span, n - 1, bytes)};
    case Kind::AllToAll: break;
  }
  throw std::invalid_argument("a ring does not run an all-to-all");
}

// Inside the innermost level spanned, then a ring across the others on its share.
std::vector<CollectivePhase> hierarchical(const std::vector<LevelSpec>& levels, Kind kind, const GroupSpan& span,
                                          double bytes) {
  std::vector<size_t> spanned = span.spanned_levels();
  const GroupSpan inner = only(span, {spanned.front()});
  const GroupSpan outer = only(span, std::vector<size_t>(spanned.begin() + 1, spanned.end()));
  const double a = static_cast<double>(inner.size());
  const double b = static_cast<double>(outer.size());
  std::vector<CollectivePhase> phases;
  const auto add = [&](const std::vector<CollectivePhase>& more) { phases.insert(phases.end(), more.begin(), more.end()); };
  switch (kind) {
    case Kind::AllReduce:
      add(ring(levels, Kind::ReduceScatter, inner, bytes));
      add(ring(levels, Kind::AllReduce, outer, bytes / a));
      add(ring(levels, Kind::AllGather, inner, bytes / a));
      break;
    case Kind::ReduceScatter:
      add(ring(levels, Kind::ReduceScatter, inner, bytes));
      add(ring(levels, Kind::ReduceScatter, outer, bytes / a));
      break;
    case Kind::AllGather:
      add(ring(levels, Kind::AllGather, outer, bytes));
      add(ring(levels, Kind::AllGather, inner, bytes * b));
      break;
    case Kind::AllToAll: throw std::invalid_argument("the hierarchical algorithm does not run an all-to-all");
  }
  return phases;
}

// NCCL's tree across the outermost level spanned, a chain inside each of its members.
std::vector<CollectivePhase> tree(const std::vector<LevelSpec>& levels, const GroupSpan& span, double bytes) {
  const std::vector<size_t> spanned = span.spanned_levels();
  const size_t out = spanned.back();
  const double b = static_cast<double>(span.members_at(out));
  const double a = static_cast<double>(span.size()) / b;
  double inner_latency = 0, inner_bandwidth = INFINITY;
  for (size_t i = 0; i + 1 < spanned.size(); ++i) {
    inner_latency = std::max(inner_latency, levels[spanned[i]].link.latency_s);
    inner_bandwidth = std::min(inner_bandwidth, bandwidth(levels[spanned[i]]));
  }
  CollectivePhase phase;
  phase.seconds = 2 * (a - 1) * inner_latency + 2 * std::ceil(std::log2(b)) * levels[out].link.latency_s +
                  std::max(2 * bytes / inner_bandwidth, 2 * bytes / (a * bandwidth(levels[out])));
  phase.uses = {{spanned.front(), std::nullopt, 2 * bytes, 1}, {out, std::nullopt, 2 * bytes / a, 1}};
  return {phase};
}

// Both directions of a ring along a dimension when its wraparound closes it.
double directions(const LevelSpec& level, size_t dim, uint32_t members) {
  return members >= 3 && members == level.dims[dim] && level.wraparound ? 2.0 : 1.0;
}

std::vector<CollectivePhase> torus(const std::vector<LevelSpec>& levels, Kind kind, const GroupSpan& span,
                                   double bytes) {
  const size_t l = span.spanned_levels().front();
  const LevelSpec& level = levels[l];
  std::vector<size_t> dims;
  for (size_t d = 0; d < span.members[l].size(); ++d) {
    if (span.members[l][d] > 1) dims.push_back(d);
  }
  // Reduce-scatter (or all-gather) along one dimension: (c - 1) steps of `chunk`.
  const auto along = [&](size_t d, double chunk) {
    const double c = span.members[l][d];
    const double ways = directions(level, d, span.members[l][d]);
    return CollectivePhase{(c - 1) * (level.link.latency_s + chunk / (ways * bandwidth(level))),
                           {{l, d, (c - 1) * chunk, ways}}};
  };
  std::vector<CollectivePhase> scatter, gather;
  double share = bytes;
  for (size_t d : dims) {
    const double c = span.members[l][d];
    scatter.push_back(along(d, share / c));
    share /= c;
  }
  if (kind == Kind::ReduceScatter) return scatter;
  if (kind == Kind::AllReduce) {
    std::vector<CollectivePhase> phases = scatter;
    phases.insert(phases.end(), scatter.rbegin(), scatter.rend());
    return phases;
  }
  if (kind == Kind::AllGather) {
    double shard = bytes;
    for (size_t d : dims) {
      gather.push_back(along(d, shard));
      shard *= span.members[l][d];
    }
    return gather;
  }
  throw std::invalid_argument("the torus algorithm does not run an all-to-all");
}

std::vector<CollectivePhase> in_switch(const std::vector<LevelSpec>& levels, Kind kind, const GroupSpan& span,
                                       double bytes) {
  const size_t l = span.spanned_levels().front();
  const LinkSpec& link = levels[l].link;
  const double steps = kind == Kind::AllReduce ? 2 : 1;  // up to the switch, and the sum back down
  return {{steps * link.latency_s + bytes / link.achievable_bytes_per_second(), {{l, std::nullopt, bytes, 1}}}};
}

// Every member sends bytes / n to each member; each level carries what goes to members it
// separates, a torus dimension hop by hop (its mean distance).
std::vector<CollectivePhase> direct(const std::vector<LevelSpec>& levels, const GroupSpan& span, double bytes) {
  const double n = static_cast<double>(span.size());
  CollectivePhase phase;
  double inside = 1;   // members within the levels below
  double slowest = 0;  // of the levels' transfers, which run at once
  for (size_t l : span.spanned_levels()) {
    const LevelSpec& level = levels[l];
    const double members = static_cast<double>(span.members_at(l));
    if (level.topology == Topology::Switch) {
      const double crossing = bytes / n * inside * (members - 1);
      phase.uses.push_back({l, std::nullopt, crossing, 1});
      slowest = std::max(slowest, crossing / bandwidth(level));
    } else {
      for (size_t d = 0; d < span.members[l].size(); ++d) {
        const uint32_t c = span.members[l][d];
        if (c <= 1) continue;
        const double ways = directions(level, d, c);
        const double mean_hops = ways == 2 ? c / 4.0 : c / 3.0;
        phase.uses.push_back({l, d, bytes * mean_hops, ways});
        slowest = std::max(slowest, bytes * mean_hops / (ways * bandwidth(level)));
      }
    }
    inside *= members;
  }
  phase.seconds = (n - 1) * levels[span.spanned_levels().front()].link.latency_s + slowest;
  return {phase};
}

}  // namespace

std::string_view to_string(CollectiveKind kind) {
  switch (kind) {
    case Kind::AllReduce: return "all-reduce";
    case Kind::ReduceScatter: return "reduce-scatter";
    case Kind::AllGather: return "all-gather";
    case Kind::AllToAll: return "all-to-all";
  }
  return "?";
}

std::string_view to_string(CollectiveAlgorithm algorithm) {
  for (const Named& named : kAlgorithms) {
    if (named.algorithm == algorithm) return named.name;
  }
  return "?";
}

std::optional<CollectiveAlgorithm> parse_collective_algorithm(std::string_view text) {
  for (const Named& named : kAlgorithms) {
    if (named.name == text) return named.algorithm;
  }
  return std::nullopt;
}

uint64_t GroupSpan::size() const {
  uint64_t n = 1;
  for (size_t l = 0; l < members.size(); ++l) n *= members_at(l);
  return n;
}

uint64_t GroupSpan::members_at(size_t level) const {
  uint64_t n = 1;
  for (uint32_t m : members.at(level)) n *= m;
  return n;
}

std::vector<size_t> GroupSpan::spanned_levels() const {
  std::vector<size_t> levels;
  for (size_t l = 0; l < members.size(); ++l) {
    if (members_at(l) > 1) levels.push_back(l);
  }
  return levels;
}

double CollectiveCost::seconds() const {
  double total = fixed_seconds;
  for (const CollectivePhase& phase : phases) total += phase.seconds;
  return total;
}

bool collective_applies(const std::vector<LevelSpec>& levels, CollectiveKind kind, const GroupSpan& span,
                        CollectiveAlgorithm algorithm) {
  const bool reduction_or_gather = kind != Kind::AllToAll;
  const std::vector<size_t> spanned = span.spanned_levels();
  if (spanned.empty()) return reduction_or_gather == (algorithm != Algorithm::Direct);
  const LevelSpec& outer = levels[spanned.back()];
  switch (algorithm) {
    case Algorithm::Ring: return reduction_or_gather;
    case Algorithm::Hierarchical: return reduction_or_gather && spanned.size() >= 2;
    case Algorithm::Tree:
      return kind == Kind::AllReduce && spanned.size() >= 2 && outer.topology == Topology::Switch;
    case Algorithm::Torus: return reduction_or_gather && spanned.size() == 1 && outer.topology == Topology::Torus;
    case Algorithm::InSwitch:
      return (kind == Kind::AllReduce || kind == Kind::ReduceScatter) && spanned.size() == 1 &&
             outer.topology == Topology::Switch && outer.in_switch_reduction;
    case Algorithm::Direct: return kind == Kind::AllToAll;
  }
  return false;
}

CollectiveCost collective_cost(const std::vector<LevelSpec>& levels, CollectiveKind kind, const GroupSpan& span,
                               double bytes, CollectiveAlgorithm algorithm) {
  if (!collective_applies(levels, kind, span, algorithm)) {
    throw std::invalid_argument("the " + std::string(to_string(algorithm)) + " algorithm does not run this " +
                                std::string(to_string(kind)));
  }
  CollectiveCost cost;
  cost.algorithm = algorithm;
  const std::vector<size_t> spanned = span.spanned_levels();
  if (spanned.empty()) return cost;
  for (size_t l : spanned) cost.fixed_seconds = std::max(cost.fixed_seconds, levels[l].collective_latency_s);
  switch (algorithm) {
    case Algorithm::Ring: cost.phases = ring(levels, kind, span, bytes); break;
    case Algorithm::Tree: cost.phases = tree(levels, span, bytes); break;
    case Algorithm::Hierarchical: cost.phases = hierarchical(levels, kind, span, bytes); break;
    case Algorithm::Torus: cost.phases = torus(levels, kind, span, bytes); break;
    case Algorithm::InSwitch: cost.phases = in_switch(levels, kind, span, bytes); break;
    case Algorithm::Direct: cost.phases = direct(levels, span, bytes); break;
  }
  return cost;
}

TransferCost transfer_cost(const std::vector<LevelSpec>& levels, const std::vector<std::vector<uint32_t>>& from,
                           const std::vector<std::vector<uint32_t>>& to, double bytes) {
  TransferCost cost;
  for (size_t l = levels.size(); l-- > 0;) {
    if (from[l] == to[l]) continue;
    const LevelSpec& level = levels[l];
    cost.level = l;
    if (level.topology == Topology::Switch) {
      cost.hops = 1;
    } else {
      for (size_t d = 0; d < level.dims.size(); ++d) {
        const uint32_t apart = from[l][d] > to[l][d] ? from[l][d] - to[l][d] : to[l][d] - from[l][d];
        cost.hops += level.wraparound ? std::min(apart, level.dims[d] - apart) : apart;
      }
    }
    cost.seconds = level.collective_latency_s + cost.hops * level.link.latency_s + bytes / bandwidth(level);
    cost.link_bytes = bytes * cost.hops;
    break;
  }
  return cost;
}

}  // namespace tessel::arch
