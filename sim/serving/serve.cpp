#include "sim/serving/serve.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "sim/serving/batch_cost.h"
#include "sim/system/links.h"
#include "sim/system/placement.h"
#include "workloads/input_error.h"
#include "workloads/transformer.h"

namespace tessel::sim {

namespace {

std::string gigabytes(double bytes) {
  std::ostringstream text;
  text.precision(1);
  text << std::fixed << bytes / 1e9 << " GB";
  return text.str();
}

// The KV blocks the device's memory holds beside the weights.
uint64_t kv_blocks_of(const DeviceFacts& device, const std::string& model, uint64_t weight_bytes,
                      uint64_t bytes_per_block, double memory_fraction) {
  const std::optional<uint64_t> capacity = device.dram_capacity_bytes();
  if (!capacity) {
    throw workloads::InputError(device.name + " states no memory capacity: give the KV cache's size in blocks "
                                "(--kv-blocks)");
  }
  const double usable = static_cast<double>(*capacity) * memory_fraction - static_cast<double>(weight_bytes);
  if (usable < static_cast<double>(bytes_per_block)) {
    throw workloads::InputError(model + " needs " + gigabytes(static_cast<double>(weight_bytes)) +
                                " of weights a device; " + device.name + " gives " +
                                gigabytes(static_cast<double>(*capacity) * memory_fraction) +
                                " to weights and cache: no room for a KV cache (share the layers over more "
                                "devices with --tp, stream them from host memory with --offload-weights-gbps, or give "
                                "--kv-blocks to serve as if it fitted)");
  }
  return static_cast<uint64_t>(usable / static_cast<double>(bytes_per_block));
}

// The KV cache in host memory needs the link's bandwidth and the memory's size; with the weights
// there too, both cross the one host link.
void check_kv_offload(const ServeSettings& settings) {
  if (!(*settings.kv_link_bytes_per_s > 0)) {
    throw workloads::InputError("KV-cache offload needs the host link's bandwidth (> 0)");
  }
  if (!settings.kv_host_bytes || !(*settings.kv_host_bytes > 0)) {
    throw workloads::InputError("KV-cache offload needs the host memory it keeps the cache in (--host-memory-gib)");
  }
  if (settings.offload_link_bytes_per_s && *settings.offload_link_bytes_per_s != *settings.kv_link_bytes_per_s) {
    throw workloads::InputError("weights and KV cache offloaded both cross the one host link: give "
                                "--offload-weights-gbps and --offload-kv-gbps the same bandwidth");
  }
}

// A device whose KV cache lives elsewhere keeps only the weights it holds (`resident_bytes`),
// which must fit its memory.
void check_weights_fit(const DeviceFacts& device, const std::string& model, uint64_t resident_bytes,
                       double memory_fraction) {
  const std::optional<uint64_t> capacity = device.dram_capacity_bytes();
  if (capacity && static_cast<double>(resident_bytes) > static_cast<double>(*capacity) * memory_fraction) {
    throw workloads::InputError(model + " needs " + gigabytes(static_cast<double>(resident_bytes)) +
                                " of weights a device; " + device.name + " gives " +
                                gigabytes(static_cast<double>(*capacity) * memory_fraction) +
                                " (share the layers over more devices with --tp, or stream them from host memory "
                                "with --offload-weights-gbps)");
  }
}

// The KV blocks `host_bytes` of host memory hold, the cache offloaded there.
uint64_t host_kv_blocks(const DeviceFacts& device, const std::string& model, uint64_t resident_bytes,
                        uint64_t bytes_per_block, double host_bytes, double memory_fraction) {
  check_weights_fit(device, model, resident_bytes, memory_fraction);
  const auto blocks = static_cast<uint64_t>(host_bytes / static_cast<double>(bytes_per_block));
  if (blocks == 0) {
    throw workloads::InputError("--host-memory-gib " + gigabytes(host_bytes) + " holds no KV-cache block of " +
                                gigabytes(static_cast<double>(bytes_per_block)));
  }
  return blocks;
}

// What the draft model runs for an iteration: its own pass over the prompt chunks (its cache
// needs them), then for the decode steps as many decode steps of its own as they verify
// drafts, each step's sequences at their mean cache length.
std::vector<workloads::BatchStep> draft_steps(const Iteration& iteration) {
  std::vector<workloads::BatchStep> steps;
  Iteration prompts;
  for (const ScheduledChunk& chunk : iteration.chunks) {
    if (!chunk.decode) prompts.chunks.push_back(chunk);
  }
  if (!prompts.chunks.empty()) steps.push_back(prompts.step());
  for (uint64_t j = 0;; ++j) {
    Iteration drafting;  // the draft's j-th decode step: one token a sequence still drafting
    for (const ScheduledChunk& chunk : iteration.chunks) {
      if (!chunk.decode || chunk.new_tokens <= j + 1) continue;
      drafting.chunks.push_back({chunk.request, 1, chunk.cached + j, true, true, 0});
    }
    if (drafting.chunks.empty()) break;
    steps.push_back(drafting.step());
  }
  return steps;
}

// One group of devices serving: its hardware, what the model leaves of each device's memory,
// its scheduler and the cost of its iterations. Replicas (data-parallel copies) share the
// hardware model and the iterations' costs, each with its own scheduler.
class Engine {
 public:
  Engine(const arch::SystemSpec& hardware, uint64_t tensor_parallel, const workloads::ModelConfig& model,
         SchedulerSettings scheduler, const ServeSettings& settings, RunSettings run_settings,
         const std::vector<workloads::Request>& requests, EngineRole role)
      : hardware_(std::make_shared<arch::SystemSpec>(hardware)), role_(role) {
    ParallelPlan plan;
    plan.tensor = tensor_parallel;
    placement_ = std::make_shared<Placement>(*hardware_, plan);
    device_ = make_device(hardware_->device);
    links_ = std::make_shared<SystemLinks>(*placement_, *device_);
    run_settings.check = CheckMode::Never;
    settings_ = device_->configure(run_settings);
    facts_.device = device_->facts();
    if (tensor_parallel > 1) facts_.system = hardware_->name;
    facts_.tensor_parallel = tensor_parallel;
    const arch::DType dtype = *settings_.dtype;
    workloads::check_quant(model.quant, dtype);
    const workloads::ModelConfig shard = workloads::tensor_parallel_shard(model, tensor_parallel);
    const workloads::OpGraph layers = workloads::build_model(model, workloads::Phase::prefill(1, 1),
                                                             workloads::AttentionImpl::Fused, tensor_parallel);
    facts_.weight_bytes = layers.total_parameter_bytes(dtype);
    facts_.kv_bytes_per_block =
        workloads::kv_cache_bytes(shard, 1, scheduler.block_size, 0, model.num_hidden_layers, dtype);
    const bool offload = settings.offload_link_bytes_per_s && role != EngineRole::Prefill;
    // Offloaded, the device holds the layer computing and the one loading.
    uint64_t resident = offload ? 2 * facts_.weight_bytes / model.num_hidden_layers : facts_.weight_bytes;
    if (settings.speculation && role != EngineRole::Prefill) {
      const Speculation& speculation = *settings.speculation;
      if (speculation.tokens == 0 || !(speculation.acceptance >= 0 && speculation.acceptance <= 1)) {
        throw workloads::InputError("speculative decoding needs at least 1 draft token and an acceptance in [0, 1]");
      }
      if (!speculation.draft.causal) {
        throw workloads::InputError(speculation.draft.name + " is an encoder: it cannot draft tokens");
      }
      // The draft's weights and cache share the devices with the served model's.
      const workloads::ModelConfig& draft = speculation.draft;
      workloads::check_quant(draft.quant, dtype);
      resident += workloads::build_model(draft, workloads::Phase::prefill(1, 1), workloads::AttentionImpl::Fused,
                                         tensor_parallel)
                      .total_parameter_bytes(dtype);
      facts_.kv_bytes_per_block += workloads::kv_cache_bytes(workloads::tensor_parallel_shard(draft, tensor_parallel), 1,
                                                             scheduler.block_size, 0, draft.num_hidden_layers, dtype);
      scheduler.draft_tokens = speculation.tokens;
      speculation_ = speculation;
      random_ = std::make_unique<workloads::RequestRandom>(speculation.seed);
    }
    const bool kv_offload = settings.kv_link_bytes_per_s && role != EngineRole::Prefill;
    if (kv_offload) check_kv_offload(settings);
    std::shared_ptr<BatchCost> paired_cost;  // attention apart: the paired device's
    if (settings.attention && role != EngineRole::Prefill) {
      if (kv_offload || offload) {
        throw workloads::InputError("weights and KV cache are either in host memory or on the paired devices, "
                                    "not both");
      }
      if (!(settings.attention->link_bytes_per_s > 0) || settings.attention->link_latency_s < 0) {
        throw workloads::InputError("attention on devices apart needs their link's bandwidth (> 0) and latency (>= 0)");
      }
      if (settings.attention->microbatches == 0) {
        throw workloads::InputError("attention on devices apart needs at least one micro-batch");
      }
      const std::shared_ptr<Device> paired = make_device(settings.attention->device);
      facts_.attention = paired->facts();
      // The paired device's costs keep it alive.
      const OpRunner run_paired = [paired](const workloads::Op& op, const RunSettings& with) {
        return paired->run(op, with);
      };
      paired_cost = std::make_shared<BatchCost>(*facts_.attention, run_paired, system_op_sizer(*paired), model,
                                                paired->configure(settings_), settings.shape_cells, tensor_parallel);
      // The paired devices hold the cache and the weights of the ops placed with them; these the rest.
      const OpPlacement& placement = settings.attention->ops;
      placement.check(workloads::build_model(model, workloads::Phase::decode(1, 1), workloads::AttentionImpl::Fused,
                                             tensor_parallel));
      facts_.paired_weight_bytes = 0;
      layers.for_each_op([&](const workloads::Op& op, uint64_t repeats) {
        if (placement.apart(op)) facts_.paired_weight_bytes += op.parameter_bytes(dtype) * repeats;
      });
      check_weights_fit(facts_.device, model.name, resident - facts_.paired_weight_bytes, settings.memory_fraction);
      if (scheduler.kv_blocks == 0) {
        scheduler.kv_blocks = kv_blocks_of(*facts_.attention, model.name, facts_.paired_weight_bytes,
                                           facts_.kv_bytes_per_block, settings.memory_fraction);
      }
    }
    if (scheduler.kv_blocks == 0) {
      // The host holds every device's shard of a block.
      scheduler.kv_blocks = kv_offload ? host_kv_blocks(facts_.device, model.name, resident,
                                                        facts_.kv_bytes_per_block * tensor_parallel,
                                                        *settings.kv_host_bytes, settings.memory_fraction)
                                       : kv_blocks_of(facts_.device, model.name, resident, facts_.kv_bytes_per_block,
                                                      settings.memory_fraction);
    }
    facts_.kv_blocks = scheduler.kv_blocks;
    scheduler_settings_ = scheduler;
    scheduler_ = std::make_unique<Scheduler>(scheduler, requests);
    const OpRunner run = system_op_runner(*links_, *device_);
    const OpSizer size = system_op_sizer(*device_);
    cost_ = std::make_shared<BatchCost>(facts_.device, run, size, model, settings_, settings.shape_cells,
                                        tensor_parallel);
    if (speculation_) {
      draft_cost_ = std::make_shared<BatchCost>(facts_.device, run, size, speculation_->draft, settings_,
                                                settings.shape_cells, tensor_parallel);
    }
    if (offload) {
      if (!(*settings.offload_link_bytes_per_s > 0)) {
        throw workloads::InputError("weight offload needs the host link's bandwidth (> 0)");
      }
      cost_->offload_weights(*settings.offload_link_bytes_per_s);
    }
    if (kv_offload) cost_->offload_kv_cache(*settings.kv_link_bytes_per_s);
    if (paired_cost) {
      cost_->place_apart(paired_cost, settings.attention->ops, settings.attention->link_bytes_per_s,
                         settings.attention->link_latency_s);
      cost_->ping_pong(settings.attention->microbatches);
    }
  }

