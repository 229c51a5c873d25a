// One training iteration of a transformer on a system: each pipeline stage's (and model
// chunk's) forward and backward passes for a micro-batch and its optimizer step, built under
// the plan (workloads/training.h, workloads/data_parallel.h), each op costed once by the
// device or the links, then every stage's schedule of micro-batches run on one SystemC
// timeline with its overlapped collectives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/system_spec.h"
#include "sim/run_workload.h"
#include "sim/step_runner.h"
#include "sim/system/parallel_plan.h"
#include "sim/system/run_support.h"
#include "sim/system/schedule.h"
#include "sim/system/timeline.h"
#include "workloads/data_parallel.h"
#include "workloads/training.h"

namespace tessel::sim {

struct TrainingRequest {
  workloads::ModelConfig model;
  uint64_t global_batch = 1;  // sequences an iteration, over every replica and micro-batch
  uint64_t micro_batch = 1;   // sequences a pass
  uint64_t seq = 1;           // tokens a sequence
  workloads::AttentionImpl attention = workloads::AttentionImpl::Fused;
  workloads::Recompute recompute = workloads::Recompute::None;
  bool sequence_parallel = false;
  uint64_t lora_rank = 0;
  double expert_skew = 1.0;
  std::optional<workloads::ModelConfig> teacher;  // distillation's, on the same devices
};

struct TrainingPlan {
  ParallelPlan parallel;  // tp, pp, dp, ep; stage_layers over the virtual stages; the collective
  PipelineSchedule schedule = PipelineSchedule::OneFOneB;
  uint64_t chunks = 1;    // model chunks a stage holds (interleaved)
  uint64_t zero = 0;
};

// What one device of a stage holds: the model's state (ZeRO-sharded), the activations its
// schedule keeps at its peak, and the largest op's working set.
struct TrainingMemory {
  workloads::ModelStateBytes state;
  uint64_t activations = 0;
  uint64_t working = 0;
  uint64_t total() const { return state.total() + activations + working; }
};

struct TrainingChunk {
  uint64_t first_layer = 0;
  uint64_t layers = 0;
  StepResult forward;        // one micro-batch's
  StepResult backward;       // one that accumulates its gradients
  StepResult backward_last;  // the one whose gradients are reduced
  uint64_t saved_bytes = 0;  // what one micro-batch keeps for its backward pass
  uint64_t recomputed_macs = 0;
};

struct TrainingStage {
  std::vector<TrainingChunk> chunks;
  StepResult optimizer;
  uint64_t parameters = 0;  // held (its chunks'), and of those trained
  uint64_t trainable = 0;
  TrainingMemory memory;
  uint64_t peak_microbatches = 0;  // micro-batches' activations held at once, at the peak
  uint64_t busy_ticks = 0;
  uint64_t communication_ticks = 0;
};

// Where a stage's iteration went: its compute in each pass, communication it waited for, and
// the rest idle (the pipeline's bubble).
struct IterationPhases {
  double forward_s = 0;
  double backward_s = 0;
  double optimizer_s = 0;
  double communication_s = 0;
  double bubble_s = 0;
};

struct TrainingRunResult {
  std::string system_name;
  std::string system_file;
  uint64_t system_devices = 0;
  std::vector<std::string> level_names;
  TrainingPlan plan;  // as run: stage layers resolved
  TrainingRequest request;
  uint64_t microbatches = 0;  // per replica an iteration
  DeviceFacts device;
  RunSettings settings;  // its dtype the compute format
  // fp8 training (asked for as dtype fp8): the layers' products in fp8, the rest in bf16.
  bool fp8 = false;
  workloads::DataParallelOptions data_parallel;
  std::vector<TrainingStage> stages;
  std::vector<LinkLevelUsage> links;
  TimelineResult timeline;
  // The model's and the teacher's (what their configs ask for that tessel does not model), then
  // footprints over capacity when fitting is not required.
  std::vector<std::string> warnings;

  uint64_t devices_used() const { return plan.parallel.devices(); }
  uint64_t devices_per_stage() const { return plan.parallel.tensor * plan.parallel.data; }
  double iteration_s() const;
  double tokens_per_s() const;
  // Floating-point operations of the matrix products an iteration runs on every device: those
  // the model needs (forward and backward), and with recomputation (what the hardware does).
  double model_flops() const;
  double hardware_flops() const;
  // The format of the layers' products: fp8 under fp8 training, else the compute format.
  arch::DType product_format() const;
  // Those over the iteration at every device's peak in the products' format.
  double mfu() const;
  double hfu() const;
  IterationPhases phases(size_t stage) const;
  size_t busiest_stage() const;  // the most compute
  // One iteration, every device's and link's.
  arch::EnergyBreakdown energy() const;
};

struct TrainingRunOptions {
  bool require_fit = true;     // a device whose memory is too small is an error (else a warning)
  bool record_events = false;  // for --trace
  // Stop once every stage's memory is known: no op is costed and no timeline run.
  bool memory_only = false;
  // Device ops' results shared with other runs of the same device and settings.
  OpCostCache* op_cache = nullptr;
};

// What the model's and the teacher's configs ask for that tessel does not model, the teacher's
// marked as such: the first warnings of a run of the request.
std::vector<std::string> config_warnings(const TrainingRequest& request);

// Throws SettingError for a plan the system cannot hold or run (devices, sizes that do not
// divide, a schedule that cannot run, memory when fitting is required); InputError for an
// invalid model or request.
TrainingRunResult run_training(const arch::SystemSpec& system, const TrainingRequest& request, const TrainingPlan& plan,
                               const RunSettings& settings, const TrainingRunOptions& options = {},
                               const RunObserver& observer = {});

}  // namespace tessel::sim
