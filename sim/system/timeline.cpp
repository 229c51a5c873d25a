#include "sim/system/timeline.h"

#include <systemc>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <tuple>

#include "sim/sc_kernel.h"

namespace tessel::sim {

namespace {

constexpr uint64_t kTicksPerCycle = 1000;
constexpr uint64_t kUnknown = std::numeric_limits<uint64_t>::max();

sc_core::sc_time ticks(uint64_t count) { return sc_core::sc_time(static_cast<double>(count), sc_core::SC_PS); }
uint64_t now() { return sc_core::sc_time_stamp().value(); }

struct Link {
  uint64_t free_at = 0;
  LinkUsage usage;
};

using Stream = std::pair<workloads::CollectiveGroup, uint32_t>;

// What every stage's process shares: the links and the inputs each stage is waiting for.
struct Shared {
  explicit Shared(const TimelineInput& in) : input(in) {
    const size_t stages = in.programs.size();
    arrivals.assign(stages, std::vector<uint64_t>(in.slots, kUnknown));
    for (size_t s = 0; s < stages; ++s) arrived.push_back(std::make_unique<sc_core::sc_event>());
    result.busy_ticks.assign(stages, 0);
    result.communication_ticks.assign(stages, 0);
    result.finished.assign(in.steps, std::vector<uint64_t>(in.microbatches, 0));
  }

  const TimelineInput& input;
  std::map<LinkKey, Link> links;
  std::vector<std::vector<uint64_t>> arrivals;  // [stage][slot]
  std::vector<std::unique_ptr<sc_core::sc_event>> arrived;
  TimelineResult result;
};

// The links of `device` a phase's use occupies: its port into a switch, both ways, or its links
// along the torus dimensions used, both directions.
std::vector<LinkKey> links_of(const arch::SystemSpec& system, uint64_t device, const arch::LinkUse& use) {
  const arch::LevelSpec& level = system.levels[use.level];
  std::vector<LinkKey> keys;
  const uint32_t l = static_cast<uint32_t>(use.level);
  if (level.topology == arch::Topology::Switch) return {{device, l, -1, 0}, {device, l, -1, 1}};
  for (size_t d = 0; d < level.dims.size(); ++d) {
    if ((use.dim && *use.dim != d) || level.dims[d] <= 1) continue;
    keys.push_back({device, l, static_cast<int32_t>(d), 0});
    keys.push_back({device, l, static_cast<int32_t>(d), 1});
  }
  return keys;
}

// The links a message from `from` to `to` crosses: the sender's port out and the receiver's
// port in at a switch; hop by hop along each torus dimension in turn, the shorter way round.
std::vector<LinkKey> route(const Placement& placement, uint64_t from, uint64_t to) {
  const arch::SystemSpec& system = placement.system();
  const auto a = placement.coordinates(from);
  const auto b = placement.coordinates(to);
  for (size_t l = system.levels.size(); l-- > 0;) {
    if (a[l] == b[l]) continue;
    const arch::LevelSpec& level = system.levels[l];
    const uint32_t level_index = static_cast<uint32_t>(l);
    if (level.topology == arch::Topology::Switch) return {{from, level_index, -1, 0}, {to, level_index, -1, 1}};
    std::vector<LinkKey> hops;
    std::vector<std::vector<uint32_t>> at = a;
    uint64_t stride = 1;  // of this level's first dimension, in device indices
    for (size_t inner = 0; inner < l; ++inner) stride *= system.levels[inner].size();
    uint64_t device = from;
    for (size_t d = 0; d < level.dims.size(); ++d) {
      const uint32_t size = level.dims[d];
      const uint32_t forward = (b[l][d] + size - at[l][d]) % size;
      const bool up = !level.wraparound ? b[l][d] > at[l][d] : forward <= size - forward;
      while (at[l][d] != b[l][d]) {
        hops.push_back({device, level_index, static_cast<int32_t>(d), up ? 0u : 1u});
        const uint32_t next = up ? (at[l][d] + 1) % size : (at[l][d] + size - 1) % size;
        device = device - at[l][d] * stride + next * stride;
        at[l][d] = next;
      }
      stride *= size;
    }
    return hops;
  }
  return {};
}

// The earliest tick from `earliest` on when every link of `keys` is free.
uint64_t free_from(Shared& shared, const std::vector<LinkKey>& keys, uint64_t earliest) {
  for (const LinkKey& key : keys) earliest = std::max(earliest, shared.links[key].free_at);
  return earliest;
}

// Takes the links for [start, start + span), `bytes` crossing them.
void occupy(Shared& shared, const std::vector<LinkKey>& keys, uint64_t start, uint64_t span, double bytes) {
  for (const LinkKey& key : keys) {
    Link& link = shared.links[key];
    link.free_at = start + span;
    link.usage.busy_ticks += span;
    link.usage.bytes += bytes / static_cast<double>(keys.size());
  }
}

// What a stage's process and its streams' processes share: running a collective's parts on
// the links, each phase as soon as the links it needs are free, and recording the trace.
class LinkUser : public sc_core::sc_module {
 protected:
  LinkUser(const sc_core::sc_module_name& name, Shared& shared, uint64_t stage, std::string track)
      : sc_core::sc_module(name), shared_(shared), stage_(stage),
        device_(shared.input.placement->device(0, stage, 0)), track_(std::move(track)) {}