  // The `index`-th copy of these devices: the same hardware and costs, a scheduler of its own
  // (over the same requests) and, speculating, its own draws (seed + index).
  Engine replica(uint64_t index, const std::vector<workloads::Request>& requests) const {
    Engine copy(*this, requests);
    copy.replica_ = index;
    if (speculation_) copy.random_ = std::make_unique<workloads::RequestRandom>(speculation_->seed + index);
    return copy;
  }

  const EngineFacts& facts() const { return facts_; }
  EngineRole role() const { return role_; }
  const RunSettings& settings() const { return settings_; }
  arch::DType dtype() const { return *settings_.dtype; }
  Scheduler& scheduler() { return *scheduler_; }
  size_t simulated() const { return cost_->simulated(); }
  bool busy() const { return running_.has_value(); }
  const Iteration& running() const { return *running_; }
  double free_at() const { return free_at_; }

  // Starts the next iteration at `now` if something can run; records it.
  void start(double now, std::vector<IterationRecord>& records) {
    Iteration iteration = scheduler_->schedule();
    if (iteration.chunks.empty()) return;
    IterationRecord record;
    record.engine = role_;
    record.replica = replica_;
    record.start_s = now;
    record.sequences = iteration.chunks.size();
    record.prefill_tokens = iteration.prefill_tokens();
    record.decode_tokens = iteration.decode_tokens();
    record.kv_blocks_used = scheduler_->used_blocks();
    record.kv_share = static_cast<double>(record.kv_blocks_used) / static_cast<double>(facts_.kv_blocks);
    record.waiting = scheduler_->waiting();
    record.preempted = iteration.preempted.size();
    record.limit = iteration.limit;
    CostFigures figures = cost_->iteration(iteration.step());
    if (draft_cost_) {
      const CostFigures drafting = draft_cost_->iteration_all(draft_steps(iteration));
      figures.cycles += drafting.cycles;
      figures.energy_pj += drafting.energy_pj;
      figures.dram_bytes += drafting.dram_bytes;
    }
    record.seconds = cost_->seconds(figures);
    // The figures are one device's; its tensor-parallel peers do the same.
    record.energy_pj = figures.energy_pj * static_cast<double>(facts_.tensor_parallel);
    record.dram_bytes = figures.dram_bytes * static_cast<double>(facts_.tensor_parallel);
    records.push_back(record);
    free_at_ = now + record.seconds;
    running_ = std::move(iteration);
  }

