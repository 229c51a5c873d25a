#include "sim/serving/scheduler.h"

#include <algorithm>
#include <map>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::sim {

std::string policy_name(SchedulerSettings::Policy policy) {
  return policy == SchedulerSettings::Continuous ? "continuous" : "static";
}

std::string limit_name(AdmissionLimit limit) {
  switch (limit) {
    case AdmissionLimit::None: return "none";
    case AdmissionLimit::KvCache: return "kv_cache";
    case AdmissionLimit::BatchSize: return "max_batch";
    case AdmissionLimit::TokenBudget: return "token_budget";
    case AdmissionLimit::StaticBatch: return "static_batch";
  }
  return "unknown";
}

workloads::BatchStep Iteration::step() const {
  workloads::BatchStep step;
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> decodes;  // new tokens → (sequences, cached)
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> prompts;   // (new tokens, cached) → sequences
  for (const ScheduledChunk& chunk : chunks) {
    if (chunk.samples) step.sampled += chunk.decode ? chunk.new_tokens : 1;
    if (chunk.decode || chunk.new_tokens == 1) {
      auto& [sequences, cached] = decodes[chunk.new_tokens];
      ++sequences;
      cached += chunk.cached;
    } else {
      ++prompts[{chunk.new_tokens, chunk.cached}];
    }
  }
  for (const auto& [tokens, group] : decodes) {
    const auto& [sequences, cached] = group;
    const uint64_t mean = (cached + sequences / 2) / sequences;
    step.groups.push_back({workloads::Phase::Decode, sequences, tokens, mean + tokens});
  }
  for (const auto& [size, sequences] : prompts) {
    step.groups.push_back({workloads::Phase::Prefill, sequences, size.first, size.first + size.second});
  }
  return step;
}

uint64_t Iteration::prefill_tokens() const {
  uint64_t tokens = 0;
  for (const ScheduledChunk& chunk : chunks) tokens += chunk.decode || chunk.new_tokens == 1 ? 0 : chunk.new_tokens;
  return tokens;
}

uint64_t Iteration::decode_tokens() const {
  uint64_t tokens = 0;
  for (const ScheduledChunk& chunk : chunks) tokens += chunk.decode || chunk.new_tokens == 1 ? chunk.new_tokens : 0;
  return tokens;
}

Scheduler::Scheduler(SchedulerSettings settings, const std::vector<workloads::Request>& requests)
    : settings_(settings), requests_(requests), sequences_(requests.size()), free_blocks_(settings.kv_blocks) {
  if (settings_.max_batch == 0 || settings_.token_budget == 0 || settings_.block_size == 0) {
    throw workloads::InputError("the batch limit, the token budget and the block size must be at least 1");
  }
  for (const workloads::Request& request : requests_) {
    const uint64_t needed = blocks_for(request.prompt_tokens + request.output_tokens);
    if (needed > settings_.kv_blocks) {
      throw workloads::InputError("request " + std::to_string(request.id) + " (" +
                                  std::to_string(request.prompt_tokens) + " prompt and " +
                                  std::to_string(request.output_tokens) + " output tokens) needs " +
                                  std::to_string(needed) + " KV blocks of " + std::to_string(settings_.block_size) +
                                  " tokens; the cache holds " + std::to_string(settings_.kv_blocks));
    }
  }
}

uint64_t Scheduler::known(size_t request) const {
  return requests_[request].prompt_tokens + sequences_[request].generated;
}

bool Scheduler::decoding(size_t request) const {
  return sequences_[request].generated > 0 && known(request) - sequences_[request].cached == 1;
}

uint64_t Scheduler::decode_tokens(size_t request) const {
  const uint64_t left = requests_[request].output_tokens - sequences_[request].generated;
  return 1 + std::min(settings_.draft_tokens, left - 1);
}

uint64_t Scheduler::blocks_for(uint64_t tokens) const {
  return (tokens + settings_.block_size - 1) / settings_.block_size;
}

bool Scheduler::grow(size_t request, uint64_t tokens) {
  Sequence& sequence = sequences_[request];
  const uint64_t needed = blocks_for(tokens);
  if (needed <= sequence.blocks) return true;
  if (needed - sequence.blocks > free_blocks_) return false;
  free_blocks_ -= needed - sequence.blocks;
  sequence.blocks = needed;
  return true;
}

void Scheduler::release(size_t request) {
  free_blocks_ += sequences_[request].blocks;
  sequences_[request].blocks = 0;
}

void Scheduler::arrive(size_t request) { waiting_.push_back(request); }