  // The ticks at which each of a collective's parts ends, counted from its start: its fixed
  // latency, then each phase, in whole ticks that add up to its cycles.
  static std::vector<uint64_t> part_ends(const OpResult& op) {
    const arch::CollectiveCost& cost = *op.communication;
    const uint64_t total = op.cycles * kTicksPerCycle;
    const double seconds = cost.seconds();
    std::vector<uint64_t> ends;
    double elapsed = cost.fixed_seconds;
    const auto boundary = [&](double at) {
      return seconds > 0 ? static_cast<uint64_t>(std::llround(at / seconds * static_cast<double>(total))) : 0;
    };
    ends.push_back(boundary(elapsed));
    for (const arch::CollectivePhase& phase : cost.phases) {
      elapsed += phase.seconds;
      ends.push_back(boundary(elapsed));
    }
    return ends;
  }

  // Its fixed latency, then phase by phase on the links it needs, each as soon as they are
  // free; `occupied(span)` passes the parts' time, `waited(span)` the waits for links.
  template <typename Occupied, typename Waited>
  void run_collective(const OpResult& op, Occupied occupied, Waited waited) {
    const std::vector<uint64_t> ends = part_ends(op);
    record(track_, op.name, "collective", now(), ends[0]);
    occupied(ends[0]);
    const arch::SystemSpec& system = shared_.input.placement->system();
    for (size_t p = 0; p < op.communication->phases.size(); ++p) {
      const arch::CollectivePhase& phase = op.communication->phases[p];
      const uint64_t span = ends[p + 1] - ends[p];
      uint64_t start = now();
      for (const arch::LinkUse& use : phase.uses) start = free_from(shared_, links_of(system, device_, use), start);
      for (const arch::LinkUse& use : phase.uses) {
        occupy(shared_, links_of(system, device_, use), start, span, use.bytes);
        record(link_track(static_cast<uint32_t>(use.level)), op.name, "collective", start, span);
      }
      if (start > now()) waited(start - now());
      record(track_, op.name, "collective", start, span);
      occupied(span);
    }
  }

  std::string link_track(uint32_t level) const {
    return "stage " + std::to_string(stage_) + " " + shared_.input.placement->system().levels[level].name;
  }

  void record(const std::string& track, const std::string& name, const char* category, uint64_t start,
              uint64_t span) {
    if (!shared_.input.record_events || span == 0) return;
    shared_.result.events.push_back({track, name, category, start, span, step_, microbatch_});
  }

  Shared& shared_;
  uint64_t stage_;
  uint64_t device_;
  std::string track_;
  size_t step_ = 0;  // the labels of what runs, for the trace
  uint64_t microbatch_ = 0;
};

// One stream of a stage's overlapped collectives (NCCL's communicator of a group): it runs them
// one after another, each when the one before is done, on the links as they come free, while
// the stage's device computes.
class StreamProcess : public LinkUser {
 public:
  SC_HAS_PROCESS(StreamProcess);