  // The running iteration, ended: each decode step's drafts accepted drawn.
  Iteration finish() {
    Iteration iteration = std::move(*running_);
    running_.reset();
    if (speculation_) {
      for (ScheduledChunk& chunk : iteration.chunks) {
        if (!chunk.decode) continue;
        while (chunk.accepted + 1 < chunk.new_tokens && random_->uniform() < speculation_->acceptance) {
          ++chunk.accepted;
        }
      }
    }
    return iteration;
  }

 private:
  // A replica's start: what the copies share, nothing running.
  Engine(const Engine& shared, const std::vector<workloads::Request>& requests)
      : hardware_(shared.hardware_),
        role_(shared.role_),
        placement_(shared.placement_),
        device_(shared.device_),
        links_(shared.links_),
        settings_(shared.settings_),
        facts_(shared.facts_),
        scheduler_settings_(shared.scheduler_settings_),
        scheduler_(std::make_unique<Scheduler>(shared.scheduler_settings_, requests)),
        cost_(shared.cost_),
        speculation_(shared.speculation_),
        draft_cost_(shared.draft_cost_) {}

  // The hardware model and the costs, shared by the replicas (the links and costs hold
  // references into the placement and the device).
  std::shared_ptr<const arch::SystemSpec> hardware_;
  EngineRole role_;
  uint64_t replica_ = 0;
  std::shared_ptr<Placement> placement_;
  std::shared_ptr<Device> device_;
  std::shared_ptr<SystemLinks> links_;
  RunSettings settings_;
  EngineFacts facts_;
  SchedulerSettings scheduler_settings_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<BatchCost> cost_;
  std::optional<Iteration> running_;
  double free_at_ = 0;
  std::optional<Speculation> speculation_;
  std::shared_ptr<BatchCost> draft_cost_;
  std::unique_ptr<workloads::RequestRandom> random_;
};

}  // namespace

double RequestOutcome::tpot_s() const {
  if (request.output_tokens <= 1) return 0;
  return (finish_s - first_token_s) / static_cast<double>(request.output_tokens - 1);
}

double ServeResult::duration_s() const {
  double last = 0;
  for (const RequestOutcome& outcome : requests) last = std::max(last, outcome.finish_s);
  return last;
}

std::string role_name(EngineRole role) {
  switch (role) {
    case EngineRole::Whole: return "whole";
    case EngineRole::Prefill: return "prefill";
    case EngineRole::Decode: return "decode";
  }
  return "unknown";
}

ServeResult serve(const arch::SystemSpec& hardware, uint64_t tensor_parallel, const workloads::ModelConfig& model,
                  ServeLoad load, ServeSettings settings, RunSettings run_settings, const ServeProgress& progress) {
  if (load.requests.empty()) throw workloads::InputError("serving needs at least one request");
  if (!model.causal) throw workloads::InputError(model.name + " is an encoder: it generates no tokens to serve");
  std::vector<workloads::Request>& requests = load.requests;
  const bool closed = load.concurrency > 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (closed) requests[i].arrival_s = i < load.concurrency ? 0 : kNotYet;
  }
  const bool split = settings.prefill.has_value();
  const uint64_t replicas = settings.replicas;
  if (replicas == 0) throw workloads::InputError("serving needs at least one replica of the devices");
  // Each copy's scheduler keeps every request's state (24 bytes): 2^27 of them take 3 GB.
  constexpr uint64_t kMaxRequestStates = uint64_t{1} << 27;
  if (replicas > kMaxRequestStates / requests.size()) {
    throw workloads::InputError(std::to_string(replicas) + " replicas of " + std::to_string(requests.size()) +
                                " requests: each copy keeps every request's state, at most " +
                                std::to_string(kMaxRequestStates) + " in all; serve fewer copies or requests");
  }
  const uint64_t devices = hardware.device_count();
  if (devices > 1 && (tensor_parallel > devices / replicas)) {
    throw workloads::InputError(std::to_string(replicas) + " replicas of " + std::to_string(tensor_parallel) +
                                " devices need " + std::to_string(replicas * tensor_parallel) + "; " +
                                hardware.name + " has " + std::to_string(devices));
  }
  // The copies of the decoding devices; a request's copy is the one it was routed to.
  std::vector<Engine> decoders;
  decoders.reserve(replicas);
  decoders.emplace_back(hardware, tensor_parallel, model, settings.scheduler, settings, run_settings, requests,
                        split ? EngineRole::Decode : EngineRole::Whole);
  for (uint64_t r = 1; r < replicas; ++r) decoders.push_back(decoders.front().replica(r, requests));
  Engine& main = decoders.front();
  // The prompt devices' requests end with their first token.
  std::vector<workloads::Request> prompts = requests;
  for (workloads::Request& prompt : prompts) prompt.output_tokens = 1;
  std::optional<Engine> prefill;
  if (split) {
    if (!(settings.prefill->link_bytes_per_s > 0) || settings.prefill->link_latency_s < 0) {
      throw workloads::InputError("disaggregated serving needs the KV link's bandwidth (> 0) and latency (>= 0)");
    }
    SchedulerSettings scheduler = settings.scheduler;
    scheduler.kv_blocks = 0;  // what the prompt devices' memory holds
    prefill.emplace(settings.prefill->hardware, settings.prefill->tensor_parallel, model, scheduler, settings,
                    run_settings, prompts, EngineRole::Prefill);
  }
  settings.scheduler.kv_blocks = main.facts().kv_blocks;
  ServeResult result;
  result.settings = main.settings();
  result.device = main.facts().device;
  result.system = main.facts().system;
  result.tensor_parallel = tensor_parallel;
  result.replicas = replicas;
  result.weight_bytes = main.facts().weight_bytes;
  result.kv_bytes_per_block = main.facts().kv_bytes_per_block;
  if (prefill) result.prefill = prefill->facts();
  result.attention = main.facts().attention;
  result.attention_weight_bytes = main.facts().paired_weight_bytes;
  result.model = model.name;
  result.quant = model.quant;
  result.concurrency = load.concurrency;
  result.serve = settings;
  result.requests.reserve(requests.size());
  for (const workloads::Request& request : requests) result.requests.push_back({request});

