#include "sim/report/system_layout.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>

#include "sim/report/model_layout.h"

namespace tessel::sim {

namespace {

// Every stage's devices do the same number of devices' work, so a device's figures on average
// are the stages' summed over micro-batches, divided by the stages.
struct DeviceAverage {
  uint64_t flops = 0;
  uint64_t macs = 0;
  uint64_t roofline_cycles = 0;
  arch::Activity activity;
  arch::EnergyBreakdown energy;
};

DeviceAverage device_average(const SystemRunResult& result) {
  DeviceAverage total;
  for (const StageRun& stage : result.stages) {
    for (const StepResult& step : stage.run.steps) {
      total.flops += step.flops;
      total.macs += step.macs;
      total.roofline_cycles += step.roofline_cycles;
      total.activity += step.activity;
      total.energy += step.energy;
    }
  }
  const uint64_t m = result.plan.microbatches;
  const uint64_t stages = result.plan.pipeline;
  DeviceAverage average;
  average.flops = total.flops * m / stages;
  average.macs = total.macs * m / stages;
  average.roofline_cycles = total.roofline_cycles * m / stages;
  const arch::Activity scaled = total.activity.times(m);
  average.activity.macs = scaled.macs / stages;
  average.activity.dram_read_bytes = scaled.dram_read_bytes / stages;
  average.activity.dram_write_bytes = scaled.dram_write_bytes / stages;
  for (size_t o = 0; o < 3; ++o) {
    average.activity.buffer_read_bytes[o] = scaled.buffer_read_bytes[o] / stages;
    average.activity.buffer_write_bytes[o] = scaled.buffer_write_bytes[o] / stages;
  }
  average.energy = total.energy.scaled(static_cast<double>(m) / static_cast<double>(stages));
  return average;
}

uint64_t makespan_cycles(const SystemRunResult& result) { return (result.timeline.end_ticks + 999) / 1000; }

bool all_fit(const SystemRunResult& result) {
  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  for (const StageRun& stage : result.stages) {
    if (capacity && stage.footprint.total() > *capacity) return false;
  }
  return true;
}

std::string layer_range(const StageRun& stage) {
  return std::to_string(stage.first_layer) + "-" + std::to_string(stage.first_layer + stage.layers - 1);
}

nlohmann::json plan_json(const SystemRunResult& result) {
  const ParallelPlan& p = result.plan;
  return {{"tp", p.tensor},
          {"pp", p.pipeline},
          {"dp", p.data},
          {"ep", p.expert},
          {"microbatches", p.microbatches},
          {"stage_layers", p.stage_layers},
          {"collective", p.collective ? std::string(arch::to_string(*p.collective)) : std::string("fastest")}};
}

nlohmann::json devices_json(const SystemRunResult& result) {
  const double seconds = result.seconds();
  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  nlohmann::json stages = nlohmann::json::array();
  for (size_t s = 0; s < result.stages.size(); ++s) {
    const StageRun& stage = result.stages[s];
    const Footprint& f = stage.footprint;
    const double busy = result.stage_busy_s(s);
    stages.push_back({{"stage", s},
                      {"layers", layer_range(stage)},
                      {"devices", result.devices_per_stage()},
                      {"busy_s", busy},
                      {"idle_s", seconds - busy},
                      {"idle_fraction", seconds > 0 ? 1.0 - busy / seconds : 0.0},
                      {"weight_bytes", f.weight_bytes},
                      {"kv_cache_bytes", f.kv_cache_bytes},
                      {"activation_bytes", f.activation_bytes},
                      {"memory_bytes", f.total()},
                      {"capacity_bytes", capacity ? nlohmann::json(*capacity) : nlohmann::json()},
                      {"fits", capacity ? nlohmann::json(f.total() <= *capacity) : nlohmann::json()}});
  }
  return stages;
}

}  // namespace

nlohmann::json system_summary_json(const SystemRunResult& result) {
  const RunResult& first = result.stages.front().run;
  nlohmann::json summary = model_summary_json(first);
  const bool generate = result.workload.request.kind == ModelRequest::Generate;
  const auto generate_only = [&](double value) { return generate ? nlohmann::json(value) : nlohmann::json(); };
  // One stage and one micro-batch: the stage's run is a device's whole run.
  if (result.plan.pipeline > 1 || result.plan.microbatches > 1) {
    const DeviceAverage average = device_average(result);
    const double peak = result.device.peak_macs_per_cycle(result.settings.dtype.value()) *
                        static_cast<double>(makespan_cycles(result));
    uint64_t weights = 0, cache = 0, checked = 0;
    bool passed = true;
    for (const StageRun& stage : result.stages) {
      weights = std::max(weights, stage.footprint.weight_bytes);
      cache = std::max(cache, stage.footprint.kv_cache_bytes);
      checked += stage.run.ops_checked();
      passed = passed && stage.run.numerics_passed();
    }
    summary["flops"] = average.flops;
    summary["macs"] = average.macs;
    summary["roofline_cycles"] = average.roofline_cycles;
    summary["utilization"] = peak > 0 ? static_cast<double>(average.macs) / peak : 0.0;
    summary["dram_read_bytes"] = average.activity.dram_read_bytes;
    summary["dram_write_bytes"] = average.activity.dram_write_bytes;
    summary["sram_read_bytes"] = average.activity.sram_read_bytes();
    summary["sram_write_bytes"] = average.activity.sram_write_bytes();
    summary["energy_pj"] = average.energy.total_pj();
    summary["energy_breakdown_pj"] = energy_breakdown_json(average.energy);
    summary["weight_bytes"] = weights;
    summary["kv_cache_bytes"] = cache;
    summary["numerics"] = {
        {"checked", checked > 0}, {"passed", numerics_passed_json(checked > 0, passed)}, {"ops_checked", checked}};
    summary["layers_note"] = "each stage simulates one layer of each run of its layers alike per step and counts it "
                             "for the run; figures are one device's on average";
  }
  summary["total_cycles"] = makespan_cycles(result);
  summary["seconds"] = result.seconds();
  summary["ttft_s"] = generate_only(result.ttft_s());
  summary["tpot_s"] = generate_only(result.tpot_s());
  summary["tokens_per_s"] = generate_only(result.tokens_per_s());
  summary["tensor_parallel"] = result.plan.tensor;
  summary["group_energy_pj"] =
      summary["energy_pj"].get<double>() * static_cast<double>(result.devices_used());
  summary["fits_in_dram"] = result.device.dram_capacity_bytes() ? nlohmann::json(all_fit(result)) : nlohmann::json();
  summary["system"] = {{"name", result.system_name},
                       {"file", result.system_file},
                       {"devices", result.system_devices},
                       {"devices_used", result.devices_used()},
                       {"levels", result.level_names}};
  summary["plan"] = plan_json(result);
  summary["devices"] = devices_json(result);
  summary["links"] = links_json(result.links);
  summary["warnings"] = result.warnings;
  return summary;
}

void write_system_ops_csv(const SystemRunResult& result, std::ostream& out) {
  if (result.stages.size() == 1) {
    write_ops_csv(result.stages.front().run, out);
    return;
  }
  for (size_t s = 0; s < result.stages.size(); ++s) write_ops_csv(result.stages[s].run, out, s, s == 0);
}

StatGroup system_stats_tree(const SystemRunResult& result) {
  StatGroup root("run", "tessel run of " + result.workload.model.name + " on " + result.system_name);
  root.add("total_cycles", makespan_cycles(result), "cycles", "the timeline, from the first op to the last")
      .add("seconds", result.seconds(), "s", "the timeline's end at the devices' clock")
      .add("devices_used", result.devices_used(), "count", "tp × pp × dp devices of the system");
  add_energy_stats(root, result.energy());
  StatGroup& stages = root.child("stages", "one device of each pipeline stage: its ops and its time on the timeline");
  for (size_t s = 0; s < result.stages.size(); ++s) {
    const StageRun& stage = result.stages[s];
    StatGroup& group = stages.child("stage" + std::to_string(s), "layers " + layer_range(stage));
    group.add("busy_s", result.stage_busy_s(s), "s", "computing or in a collective")
        .add("idle_s", result.seconds() - result.stage_busy_s(s), "s", "waiting for inputs or links (bubbles)")
        .add("memory_bytes", stage.footprint.total(), "bytes", "weights, KV cache and activations held");
    group.adopt(model_stats_tree(stage.run));
  }
  add_link_stats(root, result.links);
  return root;
}

void print_system_table(const SystemRunResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  const ParallelPlan& p = result.plan;
  out << result.workload.model.name << " on " << result.system_name << " (" << result.devices_used() << " of "
      << result.system_devices << " " << result.device.name << "): tp " << p.tensor << ", pp " << p.pipeline
      << ", dp " << p.data << ", " << p.microbatches << " micro-batch" << (p.microbatches == 1 ? "" : "es") << " ("
      << arch::to_string(*result.settings.dtype) << ")\n";
  out << "stage 0 (layers " << layer_range(result.stages.front()) << "), one device's ops:\n";
  print_model_steps(result.stages.front().run, out);
  const std::optional<uint64_t> capacity = result.device.dram_capacity_bytes();
  out << "\nstage  layers     devices   busy ms   idle %   memory GB" << (capacity ? " / capacity" : "") << '\n';
  for (size_t s = 0; s < result.stages.size(); ++s) {
    const StageRun& stage = result.stages[s];
    const double busy = result.stage_busy_s(s);
    out << std::left << std::setw(7) << s << std::setw(11) << layer_range(stage) << std::right << std::setw(7)
        << result.devices_per_stage() << std::fixed << std::setprecision(3) << std::setw(10) << busy * 1e3
        << std::setprecision(1) << std::setw(9) << 100.0 * (1.0 - busy / result.seconds()) << std::setw(12)
        << static_cast<double>(stage.footprint.total()) / 1e9;
    if (capacity) out << " / " << static_cast<double>(*capacity) / 1e9;
    out << '\n';
    out.flags(flags);
  }
  print_link_lines(result.links, out);
  out << std::setprecision(6) << "time " << result.seconds() * 1e3 << " ms";
  if (result.workload.request.kind == ModelRequest::Generate) {
    out << "; TTFT " << result.ttft_s() * 1e3 << " ms, TPOT " << result.tpot_s() * 1e3 << " ms, "
        << result.tokens_per_s() << " tokens/s";
  }
  const arch::EnergyBreakdown energy = result.energy();
  out << "; energy " << energy.total_pj() / 1e12 << " J (links " << energy.link_pj / 1e12 << " J)\n";
  for (const std::string& warning : result.warnings) out << "warning: " << warning << '\n';
  out.flags(flags);
}

nlohmann::json links_json(const std::vector<LinkLevelUsage>& links) {
  nlohmann::json levels = nlohmann::json::array();
  for (const LinkLevelUsage& level : links) {
    levels.push_back({{"level", level.name},
                      {"bytes", level.bytes},
                      {"busiest_link_busy_s", level.busiest_seconds},
                      {"busiest_link_utilization", level.utilization}});
  }
  return levels;
}

void add_link_stats(StatGroup& root, const std::vector<LinkLevelUsage>& links) {
  StatGroup& group = root.child("links", "each level of links over the run");
  for (const LinkLevelUsage& level : links) {
    group.child(level.name, "links of level " + level.name)
        .add("bytes", level.bytes, "bytes", "what crossed them, every device's")
        .add("busiest_link_busy_s", level.busiest_seconds, "s", "the busiest link's busy time")
        .add("busiest_link_utilization", level.utilization, "ratio", "its busy time / the run's");
  }
}

void print_link_lines(const std::vector<LinkLevelUsage>& links, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  for (const LinkLevelUsage& level : links) {
    out << "links " << level.name << ": " << std::fixed << std::setprecision(3) << level.bytes / 1e9
        << " GB, busiest link busy " << std::setprecision(1) << 100.0 * level.utilization << "% of the run\n";
    out.flags(flags);
  }
}

void write_trace(const SystemRunResult& result, std::ostream& out) {
  write_timeline_trace(result.timeline, result.system_name, result.device.clock_hz, out);
}

void write_timeline_trace(const TimelineResult& timeline, const std::string& process, double clock_hz,
                          std::ostream& out) {
  std::map<std::string, size_t> tracks;
  const double us_per_tick = 1e6 / (1000.0 * clock_hz);
  const std::ios::fmtflags flags = out.flags();
  out << std::setprecision(15) << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  for (const TimelineEvent& event : timeline.events) {
    const size_t track = tracks.emplace(event.track, tracks.size()).first->second;
    out << "{\"name\":" << nlohmann::json(event.name).dump() << ",\"cat\":\"" << event.category
        << "\",\"ph\":\"X\",\"pid\":1,\"tid\":" << track
        << ",\"ts\":" << static_cast<double>(event.start_ticks) * us_per_tick
        << ",\"dur\":" << static_cast<double>(event.duration_ticks) * us_per_tick << ",\"args\":{\"step\":" << event.step
        << ",\"microbatch\":" << event.microbatch << "}},\n";
  }
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":"
      << nlohmann::json(process).dump() << "}}";
  for (const auto& [name, track] : tracks) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << track
        << ",\"args\":{\"name\":" << nlohmann::json(name).dump() << "}}";
  }
  out << "]}\n";
  out.flags(flags);
}

}  // namespace tessel::sim
