#include "sim/report/serving_layout.h"

#include <iomanip>
#include <ostream>
#include <string>

#include "sim/report/build_info.h"
#include "sim/report/common.h"

namespace tessel::sim {

namespace {

nlohmann::json distribution_json(const Distribution& d) {
  return {{"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
}

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json serve_summary_json(const ServeResult& result, const ServeSummary& s,
                                  const ServiceObjectives& objectives) {
  const SchedulerSettings& scheduler = result.serve.scheduler;
  nlohmann::json summary;
  summary["arch"] = result.device.name;
  summary["arch_file"] = result.device.source_file;
  summary["system"] = result.system.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.system);
  summary["tp"] = result.tensor_parallel;
  summary["replicas"] = result.replicas;
  summary["model"] = result.model;
  summary["quant"] = quant_json(result.quant);
  summary["dtype"] = std::string(arch::to_string(*result.settings.dtype));
  const nlohmann::json concurrency =
      result.concurrency == 0 ? nlohmann::json(nullptr) : nlohmann::json(result.concurrency);
  summary["load"] = {{"requests", s.requests},
                     {"concurrency", concurrency},
                     {"prompt_tokens", s.prompt_tokens},
                     {"output_tokens", s.output_tokens}};
  summary["scheduler"] = {{"policy", policy_name(scheduler.policy)},
                          {"max_batch", scheduler.max_batch},
                          {"token_budget", scheduler.token_budget},
                          {"chunked_prefill", scheduler.chunked_prefill},
                          {"block_size", scheduler.block_size},
                          {"kv_blocks", scheduler.kv_blocks},
                          {"memory_fraction", result.serve.memory_fraction},
                          {"shape_cells", result.serve.shape_cells}};
  summary["offload_weights_bytes_per_s"] = optional_json(result.serve.offload_link_bytes_per_s);
  summary["offload_kv_bytes_per_s"] = optional_json(result.serve.kv_link_bytes_per_s);
  summary["kv_host_bytes"] = optional_json(result.serve.kv_host_bytes);
  if (result.serve.speculation) {
    const Speculation& speculation = *result.serve.speculation;
    summary["speculation"] = {{"draft_model", speculation.draft.name},
                              {"draft_tokens", speculation.tokens},
                              {"acceptance", speculation.acceptance}};
  } else {
    summary["speculation"] = nullptr;
  }
  summary["memory"] = {{"weight_bytes", result.weight_bytes},
                       {"kv_bytes_per_block", result.kv_bytes_per_block},
                       {"kv_cache_bytes", result.kv_bytes_per_block * scheduler.kv_blocks}};
  if (result.prefill) {
    const EngineFacts& p = *result.prefill;
    summary["prefill"] = {{"arch", p.device.name},
                          {"arch_file", p.device.source_file},
                          {"system", p.system.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.system)},
                          {"tp", p.tensor_parallel},
                          {"weight_bytes", p.weight_bytes},
                          {"kv_blocks", p.kv_blocks},
                          {"kv_link_bytes_per_s", result.serve.prefill->link_bytes_per_s},
                          {"kv_link_latency_s", result.serve.prefill->link_latency_s}};
  } else {
    summary["prefill"] = nullptr;
  }
  if (result.attention) {
    summary["attention"] = {{"arch", result.attention->name},
                            {"arch_file", result.attention->source_file},
                            {"link_bytes_per_s", result.serve.attention->link_bytes_per_s},
                            {"link_latency_s", result.serve.attention->link_latency_s},
                            {"ops", result.serve.attention->ops.patterns()},
                            {"microbatches", result.serve.attention->microbatches},
                            {"weight_bytes", result.attention_weight_bytes}};
  } else {
    summary["attention"] = nullptr;
  }
  summary["duration_s"] = s.duration_s;
  summary["throughput"] = {{"requests_per_s", s.requests_per_s},
                           {"output_tokens_per_s", s.output_tokens_per_s},
                           {"total_tokens_per_s", s.total_tokens_per_s}};
  summary["queueing_s"] = distribution_json(s.queueing_s);
  summary["ttft_s"] = distribution_json(s.ttft_s);
  summary["tpot_s"] = distribution_json(s.tpot_s);
  summary["e2e_s"] = distribution_json(s.e2e_s);
  summary["objectives"] = {{"ttft_s", optional_json(objectives.ttft_s)}, {"tpot_s", optional_json(objectives.tpot_s)}};
  summary["slo_attainment"] = optional_json(s.slo_attainment);
  summary["goodput_requests_per_s"] = optional_json(s.goodput_requests_per_s);
  summary["energy_j"] = s.energy_j;
  summary["idle_energy_j"] = s.idle_energy_j;
  summary["energy_per_output_token_j"] = s.energy_per_output_token_j;
  summary["iterations"] = s.iterations;
  summary["mean_batch"] = s.mean_batch;
  summary["busy_share"] = s.busy_share;
  summary["kv_cache"] = {{"peak_share", s.kv_peak_share}, {"mean_share", s.kv_mean_share}};
  summary["preemptions"] = s.preemptions;
  summary["waiting_shares"] = s.waiting_shares;
  summary["limit"] = s.limit;
  summary["simulated_shapes"] = result.simulated_shapes;
  add_build_info(summary);
  return summary;
}

void write_requests_csv(const ServeResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  out << std::setprecision(9)
      << "id,arrival_s,prompt_tokens,output_tokens,queueing_s,ttft_s,tpot_s,e2e_s,finish_s,preemptions,replica\n";
  for (const RequestOutcome& r : result.requests) {
    out << r.request.id << ',' << r.request.arrival_s << ',' << r.request.prompt_tokens << ','
        << r.request.output_tokens << ',' << r.queueing_s() << ',' << r.ttft_s() << ',' << r.tpot_s() << ','
        << r.e2e_s() << ',' << r.finish_s << ',' << r.preemptions << ',' << r.replica << '\n';
  }
  out.flags(flags);
}

void write_iterations_csv(const ServeResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  out << std::setprecision(9)
      << "iteration,engine,start_s,seconds,sequences,prefill_tokens,decode_tokens,kv_blocks_used,kv_share,"
         "waiting,preempted,limit,energy_j,dram_bytes,replica\n";
  for (size_t i = 0; i < result.iterations.size(); ++i) {
    const IterationRecord& it = result.iterations[i];
    out << i << ',' << role_name(it.engine) << ',' << it.start_s << ',' << it.seconds << ',' << it.sequences << ','
        << it.prefill_tokens << ',' << it.decode_tokens << ',' << it.kv_blocks_used << ',' << it.kv_share << ','
        << it.waiting << ',' << it.preempted << ',' << limit_name(it.limit) << ',' << it.energy_pj * 1e-12 << ','
        << it.dram_bytes << ',' << it.replica << '\n';
  }
  out.flags(flags);
}

void print_serve_table(const ServeResult& result, const ServeSummary& s, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  const auto ms = [](double seconds) { return seconds * 1e3; };
  const auto devices = [](uint64_t tp, const std::string& name) {
    return (tp > 1 ? std::to_string(tp) + "x " : "") + name;
  };
  out << result.model << " served on "
      << (result.replicas > 1 ? std::to_string(result.replicas) + " replicas of " : std::string())
      << devices(result.tensor_parallel, result.device.name);
  if (result.prefill) out << ", prompts on " << devices(result.prefill->tensor_parallel, result.prefill->device.name);
  if (result.attention) {
    out << ", attention on " << devices(result.tensor_parallel, result.attention->name);
    const uint64_t microbatches = result.serve.attention->microbatches;
    if (microbatches > 1) out << " (" << microbatches << " micro-batches ping-ponging)";
  }
  if (!result.quant.empty()) out << ", quant " << result.quant.name;
  out << " (" << policy_name(result.serve.scheduler.policy)
      << " batching, " << s.requests << " requests, " << s.iterations << " iterations)\n";
  out << std::fixed << std::setprecision(2);
  out << std::left << std::setw(16) << "latency (ms)" << std::right << std::setw(11) << "mean" << std::setw(11)
      << "p50" << std::setw(11) << "p90" << std::setw(11) << "p99" << '\n';
  const auto row = [&](const char* name, const Distribution& d) {
    out << std::left << std::setw(16) << name << std::right << std::setw(11) << ms(d.mean) << std::setw(11)
        << ms(d.p50) << std::setw(11) << ms(d.p90) << std::setw(11) << ms(d.p99) << '\n';
  };
  row("queueing", s.queueing_s);
  row("TTFT", s.ttft_s);
  row("TPOT", s.tpot_s);
  row("end to end", s.e2e_s);
  out << "throughput: " << s.requests_per_s << " requests/s, " << s.output_tokens_per_s << " output tokens/s over "
      << s.duration_s << " s\n";
  if (s.goodput_requests_per_s) {
    out << "goodput: " << *s.goodput_requests_per_s << " requests/s (" << 100.0 * *s.slo_attainment
        << "% meet the objectives)\n";
  }
  out << "energy: " << std::setprecision(4) << s.energy_per_output_token_j << " J per output token (" << s.energy_j
      << " J, " << s.idle_energy_j << " J of it idle)\n"
      << std::setprecision(1) << "batch: " << s.mean_batch << " sequences on average; device busy "
      << 100.0 * s.busy_share << "% of the time; KV cache peak " << 100.0 * s.kv_peak_share << "%, mean "
      << 100.0 * s.kv_mean_share << "%; " << s.preemptions << " preemptions\n"
      << "requests waited on: " << s.limit << '\n';
  out.flags(flags);
}

void write_serve_trace(const ServeResult& result, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  const auto slice = [&](const std::string& name, const char* category, size_t track, double start, double end,
                         const std::string& args) {
    out << "{\"name\":" << nlohmann::json(name).dump() << ",\"cat\":\"" << category
        << "\",\"ph\":\"X\",\"pid\":1,\"tid\":" << track << ",\"ts\":" << start * 1e6
        << ",\"dur\":" << (end - start) * 1e6 << ",\"args\":{" << args << "}},\n";
  };
  // Tracks: 0 the (first copy of the) devices, 1 the prompt devices, then each request's, then
  // the other copies'.
  const auto replica_track = [&](uint64_t replica) {
    return replica == 0 ? size_t{0} : result.requests.size() + 1 + static_cast<size_t>(replica);
  };
  out << std::setprecision(15) << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  for (size_t i = 0; i < result.iterations.size(); ++i) {
    const IterationRecord& it = result.iterations[i];
    slice(role_name(it.engine) + " iteration " + std::to_string(i), "iteration",
          it.engine == EngineRole::Prefill ? 1 : replica_track(it.replica), it.start_s, it.start_s + it.seconds,
          "\"sequences\":" + std::to_string(it.sequences) + ",\"prefill_tokens\":" +
              std::to_string(it.prefill_tokens) + ",\"decode_tokens\":" + std::to_string(it.decode_tokens) +
              ",\"kv_blocks_used\":" + std::to_string(it.kv_blocks_used));
  }
  for (const RequestOutcome& r : result.requests) {
    const size_t track = r.request.id + 2;
    const std::string args = "\"prompt_tokens\":" + std::to_string(r.request.prompt_tokens) +
                             ",\"output_tokens\":" + std::to_string(r.request.output_tokens);
    slice("waiting", "request", track, r.request.arrival_s, r.scheduled_s, args);
    slice("prefill", "request", track, r.scheduled_s, r.first_token_s, args);
    slice("decode", "request", track, r.first_token_s, r.finish_s, args);
  }
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":"
      << nlohmann::json(result.model + " on " + result.device.name).dump() << "}},\n"
      << "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"devices\"}}";
  if (result.prefill) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"prefill devices\"}}";
  }
  for (const RequestOutcome& r : result.requests) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << r.request.id + 2
        << ",\"args\":{\"name\":\"request " << r.request.id << "\"}}";
  }
  for (uint64_t replica = 1; replica < result.replicas; ++replica) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << replica_track(replica)
        << ",\"args\":{\"name\":\"devices, replica " << replica << "\"}}";
  }
  out << "]}\n";
  out.flags(flags);
}

