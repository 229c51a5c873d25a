#include "cli/serve_command.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "arch/load_arch.h"
#include "cli/cli_common.h"
#include "cli/flag_bounds.h"
#include "cli/placement_file.h"
#include "sim/report/common.h"
#include "sim/report/serving_layout.h"
#include "workloads/requests.h"

namespace tessel::cli {

CLI::App* add_serve_command(CLI::App& app, ServeFlags& flags) {
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve a model under load on one device or several sharing its layers: requests batched iteration by "
               "iteration, each iteration simulated; latency percentiles, throughput, goodput, energy per token");
  serve->add_option("--placement", flags.placement,
                    "A placement file (configs/placements/*.yaml): the decoding devices and, as it says, the prompts', "
                    "attention's, host memory's and draft model's, instead of their flags");
  CLI::Option* arch = serve->add_option("--arch", flags.arch,
                                        "Architecture: tessel YAML (configs/arch/*.yaml); with --tp, the node a GPU "
                                        "file's nvlink section describes");
  serve->add_option("--system", flags.system, "A system of devices and links (configs/systems/*.yaml); with --tp")
      ->excludes(arch);
  add_bounded(*serve, bounds::kTp, flags.tp,
              "Devices sharing every layer (Megatron tensor parallelism), their all-reduces on the links")
      ->capture_default_str();
  add_bounded(*serve, bounds::kReplicas, flags.replicas,
              "Data-parallel copies of the (decoding) devices, --tp each, each with its own batches and KV cache; a "
              "request goes to the copy with the fewest in flight (of a system or a GPU's node, they must fit it)")
      ->capture_default_str();
  serve->add_option("--model", flags.model, "A decoder: preset name or HF config.json")->required();
  serve->add_option("--dtype", flags.dtype, "Number format (default: the first the architecture lists)");
  serve->add_option("--quant", flags.quant, quant_help());
  CLI::Option* prefill_arch = serve->add_option(
      "--prefill-arch", flags.prefill_arch,
      "Disaggregated serving: run the prompts on this architecture's devices and decode on --arch/--system, each "
      "prompt's KV cache crossing a link of --kv-link-gbps to them");
  CLI::Option* prefill_system =
      serve->add_option("--prefill-system", flags.prefill_system, "Disaggregated serving: the prompts' system");
  prefill_arch->excludes(prefill_system);
  CLI::Option* prefill_tp = add_bounded(*serve, bounds::kPrefillTp, flags.prefill_tp,
                                         "Disaggregated serving: prompt devices sharing each layer")
                                 ->capture_default_str();
  CLI::Option* link = add_bounded(*serve, bounds::kKvLinkGbps, flags.kv_link_gbps,
                                  "Disaggregated serving: the bandwidth (GB/s) of the link a prompt's KV cache crosses "
                                  "(e.g. 50 for 400 Gb/s InfiniBand NDR)");
  CLI::Option* latency = add_bounded(*serve, bounds::kKvLinkLatencyUs, flags.kv_link_latency_us,
                                     "Disaggregated serving: the link's latency per transfer, microseconds")
                             ->capture_default_str();
  for (CLI::Option* disaggregated : {prefill_tp, latency}) {
    disaggregated->needs(link);
  }
  add_bounded(*serve, bounds::kOffloadWeightsGbps, flags.offload_weights_gbps,
              "Keep the weights in host memory and stream each layer's to the (decoding) devices over a link of "
              "this bandwidth, GB/s, while the previous layer computes (e.g. 25 for PCIe 4.0 x16)");
  CLI::Option* host_memory = add_bounded(*serve, bounds::kHostMemoryGib, flags.host_memory_gib,
                                         "With --offload-kv-gbps: the host memory (GiB) the KV cache takes, every "
                                         "device's share together (its blocks, unless --kv-blocks)");
  add_bounded(*serve, bounds::kOffloadKvGbps, flags.offload_kv_gbps,
              "Keep the KV cache in host memory and stream each layer's to the (decoding) devices over a link of "
              "this bandwidth, GB/s, while the previous layer computes; with --offload-weights-gbps, the same link")
      ->needs(host_memory);
  host_memory->needs("--offload-kv-gbps");
  CLI::Option* attention_arch = serve->add_option(
      "--attention-arch", flags.attention_arch,
      "Attention apart: pair each (decoding) device with one of this architecture holding its share of the KV cache "
      "and running RoPE, the cache and attention (or --attention-ops), the new tokens' queries, keys and values and "
      "the attention's output crossing a link of --attention-link-gbps each layer");
  CLI::Option* attention_link = add_bounded(*serve, bounds::kAttentionLinkGbps, flags.attention_link_gbps,
                                            "Attention apart: the bandwidth (GB/s) of the link between each pair");
  add_bounded(*serve, bounds::kAttentionLinkLatencyUs, flags.attention_link_latency_us,
              "Attention apart: the link's latency per crossing, microseconds")
      ->capture_default_str()
      ->needs(attention_link);
  serve->add_option("--attention-ops", flags.attention_ops,
                    "Attention apart: the ops the paired devices run, comma-separated op kinds (Attention, Rope, "
                    "Linear, ...) or globs of op names (attn.*, mlp.down_proj); must include those touching the KV "
                    "cache (default: Rope,KvCacheAppend,KvCacheRead,Attention)")
      ->needs(attention_arch);
  add_bounded(*serve, bounds::kAttentionMicrobatches, flags.attention_microbatches,
              "Attention apart: split each iteration's sequences into this many micro-batches that ping-pong "
              "between the pair, one device working on a micro-batch while the other works on the next (1: the "
              "batch as one, each device waiting on the other)")
      ->capture_default_str()
      ->needs(attention_arch);
  attention_arch->needs(attention_link);
  attention_link->needs(attention_arch);
  CLI::Option* draft = serve->add_option(
      "--draft-model", flags.draft_model,
      "Speculative decoding: a small model (preset or config.json) on the same devices drafting tokens that each "
      "decode step verifies");
  add_bounded(*serve, bounds::kDraftTokens, flags.draft_tokens, "Speculative decoding: drafts a decode step verifies")
      ->capture_default_str()
      ->needs(draft);
  serve->add_option(bounds::kAcceptance.flag, flags.acceptance,
                    "Speculative decoding: the probability a draft is accepted, given those before it were (no "
                    "default: it depends on the draft, the model and the data)")
      ->check(within(bounds::kAcceptance))
      ->needs(draft);
  CLI::Option* requests = serve->add_option(
      "--requests", flags.requests,
      "A request trace: CSV with columns arrival_s, prompt_tokens, output_tokens (a run's requests.csv is one)");
  CLI::Option* arrivals =
      serve->add_option("--arrivals", flags.arrivals, "Open-loop arrivals: poisson:RATE (requests a second)");
  CLI::Option* concurrency = add_bounded(*serve, bounds::kConcurrency, flags.concurrency,
                                         "Closed loop: N clients, each sending its next request when its last "
                                         "finishes");
  requests->excludes(arrivals)->excludes(concurrency);
  arrivals->excludes(concurrency);
  CLI::Option* prompt = serve->add_option("--prompt-len", flags.prompt_len,
                                          "With --arrivals or --concurrency: prompt tokens, N | uniform:LO,HI | "
                                          "normal:MEAN,STD")
                            ->capture_default_str();
  CLI::Option* output = serve->add_option("--output-len", flags.output_len,
                                          "With --arrivals or --concurrency: output tokens (the first from the "
                                          "prefill), N | uniform:LO,HI | normal:MEAN,STD")
                            ->capture_default_str();
  CLI::Option* count = add_bounded(*serve, bounds::kRequestsCount, flags.requests_count,
                                   "With --arrivals or --concurrency: requests to serve")
                           ->capture_default_str();
  CLI::Option* seed = add_bounded(*serve, bounds::kSeed, flags.seed,
                                  "Seed of generated lengths and arrivals, and of speculative decoding's acceptances")
                          ->capture_default_str();
  for (CLI::Option* generated : {prompt, output, count}) generated->excludes(requests);
  serve->add_option("--scheduler", flags.scheduler,
                    "continuous (requests join and leave the batch every iteration, as vLLM) | static (a batch "
                    "forms when the last has finished)")
      ->capture_default_str();
  add_bounded(*serve, bounds::kMaxBatch, flags.max_batch, "Sequences running at once")->capture_default_str();
  add_bounded(*serve, bounds::kTokenBudget, flags.token_budget,
              "Continuous: new tokens an iteration (decode tokens first, then prompt chunks)")
      ->capture_default_str();
  serve->add_flag("--no-chunked-prefill", flags.no_chunked_prefill,
                  "Continuous: run each prompt whole in one iteration instead of in chunks within the token budget");
  add_bounded(*serve, bounds::kBlockSize, flags.block_size, "Tokens a KV-cache block holds")->capture_default_str();
  add_bounded(*serve, bounds::kKvBlocks, flags.kv_blocks,
              "KV-cache blocks (default: what --memory-fraction of the device's memory holds beside the weights)");
  add_bounded(*serve, bounds::kMemoryFraction, flags.memory_fraction,
              "Share of the device's memory weights and KV cache may take")
      ->capture_default_str();
  add_bounded(*serve, bounds::kShapeCells, flags.shape_cells,
              "Simulate each op at the sizes of a grid with this many cells from each power of two to the next "
              "(tokens, sequences, cache length), refined where interpolating misses, and interpolate between "
              "(0: simulate every op at its own sizes)")
      ->capture_default_str();
  serve->add_option(bounds::kSloTtftMs.flag, flags.slo_ttft_ms, "Objective for goodput: time to first token, ms")
      ->check(within(bounds::kSloTtftMs));
  serve->add_option(bounds::kSloTpotMs.flag, flags.slo_tpot_ms, "Objective for goodput: time per output token, ms")
      ->check(within(bounds::kSloTpotMs));
  serve->add_option("--trace", flags.trace,
                    "Write iterations and requests in the Trace Event Format (Perfetto, chrome://tracing)");
  serve->add_option("--out", flags.out, "Write summary.json, requests.csv and iterations.csv into this directory");
  serve->add_flag("--quiet", flags.quiet, "Print neither the table nor progress");
  serve->add_flag("--search", flags.search,
                  "Rank the placements of the system's (or --arch node's) first-level group: every tensor-parallel "
                  "width, alone and as data-parallel replicas, and every split of prompts and decoding over two "
                  "groups, each served under the same load, "
                  "by requests a second within the objectives per device (writes placements.csv and summary.json "
                  "to --out)");
  serve->callback([&flags, seed, serve] {
    if (flags.search) {
      for (const char* chosen : {"--tp", "--replicas", "--prefill-arch", "--prefill-system", "--prefill-tp",
                                 "--kv-link-gbps", "--trace"}) {
        if (serve->count(chosen) > 0) {
          throw CLI::ValidationError(std::string("--search chooses the placement: leave out ") + chosen);
        }
      }
    }
    if (!flags.placement.empty()) {
      if (flags.search) throw CLI::ValidationError("--search chooses the placement: leave out --placement");
      return;  // the file sets the devices, checked as it is read
    }
    if (flags.arch.empty() && flags.system.empty()) throw CLI::RequiredError("--arch, --system or --placement");
    if (!flags.requests.empty() && seed->count() > 0 && flags.draft_model.empty()) {
      throw CLI::ValidationError("--seed with --requests: the trace has its lengths and arrivals; it seeds only "
                                 "--draft-model's acceptances");
    }
    if (!flags.draft_model.empty() && !flags.acceptance) throw CLI::RequiredError("--acceptance (with --draft-model)");
    const bool split = !flags.prefill_arch.empty() || !flags.prefill_system.empty();
    if (split != (flags.kv_link_gbps > 0)) {
      throw CLI::ValidationError("--prefill-arch/--prefill-system and --kv-link-gbps go together");
    }
    if (flags.requests.empty() && flags.arrivals.empty() && flags.concurrency == 0) {
      throw CLI::RequiredError("--requests, --arrivals or --concurrency");
    }
  });
  serve->footer(
      "Runs timing-only (no numerics check). Exit status: 0 success, 1 bad input (the message names file, line\n"
      "and key), 2 bad usage.");
  return serve;
}

