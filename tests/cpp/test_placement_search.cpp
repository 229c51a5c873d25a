// The search over serving placements (sim/serving/placement_search.h): which placements it
// tries on a node, that it ranks them by goodput per device, and that one the model does not
// fit is ranked last with the reason.
#include <gtest/gtest.h>

#include <string>

#include "arch/config_system.h"
#include "sim/serving/placement_search.h"
#include "workloads/model_config.h"

namespace tessel::sim {
namespace {

const arch::SystemSpec& dgx_a100() {
  static const arch::SystemSpec system =
      arch::load_system(std::string(TESSEL_SOURCE_DIR) + "/configs/systems/dgx_a100.yaml");
  return system;
}

TEST(PlacementSearch, TriesEveryWidthItsReplicasAndEverySplitOfANode) {
  const std::vector<ServePlacement> candidates = placement_candidates(dgx_a100(), workloads::model_preset("llama2-7b"));
  // Widths 1, 2, 4, 8; tp 1 as 2, 4 and 8 replicas, tp 2 as 2 and 4, tp 4 as 2; and the nine
  // (prompts, decoding) pairs of 1, 2 and 4 within 8 GPUs.
  ASSERT_EQ(candidates.size(), 19u);
  for (const ServePlacement& p : candidates) EXPECT_LE(p.devices(), 8u) << p.text();
  EXPECT_EQ(candidates[3].text(), "tp 8");
  EXPECT_EQ(candidates[6].text(), "tp 1 x 8 replicas");
  EXPECT_EQ(candidates[6].devices(), 8u);
  EXPECT_EQ(candidates[9].text(), "tp 4 x 2 replicas");
  EXPECT_EQ(candidates.back().text(), "prefill tp 4 + decode tp 4");
}

TEST(PlacementSearch, RanksByGoodputPerDeviceAndPutsWhatCannotServeLast) {
  // GPUs giving 15% of their memory to the model: Llama-2-7B's 13.5 GB of weights fit only when
  // two or more share them.
  ServeLoad load;
  for (uint64_t i = 0; i < 12; ++i) load.requests.push_back({i, 0.05 * static_cast<double>(i), 200, 8});
  ServeSettings settings;
  settings.memory_fraction = 0.15;
  ServiceObjectives objectives;
  objectives.ttft_s = 0.5;
  const std::vector<PlacementOutcome> outcomes =
      search_placements(dgx_a100(), workloads::model_preset("llama2-7b"), load, settings, RunSettings{}, objectives);
  ASSERT_EQ(outcomes.size(), 19u);
  size_t failed = 0;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const PlacementOutcome& o = outcomes[i];
    if (!o.error.empty()) {
      ++failed;
      EXPECT_NE(o.error.find("no room for a KV cache"), std::string::npos) << o.error;
      continue;
    }
    EXPECT_EQ(failed, 0u) << "a placement that serves ranks above every one that cannot";
    EXPECT_NEAR(o.goodput_per_device, *o.summary.goodput_requests_per_s / static_cast<double>(o.placement.devices()),
                1e-12);
    if (i > 0) {
      EXPECT_LE(o.goodput_per_device, outcomes[i - 1].goodput_per_device) << o.placement.text();
    }
  }
  // tp 1 alone and as replicas (2, 4, 8), and every split with a group of one GPU (1 + 1, 1 + 2,
  // 1 + 4, 2 + 1, 4 + 1).
  EXPECT_EQ(failed, 9u);
}

}  // namespace
}  // namespace tessel::sim