  StreamProcess(const sc_core::sc_module_name& name, Shared& shared, uint64_t stage, const Stream& stream)
      : LinkUser(name, shared, stage,
                 "stage " + std::to_string(stage) + " " + workloads::group_name(stream.first) + " stream " +
                     std::to_string(stream.second)) {
    SC_THREAD(run);
  }

  void enqueue(const OpResult& op, size_t step, uint64_t microbatch) {
    queue_.push_back({&op, step, microbatch});
    queued_.notify(sc_core::SC_ZERO_TIME);
  }

  size_t issued() const { return queue_.size(); }
  size_t completed() const { return completed_; }
  const sc_core::sc_event& done() const { return done_; }

 private:
  struct Item {
    const OpResult* op;
    size_t step;
    uint64_t microbatch;
  };

  void run() {
    for (;;) {
      while (completed_ == queue_.size()) wait(queued_);
      const Item item = queue_[completed_];
      step_ = item.step;
      microbatch_ = item.microbatch;
      const auto pass = [this](uint64_t span) { wait(ticks(span)); };
      run_collective(*item.op, pass, pass);
      ++completed_;
      done_.notify(sc_core::SC_ZERO_TIME);
    }
  }

  std::vector<Item> queue_;
  size_t completed_ = 0;
  sc_core::sc_event queued_;
  sc_core::sc_event done_;
};

class StageProcess : public LinkUser {
 public:
  SC_HAS_PROCESS(StageProcess);

  StageProcess(const sc_core::sc_module_name& name, Shared& shared, uint64_t stage)
      : LinkUser(name, shared, stage, "stage " + std::to_string(stage)) {
    SC_THREAD(run);
    // A process for each stream the stage's program uses, made before the simulation starts.
    for (const TimelineAction& action : shared.input.programs[stage]) {
      for (const OpResult& op : action.work->ops) {
        if (op.stream && streams_.count(*op.stream) == 0) {
          const std::string stream_name = "stream_" + workloads::group_name(op.stream->first) + "_" +
                                          std::to_string(op.stream->second);
          streams_.emplace(*op.stream, std::make_unique<StreamProcess>(stream_name.c_str(), shared, stage, *op.stream));
        }
      }
    }
  }

 private:
  void run() {
    for (const TimelineAction& action : shared_.input.programs[stage_]) {
      if (action.waits_for) wait_for_input(*action.waits_for);
      action_ = &action;
      step_ = action.step;
      microbatch_ = action.microbatch;
      sent_ = false;
      execute(*action.work);
      if (action.finishes) shared_.result.finished[action.finishes->first][action.finishes->second] = now();
      if (action.delivers && !sent_) {
        // A token back to the first stage: a few bytes, the link's latency.
        const Placement& placement = *shared_.input.placement;
        const arch::TransferCost back =
            arch::transfer_cost(placement.system().levels, placement.coordinates(device_),
                                placement.coordinates(placement.device(0, action.delivers->stage, 0)), 0.0);
        arrive(*action.delivers, now() + to_ticks(back.seconds));
      }
    }
    for (const auto& [stream, process] : streams_) wait_for_stream(stream, 0);
  }

  void wait_for_input(size_t slot) {
    while (shared_.arrivals[stage_][slot] == kUnknown) wait(*shared_.arrived[stage_]);
    const uint64_t at = shared_.arrivals[stage_][slot];
    if (at > now()) wait(ticks(at - now()));
  }

  void arrive(const Delivery& to, uint64_t at) {
    shared_.arrivals[to.stage][to.slot] = at;
    shared_.arrived[to.stage]->notify(ticks(at - now()));
  }

  uint64_t to_ticks(double seconds) const {
    return static_cast<uint64_t>(std::ceil(seconds * shared_.input.clock_hz)) * kTicksPerCycle;
  }

  void execute(const StepResult& work) {
    const auto visit_range = [&](size_t first, size_t end) {
      for (size_t i = first; i < end; ++i) visit(work.ops[i]);
    };
    size_t next = 0;
    for (const StepBlock& block : work.blocks) {
      visit_range(next, block.first);
      for (uint64_t r = 0; r < block.repeats; ++r) visit_range(block.first, block.first + block.count);
      next = block.first + block.count;
    }
    visit_range(next, work.ops.size());
    flush();
  }

