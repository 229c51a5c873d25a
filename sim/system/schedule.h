// The programs the system timeline runs: in what order each pipeline stage does its work and
// what each piece waits for. Inference runs each step micro-batch by micro-batch; training runs
// a pipeline schedule's forward and backward passes (GPipe, 1F1B, interleaved 1F1B), then the
// optimizer step.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/system/timeline.h"

namespace tessel::sim {

// Inference: every step (the prefill, each decode step) of every micro-batch through the
// stages; a stage waits for the stage before, and the first stage of a decode step for the
// token its micro-batch sampled at the last. `work(stage, step)` is the stage's step.
std::vector<std::vector<TimelineAction>> inference_programs(
    uint64_t stages, size_t steps, uint64_t microbatches,
    const std::function<const StepResult*(uint64_t, size_t)>& work);

// Training: how each stage orders its micro-batches' passes.
//   GPipe: every forward pass, then every backward pass (fill and drain).
//   1F1B: PipeDream-Flush as Megatron runs it: stage s of p does p − s − 1 forward passes, then
//     alternates one forward and one backward pass, then drains; it holds at most p − s
//     micro-batches' activations where GPipe holds m.
//   Interleaved: each stage holds `chunks` model chunks (virtual stages c·p + s) and runs 1F1B
//     over micro-batches and chunks in Megatron's order, which shrinks the bubble by the number
//     of chunks.
enum class PipelineSchedule { GPipe, OneFOneB, Interleaved };

std::string_view to_string(PipelineSchedule schedule);
std::optional<PipelineSchedule> parse_schedule(std::string_view text);  // "gpipe", "1f1b", "interleaved"

enum class Pass { Forward, Backward };

struct ScheduledPass {
  Pass pass = Pass::Forward;
  uint64_t microbatch = 0;
  uint64_t chunk = 0;
};

// Stage `stage`'s passes in order. Throws SettingError when the schedule cannot run the
// micro-batches (interleaving needs a multiple of the stages).
std::vector<ScheduledPass> pipeline_order(PipelineSchedule schedule, uint64_t stages, uint64_t stage,
                                          uint64_t microbatches, uint64_t chunks);

// The most micro-batches whose activations the order holds at once, each weighed by its chunk's
// `weight` (the bytes it keeps): the peak of what forward passes add and backward passes free.
uint64_t peak_held(const std::vector<ScheduledPass>& order, const std::function<uint64_t(uint64_t chunk)>& weight);

// What a training step's programs run: per stage and chunk, its forward pass, its backward pass
// and the backward pass of the micro-batch that completes the gradients (the data-parallel
// reduction's, when it differs), and per stage the optimizer step.
struct TrainingWork {
  std::function<const StepResult*(uint64_t stage, uint64_t chunk)> forward;
  std::function<const StepResult*(uint64_t stage, uint64_t chunk, bool last_microbatch)> backward;
  std::function<const StepResult*(uint64_t stage)> optimizer;
};

// The programs of one training step: each stage's passes in its schedule's order, a forward
// pass waiting for the activations of the virtual stage before, a backward pass for the
// gradients of the one after, then its optimizer step. TimelineAction::step is 0 for forward
// passes, 1 for backward passes and 2 for the optimizer step.
std::vector<std::vector<TimelineAction>> training_programs(PipelineSchedule schedule, uint64_t stages,
                                                           uint64_t microbatches, uint64_t chunks,
                                                           const TrainingWork& work);

// Inputs each stage numbers in a training step's programs.
size_t training_slots(uint64_t microbatches, uint64_t chunks);

}  // namespace tessel::sim