  std::vector<Engine*> engines;
  if (prefill) engines.push_back(&*prefill);
  for (Engine& decoder : decoders) engines.push_back(&decoder);
  // Requests each copy holds and has not finished: the next goes to the one with fewest.
  std::vector<uint64_t> in_flight(replicas, 0);
  const auto route = [&](size_t request) -> Scheduler& {
    const uint64_t chosen =
        static_cast<uint64_t>(std::min_element(in_flight.begin(), in_flight.end()) - in_flight.begin());
    ++in_flight[chosen];
    result.requests[request].replica = chosen;
    return decoders[chosen].scheduler();
  };
  // KV caches crossing the link: (arrival at the decode devices, request), earliest first.
  using Transfer = std::pair<double, size_t>;
  std::priority_queue<Transfer, std::vector<Transfer>, std::greater<Transfer>> transfers;
  double now = 0;
  size_t arrived = 0;  // requests handed to the scheduler
  size_t released = closed ? std::min<size_t>(load.concurrency, requests.size()) : requests.size();
  size_t finished = 0;
  const auto finish = [&](size_t request, double at) {
    result.requests[request].finish_s = at;
    ++finished;
    if (closed && released < requests.size()) requests[released++].arrival_s = at;
  };
  while (finished < requests.size()) {
    for (; arrived < released && requests[arrived].arrival_s <= now; ++arrived) {
      (prefill ? prefill->scheduler() : route(arrived)).arrive(arrived);
    }
    while (!transfers.empty() && transfers.top().first <= now) {
      const size_t request = transfers.top().second;
      route(request).arrive_prefilled(request, requests[request].prompt_tokens, 1);
      transfers.pop();
    }
    for (Engine* engine : engines) {
      if (engine->busy()) continue;
      engine->start(now, result.iterations);
      if (!engine->busy()) continue;
      for (const ScheduledChunk& chunk : engine->running().chunks) {
        RequestOutcome& outcome = result.requests[chunk.request];
        if (std::isnan(outcome.scheduled_s)) outcome.scheduled_s = now;
      }
    }
    double next = std::numeric_limits<double>::infinity();
    for (const Engine* engine : engines) {
      if (engine->busy()) next = std::min(next, engine->free_at());
    }
    if (arrived < released) next = std::min(next, requests[arrived].arrival_s);
    if (!transfers.empty()) next = std::min(next, transfers.top().first);
    if (std::isinf(next)) throw std::logic_error("serve: requests wait but none can run");
    now = next;
    for (Engine* engine : engines) {
      if (!engine->busy() || engine->free_at() > now) continue;
      const Iteration iteration = engine->finish();
      for (const size_t request : iteration.preempted) ++result.requests[request].preemptions;
      for (const size_t request : engine->scheduler().complete(iteration)) {
        if (engine->role() != EngineRole::Prefill) {
          --in_flight[result.requests[request].replica];
          finish(request, now);
        } else if (requests[request].output_tokens == 1) {  // done with its prompt: never routed
          result.requests[request].first_token_s = now;
          finish(request, now);
        } else {
          const uint64_t kv_bytes = workloads::kv_cache_bytes(model, 1, requests[request].prompt_tokens, 0,
                                                              model.num_hidden_layers, engine->dtype());
          const double arrives = now + settings.prefill->link_latency_s +
                                 static_cast<double>(kv_bytes) / settings.prefill->link_bytes_per_s;
          // Its first token counts once the cache has reached the decode devices: TTFT under
          // disaggregation is the prompt devices' time and the transfer's.
          result.requests[request].first_token_s = arrives;
          transfers.emplace(arrives, request);
        }
      }
      for (const ScheduledChunk& chunk : iteration.chunks) {
        RequestOutcome& outcome = result.requests[chunk.request];
        if (chunk.samples && std::isnan(outcome.first_token_s)) outcome.first_token_s = now;
      }
    }
    if (progress) progress(finished, requests.size(), now);
  }
  for (size_t i = 0; i < requests.size(); ++i) result.requests[i].request.arrival_s = requests[i].arrival_s;
  result.simulated_shapes = main.simulated() + (prefill ? prefill->simulated() : 0);
  return result;
}

}  // namespace tessel::sim
