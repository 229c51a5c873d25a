#include "sim/system/links.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "mapper/collective_plan.h"

namespace tessel::sim {

namespace {

using workloads::OpKind;

arch::CollectiveKind kind_of(OpKind kind) {
  switch (kind) {
    case OpKind::AllReduce: return arch::CollectiveKind::AllReduce;
    case OpKind::AllGather: return arch::CollectiveKind::AllGather;
    case OpKind::ReduceScatter: return arch::CollectiveKind::ReduceScatter;
    case OpKind::AllToAll: return arch::CollectiveKind::AllToAll;
    default: break;
  }
  throw std::invalid_argument(workloads::kind_name(kind) + " is not a collective");
}

// The levels' names a cost uses, e.g. "nvlink+infiniband".
std::string levels_text(const std::vector<arch::LevelSpec>& levels, const arch::CollectiveCost& cost) {
  std::vector<size_t> used;
  for (const arch::CollectivePhase& phase : cost.phases) {
    for (const arch::LinkUse& use : phase.uses) {
      if (std::find(used.begin(), used.end(), use.level) == used.end()) used.push_back(use.level);
    }
  }
  std::sort(used.begin(), used.end());
  std::string text;
  for (size_t l : used) text += (text.empty() ? "" : "+") + levels[l].name;
  return text;
}

StatGroup cost_details(const std::vector<arch::LevelSpec>& levels, const arch::CollectiveCost& cost) {
  StatGroup group("links", "what the op does on the links between devices");
  group.add("algorithm", std::string(arch::to_string(cost.algorithm)), "the collective's algorithm")
      .add("fixed_seconds", cost.fixed_seconds, "s", "its fixed latency: launch and the members' handshake")
      .add("phases", uint64_t{cost.phases.size()}, "count", "phases, one after another");
  for (size_t i = 0; i < cost.phases.size(); ++i) {
    const arch::CollectivePhase& phase = cost.phases[i];
    StatGroup& p = group.child("phase" + std::to_string(i), "one phase of the algorithm");
    p.add("seconds", phase.seconds, "s", "the phase, its latencies included");
    for (const arch::LinkUse& use : phase.uses) {
      p.add(levels[use.level].name + (use.dim ? "_dim" + std::to_string(*use.dim) : "") + "_bytes", use.bytes,
            "bytes", "what one member's links at this level send in the phase");
    }
  }
  return group;
}

}  // namespace

OpResult SystemLinks::run(const workloads::Op& op, const RunSettings& settings) const {
  if (op.kind == OpKind::Send) return send(op, settings);
  if (op.kind == OpKind::WaitComm) {
    // Takes no time of its own: the timeline holds the device until the collectives are done.
    OpResult result;
    result.clock_hz = device_.facts().clock_hz;
    result.mapping = "waits for the " + workloads::group_name(op.shape_as<workloads::WaitShape>().group) +
                     " group's overlapped collectives";
    return result;
  }
  return collective(op, settings);
}

OpResult SystemLinks::collective(const workloads::Op& op, const RunSettings& settings) const {
  const auto& s = op.shape_as<workloads::CollectiveShape>();
  const arch::GroupSpan span = placement_.span(s.group);
  if (span.size() != s.devices) {
    throw std::logic_error("op '" + op.name + "' runs over " + std::to_string(s.devices) + " devices, its group has " +
                           std::to_string(span.size()));
  }
  const double bytes = static_cast<double>(s.rows * s.cols) * op.element_bytes(*settings.dtype);
  arch::CollectiveCost cost = mapper::plan_collective(placement_.system().levels, kind_of(op.kind), span, bytes,
                                                      placement_.plan().collective);
  OpResult result = result_of(op, settings, cost);
  result.mapping = std::string(arch::to_string(cost.algorithm)) + " over " + std::to_string(s.devices) +
                   " devices (" + levels_text(placement_.system().levels, cost) + ")";
  return result;
}

OpResult SystemLinks::send(const workloads::Op& op, const RunSettings& settings) const {
  const auto& s = op.shape_as<workloads::SendShape>();
  const double bytes = static_cast<double>(s.rows * s.cols) * op.element_bytes(*settings.dtype);
  const uint64_t from = placement_.device(0, s.stage, 0);
  const uint64_t to = placement_.device(0, s.to, 0);
  const arch::TransferCost transfer =
      arch::transfer_cost(placement_.system().levels, placement_.coordinates(from), placement_.coordinates(to), bytes);
  arch::CollectiveCost cost;
  cost.algorithm = arch::CollectiveAlgorithm::Direct;
  if (transfer.level) cost.phases.push_back({transfer.seconds, {{*transfer.level, std::nullopt, transfer.link_bytes, 1}}});
  OpResult result = result_of(op, settings, cost);
  result.mapping = "to stage " + std::to_string(s.to) +
                   (transfer.level ? " over " + placement_.system().levels[*transfer.level].name + " (" +
                                         std::to_string(transfer.hops) + " hop" + (transfer.hops == 1 ? ")" : "s)")
                                   : " on the same device");
  return result;
}

OpResult SystemLinks::result_of(const workloads::Op& op, const RunSettings& settings, arch::CollectiveCost cost) const {
  const std::vector<arch::LevelSpec>& levels = placement_.system().levels;
  const DeviceFacts& facts = device_.facts();
  const workloads::ByteCounts bytes = op.bytes(*settings.dtype);
  OpResult result;
  result.clock_hz = facts.clock_hz;
  result.cycles = static_cast<uint64_t>(std::ceil(cost.seconds() * facts.clock_hz));
  // Its buffers read from the device's memory and the result written back.
  result.activity.dram_read_bytes = bytes.read;
  result.activity.dram_write_bytes = bytes.written;
  result.energy = device_.energy(result.activity, *settings.dtype);
  double network = 0;  // the phases' bytes at the links' peak, one phase after another
  for (const arch::CollectivePhase& phase : cost.phases) {
    double slowest = 0;
    for (const arch::LinkUse& use : phase.uses) {
      result.energy.link_pj += use.bytes * levels[use.level].link.energy_pj_per_byte.value_or(0.0);
      slowest = std::max(slowest, use.bytes / (use.links * levels[use.level].link.bytes_per_second));
    }
    network += slowest;
  }
  const std::optional<double> memory = facts.dram_bytes_per_cycle();
  result.roofline = roofline_floors(
      0, memory ? static_cast<double>(result.activity.dram_read_bytes + result.activity.dram_write_bytes) / *memory : 0);
  result.roofline.network_cycles = static_cast<uint64_t>(std::floor(network * facts.clock_hz));
  result.details.push_back(cost_details(levels, cost));
  result.numerics = check_non_linear_op(op, settings);
  result.communication = std::move(cost);
  return result;
}

OpRunner system_op_runner(const SystemLinks& links, Device& device) {
  return [&links, &device](const workloads::Op& op, const RunSettings& settings) {
    return workloads::is_communication(op.kind) ? links.run(op, settings) : device.run(op, settings);
  };
}

OpSizer system_op_sizer(Device& device) {
  return [&device](const workloads::Op& op, const RunSettings& settings) {
    return workloads::is_communication(op.kind) ? uint64_t{0} : device.transactions(op, settings);
  };
}

}  // namespace tessel::sim
