#include "sim/system/schedule.h"

#include <algorithm>
#include <string>

#include "sim/device.h"

namespace tessel::sim {

namespace {

// A forward pass of (micro-batch, chunk) waits in slot 2·i, a backward pass in slot 2·i + 1.
size_t slot(uint64_t microbatch, uint64_t chunk, uint64_t chunks, Pass pass) {
  return static_cast<size_t>((microbatch * chunks + chunk) * 2 + (pass == Pass::Backward ? 1 : 0));
}

// Megatron's order of an interleaved stage's k-th forward (or backward) pass: groups of
// stages × chunks passes, each going chunk by chunk (backward passes from the last chunk) over
// `stages` consecutive micro-batches.
ScheduledPass interleaved_pass(uint64_t k, uint64_t stages, uint64_t chunks, Pass pass) {
  const uint64_t group = stages * chunks;
  const uint64_t in_group = k % group;
  uint64_t chunk = in_group / stages;
  if (pass == Pass::Backward) chunk = chunks - 1 - chunk;
  return {pass, k / group * stages + in_group % stages, chunk};
}

// Warm-up forward passes, then one forward and one backward pass at a time, then the backward
// passes left; `nth(pass, k)` is the k-th pass of its kind.
template <typename Nth>
std::vector<ScheduledPass> one_forward_one_backward(uint64_t total, uint64_t warmup, Nth nth) {
  warmup = std::min(warmup, total);
  std::vector<ScheduledPass> order;
  for (uint64_t k = 0; k < warmup; ++k) order.push_back(nth(Pass::Forward, k));
  for (uint64_t k = 0; k + warmup < total; ++k) {
    order.push_back(nth(Pass::Forward, warmup + k));
    order.push_back(nth(Pass::Backward, k));
  }
  for (uint64_t k = total - warmup; k < total; ++k) order.push_back(nth(Pass::Backward, k));
  return order;
}

}  // namespace

std::vector<std::vector<TimelineAction>> inference_programs(
    uint64_t stages, size_t steps, uint64_t microbatches,
    const std::function<const StepResult*(uint64_t, size_t)>& work) {
  const auto at = [&](size_t step, uint64_t mb) { return static_cast<size_t>(step * microbatches + mb); };
  std::vector<std::vector<TimelineAction>> programs(stages);
  for (uint64_t s = 0; s < stages; ++s) {
    const bool first = s == 0, last = s + 1 == stages;
    for (size_t step = 0; step < steps; ++step) {
      for (uint64_t mb = 0; mb < microbatches; ++mb) {
        TimelineAction action;
        action.work = work(s, step);
        action.step = step;
        action.microbatch = mb;
        // The first stage's first step has its prompt; a lone stage its own previous step.
        if (!(first && (step == 0 || last))) action.waits_for = at(step, mb);
        if (!last) action.delivers = Delivery{s + 1, at(step, mb)};
        if (last && !first && step + 1 < steps) action.delivers = Delivery{0, at(step + 1, mb)};
        if (last) action.finishes = std::make_pair(step, mb);
        programs[s].push_back(action);
      }
    }
  }
  return programs;
}

std::string_view to_string(PipelineSchedule schedule) {
  switch (schedule) {
    case PipelineSchedule::GPipe: return "gpipe";
    case PipelineSchedule::OneFOneB: return "1f1b";
    case PipelineSchedule::Interleaved: return "interleaved";
  }
  return "1f1b";
}

std::optional<PipelineSchedule> parse_schedule(std::string_view text) {
  using S = PipelineSchedule;
  for (const S s : {S::GPipe, S::OneFOneB, S::Interleaved}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::vector<ScheduledPass> pipeline_order(PipelineSchedule schedule, uint64_t stages, uint64_t stage,
                                          uint64_t microbatches, uint64_t chunks) {
  if (schedule != PipelineSchedule::Interleaved && chunks != 1) {
    throw SettingError("--chunks " + std::to_string(chunks) + ": only the interleaved schedule runs model chunks");
  }
  switch (schedule) {
    case PipelineSchedule::GPipe:
      return one_forward_one_backward(microbatches, microbatches,
                                      [](Pass pass, uint64_t k) { return ScheduledPass{pass, k, 0}; });
    case PipelineSchedule::OneFOneB:
      return one_forward_one_backward(microbatches, stages - stage - 1,
                                      [](Pass pass, uint64_t k) { return ScheduledPass{pass, k, 0}; });
    case PipelineSchedule::Interleaved:
      if (microbatches % stages != 0) {
        throw SettingError("--schedule interleaved: the " + std::to_string(microbatches) +
                           " micro-batches must be a multiple of the " + std::to_string(stages) + " stages");
      }
      return one_forward_one_backward(microbatches * chunks, (stages - stage - 1) * 2 + (chunks - 1) * stages,
                                      [&](Pass pass, uint64_t k) { return interleaved_pass(k, stages, chunks, pass); });
  }
  return {};
}

uint64_t peak_held(const std::vector<ScheduledPass>& order, const std::function<uint64_t(uint64_t chunk)>& weight) {
  uint64_t held = 0, peak = 0;
  for (const ScheduledPass& p : order) {
    if (p.pass == Pass::Forward) {
      held += weight(p.chunk);
      peak = std::max(peak, held);
    } else {
      held -= weight(p.chunk);
    }
  }
  return peak;
}

size_t training_slots(uint64_t microbatches, uint64_t chunks) { return static_cast<size_t>(microbatches * chunks * 2); }

std::vector<std::vector<TimelineAction>> training_programs(PipelineSchedule schedule, uint64_t stages,
                                                           uint64_t microbatches, uint64_t chunks,
                                                           const TrainingWork& work) {
  const uint64_t virtual_stages = stages * chunks;
  std::vector<std::vector<TimelineAction>> programs(stages);
  for (uint64_t s = 0; s < stages; ++s) {
    for (const ScheduledPass& p : pipeline_order(schedule, stages, s, microbatches, chunks)) {
      const uint64_t position = p.chunk * stages + s;  // its virtual stage
      TimelineAction action;
      action.microbatch = p.microbatch;
      if (p.pass == Pass::Forward) {
        action.work = work.forward(s, p.chunk);
        if (position > 0) action.waits_for = slot(p.microbatch, p.chunk, chunks, Pass::Forward);
        if (position + 1 < virtual_stages) {
          const uint64_t next = position + 1;
          action.delivers = Delivery{next % stages, slot(p.microbatch, next / stages, chunks, Pass::Forward)};
        }
      } else {
        action.step = 1;
        action.work = work.backward(s, p.chunk, p.microbatch + 1 == microbatches);
        if (position + 1 < virtual_stages) action.waits_for = slot(p.microbatch, p.chunk, chunks, Pass::Backward);
        if (position > 0) {
          const uint64_t previous = position - 1;
          action.delivers =
              Delivery{previous % stages, slot(p.microbatch, previous / stages, chunks, Pass::Backward)};
        }
      }
      programs[s].push_back(action);
    }
    TimelineAction optimizer;
    optimizer.work = work.optimizer(s);
    optimizer.step = 2;
    programs[s].push_back(optimizer);
  }
  return programs;
}

}  // namespace tessel::sim
