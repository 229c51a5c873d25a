#include "sim/system/plan_search.h"

#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "sim/system/placement.h"
#include "workloads/input_error.h"
#include "workloads/transformer.h"

namespace tessel::sim {

namespace {

std::vector<uint64_t> divisors(uint64_t n) {
  std::vector<uint64_t> found;
  for (uint64_t d = 1; d <= n; ++d) {
    if (n % d == 0) found.push_back(d);
  }
  return found;
}

// Whether tensor parallelism can split the model `tp` ways and the system's links hold the plan.
bool splits(const arch::SystemSpec& system, const TrainingRequest& request, const TrainingPlan& plan) {
  try {
    workloads::tensor_parallel_shard(request.model, plan.parallel.tensor);
    const Placement placement(system, plan.parallel);
    return true;
  } catch (const workloads::InputError&) {
    return false;
  } catch (const SettingError&) {
    return false;
  }
}

// The iteration's time and MFU of a run with `microbatches` micro-batches a replica.
TrainingRunResult run_with(const arch::SystemSpec& system, const PlanOutcome& outcome, uint64_t microbatches,
                           const RunSettings& settings, OpCostCache& cache) {
  TrainingRequest request = outcome.request;
  request.global_batch = outcome.plan.parallel.data * request.micro_batch * microbatches;
  TrainingRunOptions options;
  options.require_fit = false;
  options.op_cache = &cache;
  return run_training(system, request, outcome.plan, settings, options);
}

// Times a plan that fits: in full, or from two shortened runs of 2p and 4p micro-batches, its
// time linear in the micro-batches beyond them (a full pipeline adds one micro-batch's passes
// at a time); MFU scales its FLOPs, which are linear in the micro-batches too.
void time_plan(const arch::SystemSpec& system, PlanOutcome& outcome, bool in_full, const RunSettings& settings,
               OpCostCache& cache) {
  const uint64_t dp = outcome.plan.parallel.data;
  const uint64_t m = outcome.request.global_batch / dp / outcome.request.micro_batch;
  const uint64_t p = outcome.plan.parallel.pipeline;
  const uint64_t short_m = 2 * p, long_m = 4 * p;
  const double tokens = static_cast<double>(outcome.request.global_batch * outcome.request.seq);
  if (in_full || m <= long_m) {
    const TrainingRunResult result = run_with(system, outcome, m, settings, cache);
    outcome.iteration_s = result.iteration_s();
    outcome.mfu = result.mfu();
    outcome.estimated = false;
  } else {
    const TrainingRunResult short_run = run_with(system, outcome, short_m, settings, cache);
    const TrainingRunResult long_run = run_with(system, outcome, long_m, settings, cache);
    const double per_microbatch =
        (long_run.iteration_s() - short_run.iteration_s()) / static_cast<double>(long_m - short_m);
    outcome.iteration_s = short_run.iteration_s() + per_microbatch * static_cast<double>(m - short_m);
    const double flops = short_run.model_flops() * static_cast<double>(m) / static_cast<double>(short_m);
    outcome.mfu = short_run.mfu() * short_run.iteration_s() / outcome.iteration_s * flops / short_run.model_flops();
    outcome.estimated = true;
  }
  outcome.tokens_per_s = tokens / outcome.iteration_s;
}

// Its memory and, if it fits, its time; a plan the system cannot run says why.
void evaluate_plan(const arch::SystemSpec& system, PlanOutcome& outcome, const RunSettings& settings,
                   OpCostCache& cache) {
  TrainingRunOptions memory_only;
  memory_only.require_fit = false;
  memory_only.memory_only = true;
  try {
    const TrainingRunResult memory = run_training(system, outcome.request, outcome.plan, settings, memory_only);
    for (const TrainingStage& stage : memory.stages) {
      outcome.memory_bytes = std::max(outcome.memory_bytes, stage.memory.total());
    }
    const std::optional<uint64_t> capacity = memory.device.dram_capacity_bytes();
    outcome.fits = !capacity || outcome.memory_bytes <= *capacity;
    if (outcome.fits) time_plan(system, outcome, false, settings, cache);
  } catch (const SettingError& error) {
    outcome.fits = false;
    outcome.refused = error.what();
  } catch (const workloads::InputError& error) {
    outcome.fits = false;
    outcome.refused = error.what();
  }
}

// What a worker process sends back of each plan it evaluated.
struct Figures {
  uint64_t index;
  uint64_t memory_bytes;
  double iteration_s;
  double mfu;
  double tokens_per_s;
  uint8_t fits;
  uint8_t estimated;
  char refused[256];
};

Figures figures_of(uint64_t index, const PlanOutcome& o) {
  Figures f{index, o.memory_bytes, o.iteration_s, o.mfu, o.tokens_per_s, o.fits, o.estimated, {}};
  o.refused.copy(f.refused, sizeof f.refused - 1);
  return f;
}

void take(const Figures& f, PlanOutcome& o) {
  o.memory_bytes = f.memory_bytes;
  o.iteration_s = f.iteration_s;
  o.mfu = f.mfu;
  o.tokens_per_s = f.tokens_per_s;
  o.fits = f.fits != 0;
  o.estimated = f.estimated != 0;
  o.refused = f.refused;
}

// Evaluates every candidate: in this process, or in `jobs` worker processes each taking
// candidates j, j + jobs, ... with its own cache and sending their figures back on a pipe.
void evaluate_all(const arch::SystemSpec& system, std::vector<PlanOutcome>& candidates, const RunSettings& settings,
                  size_t jobs, const std::function<void(size_t, size_t, const std::string&)>& progress) {
  const size_t count = candidates.size();
  const auto evaluate = [&](size_t i, OpCostCache& cache) {
    if (progress) progress(i, count, plan_text(candidates[i]));
    evaluate_plan(system, candidates[i], settings, cache);
  };
  if (jobs <= 1 || count <= 1) {
    OpCostCache cache;
    for (size_t i = 0; i < count; ++i) evaluate(i, cache);
    return;
  }
  std::cout.flush();
  std::cerr.flush();
  std::vector<std::pair<pid_t, int>> workers;
  for (size_t worker = 0; worker < std::min(jobs, count); ++worker) {
    int ends[2];
    if (pipe(ends) != 0) throw std::runtime_error("plan search: cannot open a pipe to a worker process");
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("plan search: cannot start a worker process");
    if (pid == 0) {
      close(ends[0]);
      OpCostCache cache;
      for (size_t i = worker; i < count; i += jobs) {
        evaluate(i, cache);
        const Figures figures = figures_of(i, candidates[i]);
        if (write(ends[1], &figures, sizeof figures) != static_cast<ssize_t>(sizeof figures)) _exit(1);
      }
      std::cerr.flush();
      _exit(0);
    }
    close(ends[1]);
    workers.emplace_back(pid, ends[0]);
  }
  // Read every pipe as the workers write, so that none blocks on a full pipe.
  std::vector<pollfd> open_pipes;
  for (const auto& [pid, fd] : workers) open_pipes.push_back({fd, POLLIN, 0});
  std::vector<std::string> pending(open_pipes.size());
  size_t open_count = open_pipes.size();
  while (open_count > 0) {
    if (poll(open_pipes.data(), open_pipes.size(), -1) < 0) throw std::runtime_error("plan search: poll failed");
    for (size_t w = 0; w < open_pipes.size(); ++w) {
      if (open_pipes[w].fd < 0 || open_pipes[w].revents == 0) continue;
      char buffer[4096];
      const ssize_t got = read(open_pipes[w].fd, buffer, sizeof buffer);
      if (got <= 0) {
        close(open_pipes[w].fd);
        open_pipes[w].fd = -1;
        --open_count;
        continue;
      }
      pending[w].append(buffer, static_cast<size_t>(got));
      while (pending[w].size() >= sizeof(Figures)) {
        Figures figures{};
        pending[w].copy(reinterpret_cast<char*>(&figures), sizeof figures);
        pending[w].erase(0, sizeof figures);
        take(figures, candidates.at(figures.index));
      }
    }
  }
  bool failed = false;
  for (const auto& [pid, fd] : workers) {
    int status = 0;
    waitpid(pid, &status, 0);
    failed = failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  if (failed) throw std::runtime_error("plan search: a worker process failed");
}

}  // namespace

std::vector<PlanOutcome> plan_candidates(const arch::SystemSpec& system, const TrainingRequest& base,
                                         const TrainingPlan& fixed, const PlanSpace& space) {
  const uint64_t devices = system.device_count();
  std::vector<PlanOutcome> candidates;
  for (uint64_t tp : divisors(devices)) {
    for (uint64_t pp : divisors(devices / tp)) {
      const uint64_t dp = devices / tp / pp;
      if (pp > base.model.num_hidden_layers || base.global_batch % dp != 0 || dp % fixed.parallel.expert != 0) continue;
      PlanOutcome outcome;
      outcome.request = base;
      outcome.plan = fixed;
      outcome.plan.parallel.tensor = tp;
      outcome.plan.parallel.pipeline = pp;
      outcome.plan.parallel.data = dp;
      outcome.plan.parallel.stage_layers.clear();
      if (!splits(system, base, outcome.plan)) continue;
      for (uint64_t mb : space.micro_batches) {
        const uint64_t per_replica = base.global_batch / dp;
        if (per_replica % mb != 0) continue;
        const uint64_t m = per_replica / mb;
        if (fixed.schedule == PipelineSchedule::Interleaved && m % pp != 0) continue;
        outcome.request.micro_batch = mb;
        for (workloads::Recompute recompute : space.recompute) {
          if (recompute == workloads::Recompute::Selective && base.attention == workloads::AttentionImpl::Fused) {
            continue;
          }
          outcome.request.recompute = recompute;
          for (bool sp : space.sequence_parallel) {
            if (sp && (tp == 1 || mb * base.seq % tp != 0 || base.model.mixture_of_experts())) continue;
            outcome.request.sequence_parallel = sp;
            for (uint64_t zero : space.zero) {
              if (zero > 0 && dp == 1) continue;
              outcome.plan.zero = zero;
              candidates.push_back(outcome);
            }
          }
        }
      }
    }
  }
  return candidates;
}

std::vector<PlanOutcome> search_plans(const arch::SystemSpec& system, std::vector<PlanOutcome> candidates,
                                      const RunSettings& settings, size_t full, size_t jobs,
                                      const std::function<void(size_t, size_t, const std::string&)>& progress) {
  evaluate_all(system, candidates, settings, jobs, progress);
  const auto faster = [](const PlanOutcome& a, const PlanOutcome& b) {
    if (a.fits != b.fits) return a.fits;
    return a.fits ? a.iteration_s < b.iteration_s : a.memory_bytes < b.memory_bytes;
  };
  std::stable_sort(candidates.begin(), candidates.end(), faster);
  OpCostCache cache;
  for (size_t i = 0; i < std::min(full, candidates.size()) && candidates[i].fits; ++i) {
    if (candidates[i].estimated) time_plan(system, candidates[i], true, settings, cache);
  }
  std::stable_sort(candidates.begin(), candidates.end(), faster);
  return candidates;
}

std::string plan_text(const PlanOutcome& outcome) {
  const ParallelPlan& p = outcome.plan.parallel;
  return "tp " + std::to_string(p.tensor) + " pp " + std::to_string(p.pipeline) + " dp " + std::to_string(p.data) +
         ", micro-batch " + std::to_string(outcome.request.micro_batch) + ", recompute " +
         std::string(workloads::to_string(outcome.request.recompute)) +
         (outcome.request.sequence_parallel ? ", sp" : "") + ", ZeRO " + std::to_string(outcome.plan.zero);
}

}  // namespace tessel::sim
