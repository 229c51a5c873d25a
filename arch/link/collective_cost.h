// What a collective costs on a system's links, by algorithm (the time formulas; which
// algorithm runs is mapper/collective_plan's choice). A group of n members spans some levels
// of the system, and some dimensions of a torus level; each algorithm is a sequence of
// phases, each phase occupying some levels' links of every member for its time:
//   ring          one logical ring through all n members; 2(n-1) steps of S/n for an
//                 all-reduce, each as slow as the slowest level the ring crosses;
//   tree          across nodes: a chain inside each node and NCCL's double binary tree
//                 between nodes, 2 log2(nodes) steps, each member's node moving 2S;
//   hierarchical  reduce-scatter inside the innermost level, a ring across the rest on
//                 1/a of the data, all-gather inside again;
//   torus         dimension by dimension (reduce-scatter along x, then y on 1/x of the data,
//                 ..., all-gather back), both directions of a ring with wraparound;
//   in-switch     each member sends its buffer to the switch once and gets the sum back;
//   direct        all-to-all as every member sending to every other at once.
// A collective also pays its level's fixed latency once (the largest of the levels spanned).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/link/link_spec.h"

namespace tessel::arch {

enum class CollectiveKind { AllReduce, ReduceScatter, AllGather, AllToAll };
enum class CollectiveAlgorithm { Ring, Tree, Hierarchical, Torus, InSwitch, Direct };

std::string_view to_string(CollectiveKind kind);
std::string_view to_string(CollectiveAlgorithm algorithm);
// "ring", "tree", "hierarchical", "torus", "in-switch", "direct".
std::optional<CollectiveAlgorithm> parse_collective_algorithm(std::string_view text);

// The members of a group along each dimension of each level (1 where it does not spread).
struct GroupSpan {
  std::vector<std::vector<uint32_t>> members;  // [level][dimension]

  uint64_t size() const;
  uint64_t members_at(size_t level) const;  // along every dimension of `level` together
  std::vector<size_t> spanned_levels() const;
};

// The bytes one member's links at `level` (and along `dim` of a torus; every dimension when
// not given) send in a phase, spread over `links` of them (a torus ring's two directions).
struct LinkUse {
  size_t level = 0;
  std::optional<size_t> dim;
  double bytes = 0;
  double links = 1;
};

struct CollectivePhase {
  double seconds = 0;  // latencies included
  std::vector<LinkUse> uses;
};

struct CollectiveCost {
  CollectiveAlgorithm algorithm{};
  double fixed_seconds = 0;  // the collective's fixed latency
  std::vector<CollectivePhase> phases;
  double seconds() const;
};

// Whether `algorithm` can run `kind` over `span` on these levels (a tree across nodes only, a
// torus algorithm on one torus level, in-switch on one level whose switch reduces).
bool collective_applies(const std::vector<LevelSpec>& levels, CollectiveKind kind, const GroupSpan& span,
                        CollectiveAlgorithm algorithm);

// `bytes`: an all-reduce's or reduce-scatter's buffer on each member; an all-gather's shard each
// member adds; what each member sends in all in an all-to-all. A group of one costs nothing.
// Throws std::invalid_argument when the algorithm does not apply.
CollectiveCost collective_cost(const std::vector<LevelSpec>& levels, CollectiveKind kind, const GroupSpan& span,
                               double bytes, CollectiveAlgorithm algorithm);

// A message from one device to another: it crosses the outermost level where their positions
// differ (through its switch, or hop by hop along the torus), paying a latency a hop.
struct TransferCost {
  std::optional<size_t> level;  // none: the same device
  uint32_t hops = 0;
  double seconds = 0;
  double link_bytes = 0;  // bytes times hops
};

TransferCost transfer_cost(const std::vector<LevelSpec>& levels, const std::vector<std::vector<uint32_t>>& from,
                           const std::vector<std::vector<uint32_t>>& to, double bytes);

}  // namespace tessel::arch
