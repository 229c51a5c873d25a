// Micro-batches ping-ponging between two devices that split each layer's ops (attention on one,
// the rest on the other, as Lamina and MegaScale-Infer run them): while one device works on a
// micro-batch, the other works on another, so neither waits out the whole batch on its partner.
#pragma once

#include <cstdint>
#include <vector>

#include "workloads/transformer.h"

namespace tessel::sim {

// What runs a task: the device, its paired device, or the link between them.
enum class PairResource { Device, Paired, Link };

struct PairTask {
  PairResource resource;
  double seconds;
};

// Tasks that run on one resource after another in order, one chain per micro-batch: the time
// until the last task ends when each resource runs one task at a time, in the order the tasks
// become ready (a task is ready when its micro-batch's previous one ends), ties to the earlier
// micro-batch. One chain takes the sum of its tasks.
double ping_pong_seconds(const std::vector<std::vector<PairTask>>& chains);

// The step's sequences dealt into at most `parts` micro-batches (fewer when it has fewer
// sequences), each group's as evenly as whole sequences allow, the odd ones to the micro-batches
// that have fewest so far; its sampled tokens shared in proportion to the sequences, none past
// a micro-batch's new tokens.
std::vector<workloads::BatchStep> split_batch_step(const workloads::BatchStep& step, uint64_t parts);

}  // namespace tessel::sim
