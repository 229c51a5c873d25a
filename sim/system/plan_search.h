// A search over training plans: every tensor- and pipeline-parallel split of a system's
// devices (the rest data-parallel), micro-batch size, recomputation, sequence parallelism and
// ZeRO stage that runs a model at a global batch; those that fit ranked fastest first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "arch/system_spec.h"
#include "sim/system/run_training.h"

namespace tessel::sim {

// What the search varies; a list with one value fixes it.
struct PlanSpace {
  std::vector<uint64_t> micro_batches = {1, 2, 4, 8};
  std::vector<workloads::Recompute> recompute = {workloads::Recompute::None, workloads::Recompute::Selective,
                                                 workloads::Recompute::Full};
  std::vector<bool> sequence_parallel = {false, true};  // tried with tp > 1 only
  std::vector<uint64_t> zero = {0, 1};                  // tried with dp > 1 only
};

struct PlanOutcome {
  TrainingRequest request;  // its micro-batch, recomputation and sequence parallelism
  TrainingPlan plan;
  bool fits = false;
  uint64_t memory_bytes = 0;  // the fullest device's
  double iteration_s = 0;     // 0 when it does not fit
  double mfu = 0;
  double tokens_per_s = 0;
  // Timed from two shortened runs (2p and 4p micro-batches; a pipeline's time is linear in its
  // micro-batches once it is full) rather than in full.
  bool estimated = false;
  std::string refused;  // why the system cannot run it (it does not fit then); "" otherwise
};

// Every plan of `space` for the system's devices (all of them used: tp · pp · dp = devices)
// that tensor parallelism can split the model by, the pipeline's stages hold layers for, and
// the replicas and micro-batches divide the global batch into. Selective recomputation is left
// out with fused attention, where it recomputes nothing FlashAttention does not already. `base` gives the model, global
// batch, sequence length and what stays fixed; `fixed` the schedule, chunks and collective.
std::vector<PlanOutcome> plan_candidates(const arch::SystemSpec& system, const TrainingRequest& base,
                                         const TrainingPlan& fixed, const PlanSpace& space);

// Each candidate's memory, then each that fits timed (a worker process's candidates sharing one
// cache of the device's op costs; `jobs` workers, SystemC running one simulation a process),
// ranked fastest first, those that do not fit after them; the best `full` are then timed in
// full. `progress(i, count, what)` before each candidate.
std::vector<PlanOutcome> search_plans(const arch::SystemSpec& system, std::vector<PlanOutcome> candidates,
                                      const RunSettings& settings, size_t full, size_t jobs = 1,
                                      const std::function<void(size_t, size_t, const std::string&)>& progress = {});

// e.g. "tp 8 pp 16 dp 8, micro-batch 1, selective, sp, ZeRO 1".
std::string plan_text(const PlanOutcome& outcome);

}  // namespace tessel::sim