namespace {

sim::ServeLoad serve_load(const ServeFlags& flags) {
  sim::ServeLoad load;
  if (!flags.requests.empty()) {
    load.requests = workloads::read_request_trace(flags.requests);
    return load;
  }
  const workloads::LengthDistribution prompt = workloads::parse_length_distribution(flags.prompt_len, "--prompt-len");
  const workloads::LengthDistribution output = workloads::parse_length_distribution(flags.output_len, "--output-len");
  const double rate = flags.arrivals.empty() ? 0 : workloads::parse_poisson_rate(flags.arrivals, "--arrivals");
  load.requests = workloads::generate_requests(flags.requests_count, rate, prompt, output, flags.seed);
  load.concurrency = flags.concurrency;
  return load;
}

sim::ServeSettings serve_settings(const ServeFlags& flags) {
  sim::ServeSettings settings;
  if (flags.scheduler != "continuous" && flags.scheduler != "static") {
    throw FlagError("--scheduler '" + flags.scheduler + "': not one of continuous, static");
  }
  settings.scheduler.policy =
      flags.scheduler == "static" ? sim::SchedulerSettings::Static : sim::SchedulerSettings::Continuous;
  settings.scheduler.max_batch = flags.max_batch;
  settings.scheduler.token_budget = flags.token_budget;
  settings.scheduler.chunked_prefill = !flags.no_chunked_prefill;
  settings.scheduler.block_size = flags.block_size;
  settings.scheduler.kv_blocks = flags.kv_blocks;
  settings.memory_fraction = flags.memory_fraction;
  settings.shape_cells = flags.shape_cells;
  if (flags.offload_weights_gbps > 0) settings.offload_link_bytes_per_s = flags.offload_weights_gbps * 1e9;
  if (flags.offload_kv_gbps > 0) {
    if (!(flags.host_memory_gib > 0)) throw FlagError("--offload-kv-gbps needs --host-memory-gib");
    settings.kv_link_bytes_per_s = flags.offload_kv_gbps * 1e9;
    settings.kv_host_bytes = flags.host_memory_gib * 0x1p30;
  } else if (flags.host_memory_gib > 0) {
    throw FlagError("--host-memory-gib needs --offload-kv-gbps");
  }
  settings.replicas = flags.replicas;
  if (!flags.draft_model.empty()) {
    if (!flags.acceptance) throw FlagError("--draft-model needs --acceptance");
    settings.speculation = sim::Speculation{load_model(flags.draft_model), flags.draft_tokens, *flags.acceptance,
                                            flags.seed};
  }
  if (!flags.attention_arch.empty() || flags.attention_link_gbps > 0) {
    if (flags.attention_arch.empty() || !(flags.attention_link_gbps > 0)) {
      throw FlagError("--attention-arch and --attention-link-gbps go together");
    }
    std::vector<std::string> ops;
    for (size_t start = 0; !flags.attention_ops.empty();) {
      const size_t comma = flags.attention_ops.find(',', start);
      ops.push_back(flags.attention_ops.substr(start, comma - start));
      if (ops.back().empty()) throw FlagError("--attention-ops '" + flags.attention_ops + "': an empty pattern");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    settings.attention = sim::AttentionPool{arch::load_arch(flags.attention_arch), flags.attention_link_gbps * 1e9,
                                            flags.attention_link_latency_us * 1e-6, sim::OpPlacement(ops),
                                            flags.attention_microbatches};
  }
  if (flags.kv_link_gbps > 0) {
    sim::PrefillPool pool;
    pool.hardware = load_hardware(flags.prefill_system, flags.prefill_arch, flags.prefill_tp);
    pool.tensor_parallel = flags.prefill_tp;
    pool.link_bytes_per_s = flags.kv_link_gbps * 1e9;
    pool.link_latency_s = flags.kv_link_latency_us * 1e-6;
    settings.prefill = pool;
  }
  return settings;
}

// A line on stderr every half second: requests finished and the simulated time.
sim::ServeProgress serve_progress(bool quiet) {
  if (quiet) return {};
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last](size_t finished, size_t total, double now) {
    const auto clock = std::chrono::steady_clock::now();
    if (finished < total && clock - *last < std::chrono::milliseconds(500)) return;
    *last = clock;
    std::cerr << "[" << finished << "/" << total << " requests] " << now << " s simulated\n";
  };
}

sim::RunSettings serve_run_settings(const ServeFlags& flags) {
  sim::RunSettings settings;
  if (!flags.dtype.empty()) {
    settings.dtype = arch::parse_dtype(flags.dtype);
    if (!settings.dtype) throw FlagError("--dtype '" + flags.dtype + "': not one of int8, fp8, fp16, bf16, fp32");
  }
  return settings;
}

sim::ServiceObjectives serve_objectives(const ServeFlags& flags) {
  sim::ServiceObjectives objectives;
  if (flags.slo_ttft_ms) objectives.ttft_s = *flags.slo_ttft_ms * 1e-3;
  if (flags.slo_tpot_ms) objectives.tpot_s = *flags.slo_tpot_ms * 1e-3;
  return objectives;
}

}  // namespace