void Scheduler::arrive_prefilled(size_t request, uint64_t cached, uint64_t generated) {
  sequences_[request].cached = cached;
  sequences_[request].generated = generated;
  waiting_.push_back(request);
}

Iteration Scheduler::schedule() {
  return settings_.policy == SchedulerSettings::Continuous ? continuous() : static_batch();
}

Iteration Scheduler::continuous() {
  Iteration iteration;
  uint64_t budget = settings_.token_budget;
  // Running requests first, in order of admission; a request whose next tokens find no block
  // preempts the latest admitted (itself, when it is the latest).
  for (size_t i = 0; i < running_.size();) {
    const size_t request = running_[i];
    const uint64_t cached = sequences_[request].cached;
    const bool decode = decoding(request);
    const uint64_t pending = decode ? decode_tokens(request) : known(request) - cached;
    const uint64_t chunk = std::min(pending, budget);
    if (chunk == 0 || (!settings_.chunked_prefill && !decode && chunk < pending)) {
      ++i;
      continue;
    }
    bool preempted_itself = false;
    while (!grow(request, cached + chunk)) {
      const size_t victim = running_.back();
      running_.pop_back();
      release(victim);
      sequences_[victim].cached = 0;
      waiting_.push_front(victim);
      iteration.preempted.push_back(victim);
      if (victim == request) {
        preempted_itself = true;
        break;
      }
    }
    if (preempted_itself) break;
    iteration.chunks.push_back({request, chunk, cached, decode || chunk == pending, decode, 0});
    budget -= chunk;
    ++i;
  }
  if (!iteration.preempted.empty()) {
    iteration.limit = AdmissionLimit::KvCache;
    return iteration;
  }
  // Then waiting requests, first come first served, while the limits allow.
  while (!waiting_.empty()) {
    if (running_.size() >= settings_.max_batch) {
      iteration.limit = AdmissionLimit::BatchSize;
      break;
    }
    const size_t request = waiting_.front();
    const uint64_t cached = sequences_[request].cached;
    const bool decode = decoding(request);  // its prompt prefilled elsewhere
    const uint64_t pending = decode ? decode_tokens(request) : known(request) - cached;
    const bool whole = !settings_.chunked_prefill && !decode;
    const bool fits = whole ? pending <= budget || iteration.chunks.empty() : budget > 0;
    if (!fits) {
      iteration.limit = AdmissionLimit::TokenBudget;
      break;
    }
    const uint64_t chunk = whole ? pending : std::min(pending, budget);
    if (!grow(request, cached + chunk)) {
      iteration.limit = AdmissionLimit::KvCache;
      break;
    }
    waiting_.pop_front();
    running_.push_back(request);
    iteration.chunks.push_back({request, chunk, cached, decode || chunk == pending, decode, 0});
    budget -= std::min(budget, chunk);
  }
  return iteration;
}

Iteration Scheduler::static_batch() {
  Iteration iteration;
  if (running_.empty()) {
    // A batch reserves each request's whole cache, so that none is preempted.
    while (!waiting_.empty()) {
      if (running_.size() >= settings_.max_batch) {
        iteration.limit = AdmissionLimit::BatchSize;
        break;
      }
      const size_t request = waiting_.front();
      if (!grow(request, known(request) + requests_[request].output_tokens - sequences_[request].generated)) {
        iteration.limit = AdmissionLimit::KvCache;
        break;
      }
      waiting_.pop_front();
      running_.push_back(request);
    }
  } else if (!waiting_.empty()) {
    iteration.limit = AdmissionLimit::StaticBatch;
  }
  for (const size_t request : running_) {
    const uint64_t cached = sequences_[request].cached;
    const bool decode = decoding(request);
    iteration.chunks.push_back(
        {request, decode ? decode_tokens(request) : known(request) - cached, cached, true, decode, 0});
  }
  return iteration;
}

std::vector<size_t> Scheduler::complete(const Iteration& iteration) {
  std::vector<size_t> finished;
  for (const ScheduledChunk& chunk : iteration.chunks) {
    Sequence& sequence = sequences_[chunk.request];
    // A decode step keeps its last token and the drafts accepted; the rejected drafts' K and V
    // are dropped.
    const uint64_t kept = chunk.decode ? 1 + std::min(chunk.accepted, chunk.new_tokens - 1) : chunk.new_tokens;
    sequence.cached += kept;
    if (!chunk.samples) continue;
    sequence.generated += chunk.decode ? kept : 1;
    if (sequence.generated == requests_[chunk.request].output_tokens) {
      release(chunk.request);
      running_.erase(std::find(running_.begin(), running_.end(), chunk.request));
      finished.push_back(chunk.request);
    }
  }
  return finished;
}

}  // namespace tessel::sim
