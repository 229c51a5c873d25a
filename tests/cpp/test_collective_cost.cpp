// Collectives on a system's links: the ring as calibrated on the A100 node, what each
// algorithm moves and when it wins, and a message's route.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "arch/config_system.h"
#include "arch/link/collective_cost.h"
#include "arch/load_arch.h"
#include "mapper/collective_plan.h"

namespace tessel::arch {
namespace {

const std::string kSource = TESSEL_SOURCE_DIR;

SystemSpec system(const std::string& file) { return load_system(kSource + "/configs/systems/" + file); }

// A group spreading `members` along each dimension of each level, e.g. {{8}} or {{8}, {2}}.
GroupSpan span(std::vector<std::vector<uint32_t>> members) { return {std::move(members)}; }

double seconds(const SystemSpec& s, CollectiveKind kind, const GroupSpan& group, double bytes, CollectiveAlgorithm a) {
  return collective_cost(s.levels, kind, group, bytes, a).seconds();
}

// The A100 node's ring is the calibrated one: a fixed cost, a latency per step and 2(n-1)/n of
// the buffer at the links' achievable bandwidth.
TEST(CollectiveCost, A100NodeRingIsTheCalibratedFormula) {
  const SystemSpec node = node_of(load_arch(kSource + "/configs/arch/a100_sxm.yaml"));
  const LevelSpec& nvlink = node.levels.front();
  for (uint32_t n : {2u, 4u, 8u}) {
    const double bytes = 256e6;
    const double expected = nvlink.collective_latency_s + 2.0 * (n - 1) * nvlink.link.latency_s +
                            2.0 * (n - 1) / n * bytes / nvlink.link.achievable_bytes_per_second();
    EXPECT_NEAR(seconds(node, CollectiveKind::AllReduce, span({{n}}), bytes, CollectiveAlgorithm::Ring), expected,
                1e-12 * expected)
        << n;
  }
  EXPECT_EQ(seconds(node, CollectiveKind::AllReduce, span({{1}}), 1e9, CollectiveAlgorithm::Ring), 0.0);
}

// A ring all-reduce of n bytes over p devices moves 2(p-1)/p n out of each device.
TEST(CollectiveCost, RingAllReduceMovesTwoPMinusOneOverPOfTheBuffer) {
  const SystemSpec node = system("dgx_a100.yaml");
  for (uint32_t p : {2u, 4u, 8u}) {
    const CollectiveCost cost =
        collective_cost(node.levels, CollectiveKind::AllReduce, span({{p}}), 1e9, CollectiveAlgorithm::Ring);
    ASSERT_EQ(cost.phases.size(), 1u);
    EXPECT_NEAR(cost.phases[0].uses.at(0).bytes, 2.0 * (p - 1) / p * 1e9, 1e-3) << p;
  }
}

// Across b nodes of a GPUs, a flat ring's members each send 2(n-1)/n of their share of the
// buffer (S/a) over the network; the hierarchical algorithm reduces inside each node first and
// sends 2(b-1)/b of it: on two nodes, half. Where the network is the slow level it wins large
// messages, though its steps inside the nodes come on top. Every ring step also waits the
// network's latency, so the ring loses small messages too.
TEST(CollectiveCost, HierarchicalBeatsAFlatRingAcrossNodesForLargeMessages) {
  SystemSpec cluster = system("h100_cluster_4x8.yaml");
  cluster.levels[1].dims = {2};
  cluster.levels[1].link.bytes_per_second = 12.5e9;  // a 100 Gb/s port a GPU
  const GroupSpan all = span({{8}, {2}});
  const double large = 1e9;
  const double ring = seconds(cluster, CollectiveKind::AllReduce, all, large, CollectiveAlgorithm::Ring);
  const double hierarchical = seconds(cluster, CollectiveKind::AllReduce, all, large, CollectiveAlgorithm::Hierarchical);
  EXPECT_LT(hierarchical, ring);
  EXPECT_LT(seconds(cluster, CollectiveKind::AllReduce, all, 1e3, CollectiveAlgorithm::Hierarchical),
            seconds(cluster, CollectiveKind::AllReduce, all, 1e3, CollectiveAlgorithm::Ring));
  // The network part alone is in the ratio of the bytes each sends over it.
  const CollectiveCost flat = collective_cost(cluster.levels, CollectiveKind::AllReduce, all, large,
                                              CollectiveAlgorithm::Ring);
  EXPECT_NEAR(flat.phases.at(0).uses.at(1).bytes, 2.0 * 15 / 16 * large / 8, 1e-3);
  const CollectiveCost two_level = collective_cost(cluster.levels, CollectiveKind::AllReduce, all, large,
                                                   CollectiveAlgorithm::Hierarchical);
  EXPECT_NEAR(two_level.phases.at(1).uses.at(0).bytes, 2.0 * 1 / 2 * large / 8, 1e-3);
  // Inside one node there is nothing to arrange hierarchically.
  EXPECT_FALSE(collective_applies(cluster.levels, CollectiveKind::AllReduce, span({{8}, {1}}),
                                  CollectiveAlgorithm::Hierarchical));
}

// NVLink SHARP sums in the switch: each GPU sends its buffer once, where a ring sends 2(n-1)/n
// of it; with 8 GPUs it wins large all-reduces, and applies only where the switch reduces.
TEST(CollectiveCost, InSwitchReductionSendsTheBufferOnce) {
  const SystemSpec h100 = system("dgx_h100.yaml");
  const CollectiveCost in_switch =
      collective_cost(h100.levels, CollectiveKind::AllReduce, span({{8}}), 1e9, CollectiveAlgorithm::InSwitch);
  EXPECT_NEAR(in_switch.phases.at(0).uses.at(0).bytes, 1e9, 1e-3);
  EXPECT_EQ(mapper::plan_collective(h100.levels, CollectiveKind::AllReduce, span({{8}}), 1e9).algorithm,
            CollectiveAlgorithm::InSwitch);
  EXPECT_FALSE(collective_applies(system("dgx_a100.yaml").levels, CollectiveKind::AllReduce, span({{8}}),
                                  CollectiveAlgorithm::InSwitch));
}

// On a torus ring with wraparound, both directions carry half the data: the dimension-ordered
// algorithm's bandwidth term is half the one-way ring's.
TEST(CollectiveCost, TorusRingsUseBothDirections) {
  const SystemSpec slice = system("tpu_v4_4x4x4.yaml");
  const GroupSpan x = span({{4, 1, 1}});
  const double big = 4e9, small = 4e6;  // the latencies cancel in the difference
  const auto bandwidth_part = [&](CollectiveAlgorithm a) {
    return seconds(slice, CollectiveKind::AllReduce, x, big, a) - seconds(slice, CollectiveKind::AllReduce, x, small, a);
  };
  EXPECT_NEAR(bandwidth_part(CollectiveAlgorithm::Torus), 0.5 * bandwidth_part(CollectiveAlgorithm::Ring),
              1e-9 * bandwidth_part(CollectiveAlgorithm::Ring));
  // Two dimensions: a reduce-scatter along x leaves a quarter of the data for y.
  const CollectiveCost xy =
      collective_cost(slice.levels, CollectiveKind::AllReduce, span({{4, 4, 1}}), big, CollectiveAlgorithm::Torus);
  ASSERT_EQ(xy.phases.size(), 4u);  // x, y reduce-scatter; y, x all-gather
  EXPECT_NEAR(xy.phases[1].uses.at(0).bytes, xy.phases[0].uses.at(0).bytes / 4, 1e-6);
}

// A tree across many nodes pays 2 log2(nodes) latencies where a ring pays 2(n-1): small
// messages over 32 nodes go faster by tree.
TEST(CollectiveCost, TreeWinsSmallMessagesAcrossManyNodes) {
  SystemSpec cluster = system("h100_cluster_4x8.yaml");
  cluster.levels[1].dims = {32};
  const GroupSpan all = span({{8}, {32}});
  EXPECT_LT(seconds(cluster, CollectiveKind::AllReduce, all, 1e4, CollectiveAlgorithm::Tree),
            seconds(cluster, CollectiveKind::AllReduce, all, 1e4, CollectiveAlgorithm::Ring));
  EXPECT_FALSE(collective_applies(cluster.levels, CollectiveKind::AllReduce, span({{8}, {1}}),
                                  CollectiveAlgorithm::Tree));
}

// An all-to-all keeps 1/n of each device's data and sends the rest.
TEST(CollectiveCost, AllToAllSendsAllButItsOwnShare) {
  const SystemSpec node = system("dgx_a100.yaml");
  const CollectiveCost cost =
      collective_cost(node.levels, CollectiveKind::AllToAll, span({{8}}), 8e6, CollectiveAlgorithm::Direct);
  EXPECT_NEAR(cost.phases.at(0).uses.at(0).bytes, 7e6, 1e-6);
  EXPECT_THROW(collective_cost(node.levels, CollectiveKind::AllToAll, span({{8}}), 8e6, CollectiveAlgorithm::Ring),
               std::invalid_argument);
}

TEST(CollectiveCost, APinnedAlgorithmThatCannotRunIsRefused) {
  const SystemSpec node = system("dgx_a100.yaml");
  try {
    mapper::plan_collective(node.levels, CollectiveKind::AllReduce, span({{8}}), 1e6, CollectiveAlgorithm::Torus);
    FAIL() << "no torus in a switched node";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("--collective torus"), std::string::npos) << error.what();
  }
  // An all-to-all is direct whatever the reductions are pinned to.
  EXPECT_EQ(mapper::plan_collective(node.levels, CollectiveKind::AllToAll, span({{8}}), 1e6, CollectiveAlgorithm::Ring)
                .algorithm,
            CollectiveAlgorithm::Direct);
}

// A message crosses the outermost level where the two devices differ: a switch in one hop, a
// torus hop by hop the shorter way round.
TEST(CollectiveCost, TransfersTakeTheShortestRoute) {
  const SystemSpec slice = system("tpu_v4_4x4x4.yaml");
  EXPECT_EQ(transfer_cost(slice.levels, slice.coordinates(0), slice.coordinates(3), 1e6).hops, 1u);  // wraps
  EXPECT_EQ(transfer_cost(slice.levels, slice.coordinates(0), slice.coordinates(2 + 4 * 2 + 16 * 1), 1e6).hops, 5u);
  const SystemSpec cluster = system("h100_cluster_4x8.yaml");
  const TransferCost across = transfer_cost(cluster.levels, cluster.coordinates(3), cluster.coordinates(11), 1e6);
  EXPECT_EQ(across.level, std::optional<size_t>(1));
  EXPECT_EQ(across.hops, 1u);
  EXPECT_FALSE(transfer_cost(cluster.levels, cluster.coordinates(3), cluster.coordinates(3), 1e6).level);
}

}  // namespace
}  // namespace tessel::arch