void write_placements_csv(const std::vector<PlacementOutcome>& outcomes, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  out << std::setprecision(9)
      << "rank,placement,tp,replicas,prefill_tp,devices,goodput_per_device,requests_per_s,output_tokens_per_s,"
         "ttft_p99_s,tpot_p99_s,energy_per_output_token_j,bottleneck,error\n";
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const PlacementOutcome& o = outcomes[i];
    const ServeSummary& s = o.summary;
    out << i + 1 << ',' << csv_field(o.placement.text()) << ',' << o.placement.tp << ',' << o.placement.replicas << ','
        << o.placement.prefill_tp << ',' << o.placement.devices() << ',';
    if (o.error.empty()) {
      out << o.goodput_per_device << ',' << s.requests_per_s << ',' << s.output_tokens_per_s << ',' << s.ttft_s.p99
          << ',' << s.tpot_s.p99 << ',' << s.energy_per_output_token_j << ',' << csv_field(o.bottleneck) << ",\n";
    } else {
      out << ",,,,,,," << csv_field(o.error) << '\n';
    }
  }
  out.flags(flags);
}

void print_placements_table(const std::vector<PlacementOutcome>& outcomes, std::ostream& out) {
  const std::ios::fmtflags flags = out.flags();
  out << std::left << std::setw(5) << "rank" << std::setw(30) << "placement" << std::right << std::setw(14)
      << "goodput/dev" << std::setw(12) << "TTFT p99" << std::setw(12) << "TPOT p99" << std::setw(11) << "J/token"
      << "  held back by\n";
  out << std::fixed;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const PlacementOutcome& o = outcomes[i];
    out << std::left << std::setw(5) << i + 1 << std::setw(30) << o.placement.text() << std::right;
    if (!o.error.empty()) {
      out << "  cannot serve: " << o.error << '\n';
      continue;
    }
    out << std::setprecision(3) << std::setw(14) << o.goodput_per_device << std::setprecision(1) << std::setw(9)
        << o.summary.ttft_s.p99 * 1e3 << " ms" << std::setw(9) << o.summary.tpot_s.p99 * 1e3 << " ms"
        << std::setprecision(4) << std::setw(11) << o.summary.energy_per_output_token_j << "  " << o.bottleneck
        << '\n';
  }
  out.flags(flags);
}

nlohmann::json placements_summary_json(const std::vector<PlacementOutcome>& outcomes,
                                       const ServiceObjectives& objectives) {
  nlohmann::json summary;
  summary["placements"] = outcomes.size();
  summary["objectives"] = {{"ttft_s", optional_json(objectives.ttft_s)}, {"tpot_s", optional_json(objectives.tpot_s)}};
  if (!outcomes.empty() && outcomes.front().error.empty()) {
    const PlacementOutcome& best = outcomes.front();
    summary["best"] = {{"placement", best.placement.text()},
                       {"tp", best.placement.tp},
                       {"replicas", best.placement.replicas},
                       {"prefill_tp", best.placement.prefill_tp},
                       {"goodput_per_device", best.goodput_per_device},
                       {"bottleneck", best.bottleneck}};
  } else {
    summary["best"] = nullptr;
  }
  add_build_info(summary);
  return summary;
}

}  // namespace tessel::sim