std::vector<sim::PlacementOutcome> execute_placement_search(const ServeFlags& flags,
                                                            sim::ServiceObjectives& objectives) {
  if (!flags.placement.empty()) throw FlagError("--placement: --search chooses the placement");
  const arch::SystemSpec hardware = load_hardware(flags.system, flags.arch, 1);
  objectives = serve_objectives(flags);
  const auto progress = [quiet = flags.quiet](size_t i, size_t n, const std::string& placement) {
    if (!quiet) std::cerr << "[" << i + 1 << "/" << n << "] " << placement << '\n';
  };
  return sim::search_placements(hardware, load_model(flags.model, flags.quant), serve_load(flags), serve_settings(flags),
                                serve_run_settings(flags), objectives, progress);
}

ServeRun execute_serve(const ServeFlags& given) {
  const ServeFlags flags = with_placement_file(given);
  if (flags.arch.empty() && flags.system.empty()) throw FlagError("--arch, --system or --placement is required");
  const arch::SystemSpec hardware = load_hardware(flags.system, flags.arch, flags.tp);
  ServeRun run{sim::serve(hardware, flags.tp, load_model(flags.model, flags.quant), serve_load(flags), serve_settings(flags),
                          serve_run_settings(flags), serve_progress(flags.quiet)),
               serve_objectives(flags),
               {}};
  run.summary = sim::summarize(run.result, run.objectives);
  return run;
}

