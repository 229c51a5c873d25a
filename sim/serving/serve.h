// A served model under load: requests arrive over time, the scheduler forms each iteration's
// batch (sim/serving/scheduler.h), and the device (or the devices of a system sharing each layer
// by tensor parallelism) runs it as one step of operators (sim/serving/batch_cost.h), so
// latencies and throughput follow the hardware model. The run is a discrete-event loop: the
// clock jumps from one iteration's end to the next, or to the next arrival when nothing runs.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "arch/arch_spec.h"
#include "arch/system_spec.h"
#include "sim/device.h"
#include "sim/serving/op_placement.h"
#include "sim/serving/scheduler.h"
#include "workloads/model_config.h"
#include "workloads/requests.h"

namespace tessel::sim {

struct ServeLoad {
  std::vector<workloads::Request> requests;  // in order of arrival
  // Closed-loop clients, each sending its next request when its last finishes (the requests'
  // arrivals are then the run's); 0: the requests arrive at their own times.
  uint64_t concurrency = 0;
};

// Disaggregated serving (as DistServe and Splitwise do): prompts run on devices of their own
// and each request's KV cache then crosses a link to the devices that decode it.
struct PrefillPool {
  arch::SystemSpec hardware;
  uint64_t tensor_parallel = 1;
  double link_bytes_per_s = 0;  // the link the prompt's KV cache crosses
  double link_latency_s = 0;
};

// Attention apart from the rest of the model (as FastDecode and Lamina place it): each decoding
// device is paired with a device of `device`'s kind that holds its share of the KV cache and
// runs the ops `ops` places apart (by default those that touch the cache: RoPE, the cache's
// append and read, attention) with their weights, while the first keeps the other weights and
// runs every other op. Wherever consecutive ops run on different devices of the pair, the
// output of the first crosses their link.
struct AttentionPool {
  arch::ArchSpec device;
  double link_bytes_per_s = 0;
  double link_latency_s = 0;
  OpPlacement ops;
  uint64_t microbatches = 1;  // an iteration's sequences ping-pong between the pair in this many
};

// Speculative decoding: a small draft model on the same devices proposes `tokens` tokens by
// as many decode steps of its own, and the served model verifies them in its next step; each
// draft is accepted with probability `acceptance` while those before it were (the first
// rejection ends the run), drawn from `seed`.
struct Speculation {
  workloads::ModelConfig draft;
  uint64_t tokens = 4;
  double acceptance = 0;
  uint64_t seed = 1;
};

struct ServeSettings {
  SchedulerSettings scheduler;  // kv_blocks 0: what the device's memory holds beside the weights
  // Of the device's main memory, the share weights and KV cache may take (vLLM's
  // gpu_memory_utilization); the rest is the runtime's and activations'.
  double memory_fraction = 0.9;
  uint64_t shape_cells = 16;  // BatchCost's cells per octave; 0 simulates every shape
  std::optional<PrefillPool> prefill;  // none: each request's prompt and decode on the same devices
  // Weights offloaded to host memory (FlexGen-style): the (decoding) devices stream each
  // layer's weights over a link of this many bytes a second while the previous layer computes,
  // and hold two layers' weights at a time, leaving the rest of their memory to the KV cache.
  std::optional<double> offload_link_bytes_per_s;
  // The KV cache kept in host memory (FlexGen-style): its blocks are what `kv_host_bytes` of
  // host memory holds (every tensor-parallel device's shard of each; a replica's own), and
  // each device's layer streams the cache its attention reads over a link of
  // `kv_link_bytes_per_s` (and writes the new tokens' back) while the previous layer
  // computes. With offloaded weights too, both cross the one host link.
  std::optional<double> kv_link_bytes_per_s;
  std::optional<double> kv_host_bytes;
  std::optional<Speculation> speculation;  // on the decoding devices
  std::optional<AttentionPool> attention;  // beside the decoding devices
  // Data-parallel copies of the (decoding) devices, each with its own scheduler and KV cache;
  // a request goes to the copy with the fewest requests in flight (the lowest index of those
  // tied) when it arrives, or under disaggregation when its KV cache does.
  uint64_t replicas = 1;
};

constexpr double kNotYet = std::numeric_limits<double>::quiet_NaN();

struct RequestOutcome {
  workloads::Request request;
  double scheduled_s = kNotYet;    // its first iteration's start
  double first_token_s = kNotYet;  // the end of the iteration that sampled its first token
  double finish_s = kNotYet;
  uint64_t preemptions = 0;
  uint64_t replica = 0;  // of the decoding devices that served it

