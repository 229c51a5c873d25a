#include "sim/serving/ping_pong.h"

#include <algorithm>
#include <array>
#include <limits>

namespace tessel::sim {

std::vector<workloads::BatchStep> split_batch_step(const workloads::BatchStep& step, uint64_t parts) {
  uint64_t sequences = 0;
  for (const workloads::Phase& group : step.groups) sequences += group.batch;
  if (sequences == 0) return {step};
  parts = std::max<uint64_t>(1, std::min(parts, sequences));
  std::vector<workloads::BatchStep> split(parts);
  std::vector<uint64_t> dealt(parts, 0);  // sequences each micro-batch holds
  for (const workloads::Phase& group : step.groups) {
    std::vector<uint64_t> counts(parts, group.batch / parts);
    // The odd sequences to the micro-batches holding fewest, the earlier first.
    std::vector<size_t> order(parts);
    for (size_t i = 0; i < parts; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dealt[a] < dealt[b]; });
    for (uint64_t odd = 0; odd < group.batch % parts; ++odd) ++counts[order[odd]];
    for (size_t i = 0; i < parts; ++i) {
      if (counts[i] == 0) continue;
      workloads::Phase share = group;
      share.batch = counts[i];
      split[i].groups.push_back(share);
      dealt[i] += counts[i];
    }
  }
  uint64_t left = step.sampled;
  for (size_t i = 0; i < parts; ++i) {
    const uint64_t share = std::min(step.sampled * dealt[i] / sequences, workloads::batch_tokens(split[i].groups));
    split[i].sampled = share;
    left -= share;
  }
  for (size_t i = 0; i < parts && left > 0; ++i) {
    const uint64_t more = std::min(left, workloads::batch_tokens(split[i].groups) - split[i].sampled);
    split[i].sampled += more;
    left -= more;
  }
  return split;
}

double ping_pong_seconds(const std::vector<std::vector<PairTask>>& chains) {
  std::array<double, 3> free_at{};  // by PairResource
  std::vector<size_t> next(chains.size(), 0);
  std::vector<double> ready(chains.size(), 0.0);
  double end = 0;
  for (;;) {
    // The task that can start first: its chain's previous task has ended and its resource is free.
    size_t chosen = chains.size();
    double start = std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < chains.size(); ++c) {
      if (next[c] == chains[c].size()) continue;
      const double at = std::max(ready[c], free_at[static_cast<size_t>(chains[c][next[c]].resource)]);
      if (at < start) {
        start = at;
        chosen = c;
      }
    }
    if (chosen == chains.size()) return end;
    const PairTask& task = chains[chosen][next[chosen]++];
    ready[chosen] = start + task.seconds;
    free_at[static_cast<size_t>(task.resource)] = ready[chosen];
    end = std::max(end, ready[chosen]);
  }
}

}  // namespace tessel::sim
