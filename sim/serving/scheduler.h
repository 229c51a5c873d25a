// How a serving engine forms its batches, iteration by iteration: continuous batching (as vLLM
// and Orca do: requests join and leave the running batch at every iteration, decode tokens
// first, then prompt chunks within a token budget) or static batching (a batch is formed when
// the last one has finished). Requests hold a paged KV cache: blocks of block_size tokens from
// a fixed pool; a request waits when the pool is full, and a running one is preempted (its
// blocks freed, its tokens recomputed later, as vLLM's recompute preemption) when a running
// request's next token finds no block. Knows nothing of hardware: a run costs each iteration.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "workloads/requests.h"
#include "workloads/transformer.h"

namespace tessel::sim {

struct SchedulerSettings {
  enum Policy { Continuous, Static };
  Policy policy = Continuous;
  uint64_t max_batch = 256;      // sequences running at once (vLLM's max_num_seqs)
  uint64_t token_budget = 2048;  // new tokens an iteration (vLLM's max_num_batched_tokens)
  bool chunked_prefill = true;   // a prompt longer than the budget left is split over iterations
  uint64_t block_size = 16;      // tokens a KV block holds
  uint64_t kv_blocks = 0;        // the pool
  // Speculative decoding: draft tokens a decode step verifies beside the last token (0: none).
  uint64_t draft_tokens = 0;
};

// "continuous" or "static".
std::string policy_name(SchedulerSettings::Policy policy);

// What kept a waiting request out of an iteration.
enum class AdmissionLimit { None, KvCache, BatchSize, TokenBudget, StaticBatch };
std::string limit_name(AdmissionLimit limit);

// One request's share of an iteration: `new_tokens` after `cached` ones in its cache; it
// samples a token when they finish what it knows (its prompt, and what it generated before
// a preemption). A decode step's new tokens are its last token and, speculating, the drafts
// it verifies; it keeps the drafts accepted (set before the iteration completes) and samples
// one token more.
struct ScheduledChunk {
  size_t request = 0;
  uint64_t new_tokens = 0;
  uint64_t cached = 0;
  bool samples = false;
  bool decode = false;
  uint64_t accepted = 0;
};

struct Iteration {
  std::vector<ScheduledChunk> chunks;
  std::vector<size_t> preempted;  // requests sent back to wait, their cache freed
  AdmissionLimit limit = AdmissionLimit::None;

  // The chunks as a batch step: decode steps (and one-token chunks) as a group for each number
  // of new tokens, at their mean cache length (a paged-attention kernel's work and bytes are
  // the sum over its sequences), prompt chunks grouped by equal sizes. A speculative decode
  // step computes the logits of every token it verifies.
  workloads::BatchStep step() const;
  uint64_t prefill_tokens() const;
  uint64_t decode_tokens() const;
};

class Scheduler {
 public:
  // Throws InputError for a request whose prompt and output need more blocks than the pool.
  Scheduler(SchedulerSettings settings, const std::vector<workloads::Request>& requests);

  // The request has arrived and waits.
  void arrive(size_t request);
  // The request arrives with `cached` tokens already in a cache that came with it (its prompt,
  // prefilled elsewhere) and `generated` output tokens sampled; it waits for blocks to hold them.
  void arrive_prefilled(size_t request, uint64_t cached, uint64_t generated);
  // The next iteration from the running and waiting requests; no chunks when none can run.
  Iteration schedule();
  // The iteration ran: each chunk's tokens are in its cache (a decode step's last token and
  // the drafts accepted), and a sampling chunk gave its request a token (a decode step one
  // more than the drafts accepted). Returns the requests that finished, whose blocks are freed.
  std::vector<size_t> complete(const Iteration& iteration);

  uint64_t generated(size_t request) const { return sequences_[request].generated; }
  uint64_t used_blocks() const { return settings_.kv_blocks - free_blocks_; }
  size_t waiting() const { return waiting_.size(); }
  size_t running() const { return running_.size(); }
  const SchedulerSettings& settings() const { return settings_; }

 private:
  struct Sequence {
    uint64_t cached = 0;     // tokens whose K and V are in the cache
    uint64_t generated = 0;  // output tokens sampled
    uint64_t blocks = 0;     // blocks held
  };
  uint64_t known(size_t request) const;  // prompt and generated tokens
  // Past its prompt: only its last token is not in the cache.
  bool decoding(size_t request) const;
  // A decode step's new tokens: the last, and the drafts that fit the output left.
  uint64_t decode_tokens(size_t request) const;
  uint64_t blocks_for(uint64_t tokens) const;
  bool grow(size_t request, uint64_t tokens);  // blocks for `tokens` in the cache, if free
  void release(size_t request);
  Iteration continuous();
  Iteration static_batch();

  SchedulerSettings settings_;
  const std::vector<workloads::Request>& requests_;
  std::vector<Sequence> sequences_;
  std::deque<size_t> waiting_;  // in order of arrival, preempted requests first
  std::vector<size_t> running_;  // in order of admission
  uint64_t free_blocks_ = 0;
};

}  // namespace tessel::sim