  void visit(const OpResult& op) {
    if (!op.communication && op.kind != workloads::OpKind::WaitComm) {
      if (pending_ == 0) chunk_first_ = op.name;
      chunk_last_ = op.name;
      pending_ += op.cycles * kTicksPerCycle;
      return;
    }
    flush();
    if (op.kind == workloads::OpKind::WaitComm) {
      wait_for_stream(*op.stream, op.wait_keep);
    } else if (op.kind == workloads::OpKind::Send) {
      send(op);
    } else if (op.stream) {
      streams_.at(*op.stream)->enqueue(op, step_, microbatch_);
    } else {
      // The device takes part in it: busy while it runs, waiting while its links are taken.
      run_collective(
          op, [this](uint64_t span) { communicate(span); },
          [this](uint64_t span) {
            shared_.result.communication_ticks[stage_] += span;
            wait(ticks(span));
          });
    }
  }

  // The compute ops since the last communication, back to back.
  void flush() {
    if (pending_ == 0) return;
    const std::string name = chunk_first_ == chunk_last_ ? chunk_first_ : chunk_first_ + " .. " + chunk_last_;
    record(track_, name, "compute", now(), pending_);
    busy(pending_);
    pending_ = 0;
  }

  void busy(uint64_t span) {
    shared_.result.busy_ticks[stage_] += span;
    wait(ticks(span));
  }

  void communicate(uint64_t span) {
    shared_.result.communication_ticks[stage_] += span;
    busy(span);
  }

  // Until a stream's overlapped collectives are done, all but the `keep` latest.
  void wait_for_stream(const Stream& stream, uint64_t keep) {
    const auto it = streams_.find(stream);
    if (it == streams_.end() || it->second->issued() <= keep) return;
    const StreamProcess& process = *it->second;
    const size_t target = process.issued() - keep;
    const uint64_t from = now();
    while (process.completed() < target) wait(process.done());
    if (now() == from) return;
    record(track_, "wait for " + workloads::group_name(stream.first) + " stream " + std::to_string(stream.second),
           "wait", from, now() - from);
    shared_.result.communication_ticks[stage_] += now() - from;
  }

  // Activations (or gradients) to another stage: the links of the route, from when they are
  // free; the sender goes on.
  void send(const OpResult& op) {
    if (!action_->delivers) throw std::logic_error("op '" + op.name + "' sends, but its action delivers nowhere");
    const Delivery& to = *action_->delivers;
    const uint64_t span = op.cycles * kTicksPerCycle;
    const Placement& placement = *shared_.input.placement;
    const std::vector<LinkKey> keys = route(placement, device_, placement.device(0, to.stage, 0));
    double bytes = 0;
    for (const arch::CollectivePhase& phase : op.communication->phases) {
      for (const arch::LinkUse& use : phase.uses) bytes += use.bytes;
    }
    const uint64_t start = free_from(shared_, keys, now());
    occupy(shared_, keys, start, span, bytes);
    if (!keys.empty()) record(link_track(keys.front().level), op.name, "send", start, span);
    arrive(to, start + span);
    sent_ = true;
  }

  const TimelineAction* action_ = nullptr;
  bool sent_ = false;
  uint64_t pending_ = 0;  // compute ticks not yet waited
  std::string chunk_first_, chunk_last_;
  std::map<Stream, std::unique_ptr<StreamProcess>> streams_;
};

}  // namespace

bool LinkKey::operator<(const LinkKey& other) const {
  return std::tie(device, level, dim, direction) < std::tie(other.device, other.level, other.dim, other.direction);
}

double TimelineResult::seconds(uint64_t count, double clock_hz) const {
  return static_cast<double>(count) / (static_cast<double>(kTicksPerCycle) * clock_hz);
}

TimelineResult run_timeline(const TimelineInput& input) {
  fresh_kernel();
  Shared shared(input);
  std::vector<std::unique_ptr<StageProcess>> stages;
  for (uint64_t s = 0; s < input.programs.size(); ++s) {
    stages.push_back(std::make_unique<StageProcess>(("stage" + std::to_string(s)).c_str(), shared, s));
  }
  run_kernel();
  shared.result.end_ticks = now();
  for (const auto& [key, link] : shared.links) shared.result.links[key] = link.usage;
  return std::move(shared.result);
}

}  // namespace tessel::sim
