// Micro-batches ping-ponging between paired devices: the schedule of their task chains, and how
// an iteration's sequences are dealt into micro-batches.
#include <gtest/gtest.h>

#include <vector>

#include "sim/serving/ping_pong.h"

namespace tessel {
namespace {

using sim::PairResource;
using sim::PairTask;

constexpr PairResource kDevice = PairResource::Device;
constexpr PairResource kPaired = PairResource::Paired;
constexpr PairResource kLink = PairResource::Link;

TEST(PingPong, OneChainTakesTheSumOfItsTasks) {
  EXPECT_DOUBLE_EQ(sim::ping_pong_seconds({{{kDevice, 2}, {kLink, 0.5}, {kPaired, 1}, {kLink, 0.5}, {kDevice, 3}}}),
                   7.0);
  EXPECT_DOUBLE_EQ(sim::ping_pong_seconds({}), 0.0);
}

// Two layers of (device 1 s, paired 1 s) for two micro-batches: while the paired device works
// on the first, the device works on the second. 0-1 device A, 1-2 paired A and device B,
// 2-3 device A and paired B, 3-4 paired A and device B, 4-5 paired B: 5 s where one after the
// other takes 8, and no less than the 4 s each device is busy.
TEST(PingPong, TwoMicroBatchesOverlapOnTheTwoDevices) {
  const std::vector<PairTask> chain = {{kDevice, 1}, {kPaired, 1}, {kDevice, 1}, {kPaired, 1}};
  EXPECT_DOUBLE_EQ(sim::ping_pong_seconds({chain, chain}), 5.0);
}

// A shared resource runs one task at a time: two chains wholly on the device take their sum;
// on different resources they overlap fully.
TEST(PingPong, AResourceRunsOneTaskAtATime) {
  EXPECT_DOUBLE_EQ(sim::ping_pong_seconds({{{kDevice, 2}}, {{kDevice, 3}}}), 5.0);
  EXPECT_DOUBLE_EQ(sim::ping_pong_seconds({{{kDevice, 2}}, {{kPaired, 3}}}), 3.0);
}

// Whatever the chains, the schedule takes no less than its busiest resource's work and its
// longest chain, and no more than every task one after another.
TEST(PingPong, TheScheduleLiesBetweenItsBounds) {
  std::vector<std::vector<PairTask>> chains(3);
  double busy[3] = {0, 0, 0};
  double serial = 0;
  double longest = 0;
  for (size_t c = 0; c < chains.size(); ++c) {
    double chain_seconds = 0;
    for (int t = 0; t < 12; ++t) {
      const auto resource = static_cast<PairResource>((t + static_cast<int>(c)) % 3);
      const double seconds = 0.1 + 0.37 * static_cast<double>((t * 7 + c * 3) % 5);
      chains[c].push_back({resource, seconds});
      busy[static_cast<size_t>(resource)] += seconds;
      chain_seconds += seconds;
    }
    serial += chain_seconds;
    longest = std::max(longest, chain_seconds);
  }
  const double seconds = sim::ping_pong_seconds(chains);
  EXPECT_GE(seconds + 1e-12, std::max({busy[0], busy[1], busy[2], longest}));
  EXPECT_LE(seconds, serial + 1e-12);
}

// Every sequence of every group lands in one micro-batch, as evenly as whole sequences allow,
// and the sampled tokens are all kept, none past a micro-batch's new tokens.
TEST(PingPong, SplittingAStepKeepsEverySequenceAndSampledToken) {
  workloads::BatchStep step;
  step.groups = {workloads::Phase::prefill(3, 100), workloads::Phase::decode(4, 50), workloads::Phase::decode(1, 9)};
  step.sampled = 3 + 4 + 1;
  const std::vector<workloads::BatchStep> parts = sim::split_batch_step(step, 2);
  ASSERT_EQ(parts.size(), 2u);
  uint64_t sampled = 0;
  uint64_t sequences[2] = {0, 0};
  uint64_t prefills = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    for (const workloads::Phase& group : parts[i].groups) {
      sequences[i] += group.batch;
      if (group.kind == workloads::Phase::Prefill) prefills += group.batch;
    }
    EXPECT_LE(parts[i].sampled, workloads::batch_tokens(parts[i].groups));
    sampled += parts[i].sampled;
  }
  EXPECT_EQ(sequences[0] + sequences[1], 8u);
  EXPECT_EQ(sequences[0], sequences[1]);  // 2 + 2 + 0 and 1 + 2 + 1
  EXPECT_EQ(prefills, 3u);
  EXPECT_EQ(sampled, step.sampled);
  // Fewer sequences than micro-batches: one a sequence.
  EXPECT_EQ(sim::split_batch_step(step, 64).size(), 8u);
}

}  // namespace
}  // namespace tessel