int serve_command(const ServeFlags& flags) {
  if (flags.search) {
    sim::ServiceObjectives objectives;
    const std::vector<sim::PlacementOutcome> outcomes = execute_placement_search(flags, objectives);
    if (!flags.quiet) sim::print_placements_table(outcomes, std::cout);
    if (!flags.out.empty()) {
      std::filesystem::create_directories(flags.out);
      const auto path = [&](const char* name) { return (std::filesystem::path(flags.out) / name).string(); };
      sim::write_file([&](std::ostream& out) { sim::write_placements_csv(outcomes, out); }, path("placements.csv"));
      sim::write_file(
          [&](std::ostream& out) { out << sim::placements_summary_json(outcomes, objectives).dump(2) << '\n'; },
          path("summary.json"));
    }
    return 0;
  }
  const ServeRun run = execute_serve(flags);
  if (!flags.quiet) sim::print_serve_table(run.result, run.summary, std::cout);
  if (!flags.out.empty()) {
    std::filesystem::create_directories(flags.out);
    const auto path = [&](const char* name) { return (std::filesystem::path(flags.out) / name).string(); };
    const nlohmann::json summary = sim::serve_summary_json(run.result, run.summary, run.objectives);
    sim::write_file([&](std::ostream& out) { out << summary.dump(2) << '\n'; }, path("summary.json"));
    sim::write_file([&](std::ostream& out) { sim::write_requests_csv(run.result, out); }, path("requests.csv"));
    sim::write_file([&](std::ostream& out) { sim::write_iterations_csv(run.result, out); }, path("iterations.csv"));
  }
  if (!flags.trace.empty()) {
    sim::write_file([&](std::ostream& out) { sim::write_serve_trace(run.result, out); }, flags.trace);
  }
  return 0;
}

}  // namespace tessel::cli
