// The serving scheduler (sim/serving/scheduler.h) on its own: what each iteration batches under
// continuous and static batching, chunked prefill within the token budget, and what a full KV
// cache does (requests wait, running ones are preempted and recomputed).
#include <gtest/gtest.h>

#include <vector>

#include "sim/serving/scheduler.h"
#include "workloads/input_error.h"

namespace tessel::sim {
namespace {

std::vector<workloads::Request> requests_of(const std::vector<std::pair<uint64_t, uint64_t>>& lengths) {
  std::vector<workloads::Request> requests;
  for (const auto& [prompt, output] : lengths) requests.push_back({requests.size(), 0, prompt, output});
  return requests;
}

SchedulerSettings settings(uint64_t budget, uint64_t blocks) {
  SchedulerSettings s;
  s.token_budget = budget;
  s.kv_blocks = blocks;
  s.block_size = 16;
  return s;
}

TEST(ServingScheduler, ChunkedPrefillSplitsALongPromptAndSamplesAtItsEnd) {
  const auto requests = requests_of({{5000, 3}});
  Scheduler scheduler(settings(2048, 1000), requests);
  scheduler.arrive(0);
  std::vector<uint64_t> chunks;
  for (int i = 0; i < 3; ++i) {
    const Iteration it = scheduler.schedule();
    ASSERT_EQ(it.chunks.size(), 1u);
    chunks.push_back(it.chunks[0].new_tokens);
    EXPECT_EQ(it.chunks[0].samples, i == 2) << "only the chunk that ends the prompt samples";
    EXPECT_EQ(it.chunks[0].cached, 2048u * i);
    scheduler.complete(it);
  }
  EXPECT_EQ(chunks, (std::vector<uint64_t>{2048, 2048, 904}));
  EXPECT_EQ(scheduler.generated(0), 1u);
  // Then decode steps, one token over the cache each, until the third token finishes it.
  Iteration decode = scheduler.schedule();
  ASSERT_EQ(decode.chunks.size(), 1u);
  EXPECT_EQ(decode.chunks[0].new_tokens, 1u);
  EXPECT_EQ(decode.chunks[0].cached, 5000u);
  EXPECT_TRUE(scheduler.complete(decode).empty());
  decode = scheduler.schedule();
  EXPECT_EQ(scheduler.complete(decode), std::vector<size_t>{0});
  EXPECT_EQ(scheduler.used_blocks(), 0u) << "a finished request frees its blocks";
}

TEST(ServingScheduler, DecodeTokensComeFirstAndPromptsFillTheBudgetLeft) {
  const auto requests = requests_of({{100, 10}, {100, 10}, {3000, 10}});
  Scheduler scheduler(settings(512, 1000), requests);
  scheduler.arrive(0);
  scheduler.arrive(1);
  scheduler.complete(scheduler.schedule());  // both prompts in one iteration
  scheduler.arrive(2);
  const Iteration it = scheduler.schedule();
  ASSERT_EQ(it.chunks.size(), 3u);
  EXPECT_EQ(it.decode_tokens(), 2u);
  EXPECT_EQ(it.chunks[2].new_tokens, 510u) << "the budget less the two decode tokens";
  EXPECT_EQ(it.prefill_tokens(), 510u);
  const workloads::BatchStep step = it.step();
  ASSERT_EQ(step.groups.size(), 2u);
  EXPECT_EQ(step.groups[0].batch, 2u);
  EXPECT_EQ(step.groups[0].cached_len(), 100u);
  EXPECT_EQ(step.groups[1].q_len, 510u);
  EXPECT_EQ(step.sampled, 2u) << "the prompt's first chunk samples nothing";
}

TEST(ServingScheduler, DecodeTokensOverUnequalCachesAreOneGroupAtTheirMeanLength) {
  Iteration it;
  it.chunks = {{0, 1, 100, true}, {1, 1, 201, true}, {2, 300, 0, true}, {3, 300, 0, true}, {4, 7, 50, false}};
  const workloads::BatchStep step = it.step();
  ASSERT_EQ(step.groups.size(), 3u);
  EXPECT_EQ(step.groups[0].batch, 2u);
  EXPECT_EQ(step.groups[0].cached_len(), 151u) << "(100 + 201) / 2, rounded";
  EXPECT_EQ(step.groups[1].batch, 1u) << "prompt chunks of equal sizes are one group, in order of size";
  EXPECT_EQ(step.groups[1].q_len, 7u);
  EXPECT_EQ(step.groups[2].batch, 2u);
  EXPECT_EQ(step.sampled, 4u);
  EXPECT_EQ(workloads::batch_tokens(step.groups), 609u);
}

TEST(ServingScheduler, AFullCacheKeepsRequestsWaiting) {
  // 10 blocks of 16 tokens: the first prompt takes 7, the second needs 7 more.
  const auto requests = requests_of({{100, 50}, {100, 50}});
  Scheduler scheduler(settings(4096, 10), requests);
  scheduler.arrive(0);
  scheduler.arrive(1);
  const Iteration it = scheduler.schedule();
  ASSERT_EQ(it.chunks.size(), 1u);
  EXPECT_EQ(it.limit, AdmissionLimit::KvCache);
  EXPECT_EQ(scheduler.waiting(), 1u);
  EXPECT_EQ(scheduler.used_blocks(), 7u);
}

TEST(ServingScheduler, ARunningRequestWithoutABlockPreemptsTheLatestAdmitted) {
  // Two prompts of 32 tokens fill 4 blocks of 16 exactly; the first decode token of each needs a
  // fifth block: the later request is preempted, its cache freed, and waits first in line.
  const auto requests = requests_of({{32, 20}, {32, 20}});
  Scheduler scheduler(settings(4096, 5), requests);
  scheduler.arrive(0);
  scheduler.arrive(1);
  scheduler.complete(scheduler.schedule());
  Iteration it = scheduler.schedule();
  ASSERT_EQ(it.chunks.size(), 1u);
  EXPECT_EQ(it.chunks[0].request, 0u);
  EXPECT_EQ(it.preempted, std::vector<size_t>{1});
  EXPECT_EQ(it.limit, AdmissionLimit::KvCache);
  EXPECT_EQ(scheduler.waiting(), 1u);
  scheduler.complete(it);
  // Request 0 runs alone to its end; then request 1 recomputes its prompt and its first token.
  while (scheduler.running() > 0) scheduler.complete(scheduler.schedule());
  it = scheduler.schedule();
  ASSERT_EQ(it.chunks.size(), 1u);
  EXPECT_EQ(it.chunks[0].request, 1u);
  EXPECT_EQ(it.chunks[0].new_tokens, 33u) << "its prompt and the token it had generated";
  EXPECT_EQ(it.chunks[0].cached, 0u);
}

TEST(ServingScheduler, StaticBatchingAdmitsNoneUntilTheBatchHasFinished) {
  const auto requests = requests_of({{64, 2}, {64, 4}, {64, 2}});
  SchedulerSettings s = settings(4096, 1000);
  s.policy = SchedulerSettings::Static;
  Scheduler scheduler(s, requests);
  scheduler.arrive(0);
  scheduler.arrive(1);
  Iteration it = scheduler.schedule();
  EXPECT_EQ(it.chunks.size(), 2u);
  scheduler.complete(it);
  scheduler.arrive(2);
  for (int i = 0; i < 3; ++i) {
    it = scheduler.schedule();
    EXPECT_EQ(it.limit, AdmissionLimit::StaticBatch);
    for (const ScheduledChunk& chunk : it.chunks) EXPECT_NE(chunk.request, 2u);
    scheduler.complete(it);
  }
  EXPECT_EQ(scheduler.running(), 0u);
  it = scheduler.schedule();
  ASSERT_EQ(it.chunks.size(), 1u);
  EXPECT_EQ(it.chunks[0].request, 2u);
}

TEST(ServingScheduler, ASpeculativeDecodeStepVerifiesItsDraftsAndKeepsThoseAccepted) {
  const auto requests = requests_of({{40, 8}});
  SchedulerSettings s = settings(4096, 1000);
  s.draft_tokens = 4;
  Scheduler scheduler(s, requests);
  scheduler.arrive(0);
  scheduler.complete(scheduler.schedule());  // the prompt: its first token
  Iteration it = scheduler.schedule();
  ASSERT_EQ(it.chunks.size(), 1u);
  EXPECT_TRUE(it.chunks[0].decode);
  EXPECT_EQ(it.chunks[0].new_tokens, 5u) << "its last token and 4 drafts";
  EXPECT_EQ(it.step().sampled, 5u) << "every verified position's logits";
  EXPECT_EQ(it.step().groups.at(0).q_len, 5u);
  it.chunks[0].accepted = 2;
  scheduler.complete(it);
  EXPECT_EQ(scheduler.generated(0), 4u) << "1 + the 2 drafts accepted + the token sampled after them";
  // 4 of 8 tokens left: the next step drafts only 3 (no draft past the output).
  it = scheduler.schedule();
  EXPECT_EQ(it.chunks[0].cached, 43u) << "the prompt, the first token and the 2 accepted drafts";
  EXPECT_EQ(it.chunks[0].new_tokens, 4u);
  it.chunks[0].accepted = 3;
  EXPECT_EQ(scheduler.complete(it), std::vector<size_t>{0});
  EXPECT_EQ(scheduler.generated(0), 8u);
}

TEST(ServingScheduler, ARequestLargerThanTheCacheIsRefused) {
  const auto requests = requests_of({{1000, 100}});
  EXPECT_THROW(Scheduler(settings(2048, 10), requests), workloads::InputError);
}

}  // namespace
}  // namespace tessel::sim
