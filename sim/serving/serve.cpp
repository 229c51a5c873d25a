#include "sim/serving/serve.h"

#include <cmath>
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
                                "devices with --tp, or give --kv-blocks to serve as if it fitted)");
  }
  return static_cast<uint64_t>(usable / static_cast<double>(bytes_per_block));
}

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

ServeResult serve(const arch::SystemSpec& hardware, uint64_t tensor_parallel, const workloads::ModelConfig& model,
                  ServeLoad load, ServeSettings settings, RunSettings run_settings, const ServeProgress& progress) {
  if (load.requests.empty()) throw workloads::InputError("serving needs at least one request");
  if (!model.causal) throw workloads::InputError(model.name + " is an encoder: it generates no tokens to serve");
  ParallelPlan plan;
  plan.tensor = tensor_parallel;
  const Placement placement(hardware, plan);
  const std::unique_ptr<Device> device = make_device(hardware.device);
  const SystemLinks links(placement, *device);
  run_settings.check = CheckMode::Never;
  ServeResult result;
  result.settings = device->configure(run_settings);
  result.device = device->facts();
  if (hardware.device_count() > 1) result.system = hardware.name;
  result.tensor_parallel = tensor_parallel;
  result.model = model.name;
  result.concurrency = load.concurrency;
  const uint32_t element_bytes = arch::bytes_of(*result.settings.dtype);
  const workloads::ModelConfig shard = workloads::tensor_parallel_shard(model, tensor_parallel);
  result.weight_bytes = workloads::build_model(model, workloads::Phase::prefill(1, 1), workloads::AttentionImpl::Fused,
                                               tensor_parallel)
                            .total_parameters() *
                        element_bytes;
  result.kv_bytes_per_block = workloads::kv_cache_elements(shard, 1, 1, 0, model.num_hidden_layers) * element_bytes *
                              settings.scheduler.block_size;
  if (settings.scheduler.kv_blocks == 0) {
    settings.scheduler.kv_blocks = kv_blocks_of(result.device, model.name, result.weight_bytes,
                                                result.kv_bytes_per_block, settings.memory_fraction);
  }
  result.serve = settings;
  const OpRunner run = [&](const workloads::Op& op, const RunSettings& op_settings) {
    return workloads::is_communication(op.kind) ? links.run(op, op_settings) : device->run(op, op_settings);
  };
  const OpSizer size = [&](const workloads::Op& op, const RunSettings& op_settings) {
    return workloads::is_communication(op.kind) ? uint64_t{0} : device->transactions(op, op_settings);
  };
  BatchCost cost(result.device, run, size, model, result.settings, settings.shape_cells, tensor_parallel);

  std::vector<workloads::Request>& requests = load.requests;
  const bool closed = load.concurrency > 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (closed) requests[i].arrival_s = i < load.concurrency ? 0 : kNotYet;
  }
  Scheduler scheduler(settings.scheduler, requests);
  result.requests.reserve(requests.size());
  for (const workloads::Request& request : requests) result.requests.push_back({request});

  double now = 0;
  size_t arrived = 0;   // requests handed to the scheduler
  size_t released = closed ? std::min<size_t>(load.concurrency, requests.size()) : requests.size();
  size_t finished = 0;
  while (finished < requests.size()) {
    while (arrived < released && requests[arrived].arrival_s <= now) scheduler.arrive(arrived++);
    const Iteration iteration = scheduler.schedule();
    if (iteration.chunks.empty()) {
      if (arrived < released) {
        now = requests[arrived].arrival_s;
        continue;
      }
      throw std::logic_error("serve: requests wait but none can run");
    }
    const IterationRecord before{now, 0, iteration.chunks.size(), iteration.prefill_tokens(),
                                 iteration.decode_tokens(), scheduler.used_blocks(), scheduler.waiting(),
                                 iteration.preempted.size(), iteration.limit, 0, 0};
    const CostFigures figures = cost.iteration(iteration.step());
    IterationRecord record = before;
    record.seconds = cost.seconds(figures);
    // The figures are one device's; its tensor-parallel peers do the same.
    record.energy_pj = figures.energy_pj * static_cast<double>(tensor_parallel);
    record.dram_bytes = figures.dram_bytes * static_cast<double>(tensor_parallel);
    result.iterations.push_back(record);
    for (const size_t request : iteration.preempted) ++result.requests[request].preemptions;
    const double end = now + record.seconds;
    for (const ScheduledChunk& chunk : iteration.chunks) {
      RequestOutcome& outcome = result.requests[chunk.request];
      if (std::isnan(outcome.scheduled_s)) outcome.scheduled_s = now;
    }
    for (const size_t request : scheduler.complete(iteration)) {
      result.requests[request].finish_s = end;
      ++finished;
      if (closed && released < requests.size()) requests[released++].arrival_s = end;
    }
    for (const ScheduledChunk& chunk : iteration.chunks) {
      RequestOutcome& outcome = result.requests[chunk.request];
      if (chunk.samples && std::isnan(outcome.first_token_s)) outcome.first_token_s = end;
    }
    now = end;
    if (progress) progress(finished, requests.size(), now);
  }
  for (size_t i = 0; i < requests.size(); ++i) result.requests[i].request.arrival_s = requests[i].arrival_s;
  result.simulated_shapes = cost.simulated();
  return result;
}

}  // namespace tessel::sim