  double queueing_s() const { return scheduled_s - request.arrival_s; }
  double ttft_s() const { return first_token_s - request.arrival_s; }
  double e2e_s() const { return finish_s - request.arrival_s; }
  // The mean gap between its later tokens (0 for a single token), as serving benchmarks count.
  double tpot_s() const;
};

// What ran an iteration: the devices that serve requests whole, or those of prompts or of
// decode tokens under disaggregation.
enum class EngineRole { Whole, Prefill, Decode };
std::string role_name(EngineRole role);

struct IterationRecord {
  EngineRole engine = EngineRole::Whole;
  uint64_t replica = 0;  // which copy of the (decoding) devices; 0 for the prompt devices
  double start_s = 0;
  double seconds = 0;
  uint64_t sequences = 0;
  uint64_t prefill_tokens = 0;
  uint64_t decode_tokens = 0;
  uint64_t kv_blocks_used = 0;  // once the iteration's blocks are allocated
  double kv_share = 0;          // of its engine's blocks
  uint64_t waiting = 0;         // requests left waiting
  uint64_t preempted = 0;
  AdmissionLimit limit = AdmissionLimit::None;
  double energy_pj = 0;   // every device's
  double dram_bytes = 0;  // likewise
};

// One group of devices serving: its hardware and what the model leaves of its memory.
struct EngineFacts {
  DeviceFacts device;
  std::string system;  // the system's name; empty for one device (tensor_parallel 1)
  uint64_t tensor_parallel = 1;
  uint64_t weight_bytes = 0;        // one device's: its shard
  uint64_t kv_bytes_per_block = 0;  // likewise
  uint64_t kv_blocks = 0;
  std::optional<DeviceFacts> attention;  // the paired devices running attention, if apart
  uint64_t paired_weight_bytes = 0;      // what each of them holds of the weights
};

struct ServeResult {
  // The devices that decode (and, without a prefill pool, run the prompts too): `replicas`
  // copies of `tensor_parallel` devices each.
  DeviceFacts device;
  std::string system;  // the system's name; empty for one device (tensor_parallel 1)
  uint64_t tensor_parallel = 1;
  uint64_t replicas = 1;
  std::optional<EngineFacts> prefill;  // disaggregated: the prompts' devices
  std::optional<DeviceFacts> attention;  // the devices paired with the decoding ones for attention
  uint64_t attention_weight_bytes = 0;   // what each of them holds of the weights
  std::string model;
  workloads::QuantRecipe quant;  // the model's precision recipe
  RunSettings settings;  // as the device configured them
  ServeSettings serve;   // kv_blocks resolved
  uint64_t concurrency = 0;
  uint64_t weight_bytes = 0;        // one device's: its shard
  uint64_t kv_bytes_per_block = 0;  // likewise
  std::vector<RequestOutcome> requests;
  std::vector<IterationRecord> iterations;
  size_t simulated_shapes = 0;  // op shapes simulated; the others were interpolated

  double duration_s() const;  // from time 0 to the last request's finish
};

// finished, total, simulated time.
using ServeProgress = std::function<void(size_t, size_t, double)>;

// Serves on `tensor_parallel` devices of `hardware` sharing every layer (Megatron), their
// collectives on its links; a system of one device for one; settings.replicas such groups (of a
// system, they must fit its devices together; of one device, as many copies of it). Throws
// InputError for a load or settings that cannot run (a request larger than the cache, weights
// that leave no room for one, no memory capacity stated and no kv_blocks given), SettingError for
// a plan the system cannot place.
ServeResult serve(const arch::SystemSpec& hardware, uint64_t tensor_parallel, const workloads::ModelConfig& model,
                  ServeLoad load, ServeSettings settings, RunSettings run_settings, const ServeProgress& progress = {});

}  // namespace tessel::sim
