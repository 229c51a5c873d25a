#include "cli/map_command.h"

#include <fstream>
#include <iostream>
#include <optional>

#include "cli/flag_bounds.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::cli {

namespace {

// The GEMM an operator puts on the arrays: a linear layer, or one instance of a batched
// matmul (the instances run one after another or on other arrays).
workloads::Gemm model_op_gemm(const MapFlags& flags) {
  if (flags.phase != "prefill" && flags.phase != "decode") {
    throw FlagError("--phase '" + flags.phase + "': not one of prefill, decode");
  }
  const workloads::ModelConfig config = load_model(flags.model);
  const workloads::Phase phase = flags.phase == "prefill" ? workloads::Phase::prefill(flags.batch, flags.seq)
                                                          : workloads::Phase::decode(flags.batch, flags.kv_len);
  const workloads::OpGraph graph = workloads::build_model(config, phase, workloads::AttentionImpl::Unfused);
  std::optional<workloads::Gemm> gemm;
  std::string known;
  graph.for_each_op([&](const workloads::Op& op, uint64_t) {
    if (op.kind == workloads::OpKind::Linear || op.kind == workloads::OpKind::BatchedMatmul) {
      known += (known.empty() ? "" : ", ") + op.name;
    }
    if (op.name != flags.op || gemm) return;
    if (op.kind == workloads::OpKind::Linear) {
      const auto& s = op.shape_as<workloads::LinearShape>();
      gemm = workloads::Gemm{config.name + "." + op.name, s.m, s.n, s.k};
    } else if (op.kind == workloads::OpKind::BatchedMatmul) {
      const auto& s = op.shape_as<workloads::BatchedMatmulShape>();
      gemm = workloads::Gemm{config.name + "." + op.name + " (one of " + std::to_string(s.batch) + ")", s.m, s.n, s.k};
    } else {
      throw FlagError("--op " + flags.op + " is a " + workloads::kind_name(op.kind) +
                      ": only linear and batched-matmul operators are mapped onto the arrays");
    }
  });
  if (!gemm) throw FlagError("--op '" + flags.op + "': not an operator of " + config.name + " (" + known + ")");
  return *gemm;
}

const workloads::Gemm& pick_layer(const workloads::Graph& graph, const std::string& name) {
  if (graph.gemms.size() == 1 && name.empty()) return graph.gemms.front();
  for (const workloads::Gemm& gemm : graph.gemms) {
    if (gemm.name == name) return gemm;
  }
  std::string known;
  for (const workloads::Gemm& gemm : graph.gemms) known += (known.empty() ? "" : ", ") + gemm.name;
  throw FlagError(name.empty() ? "the topology has several layers: name one with --layer (" + known + ")"
                               : "--layer '" + name + "': not in the topology (" + known + ")");
}

}  // namespace

CLI::App* add_map_command(CLI::App& app, MapFlags& flags) {
  CLI::App* map = app.add_subcommand(
      "map",
      "Show the mapper's choice for one GEMM (a systolic mapping, a GPU's thread-block plan or a CPU's cache "
      "blocking), its cost and the runners-up");
  add_target_flags(*map, flags.target);
  map->add_option("--layer", flags.layer, "With --topology: the layer to map");
  CLI::Option* model = map->add_option("--model", flags.model,
                                       "A transformer instead of --gemm/--topology: preset name or HF config.json");
  map->add_option("--op", flags.op, "With --model: the operator, e.g. mlp.up_proj or attn.qkv_proj")->needs(model);
  map->add_option("--phase", flags.phase, "With --model: prefill | decode")->capture_default_str();
  add_bounded(*map, bounds::kBatch, flags.batch, "With --model: sequences")->capture_default_str();
  add_bounded(*map, bounds::kSeq, flags.seq, "With --model, prefill: tokens per sequence")->capture_default_str();
  add_bounded(*map, bounds::kKvLen, flags.kv_len, "With --model, decode: tokens already cached")->capture_default_str();
  add_bounded(*map, bounds::kSeed, flags.seed, "Seed of the sampled search (large mapspaces only)")
      ->capture_default_str();
  add_bounded(*map, bounds::kTop, flags.top, "Runners-up to list")->capture_default_str();
  map->add_option("--json", flags.json,
                  "Also write the result as JSON to this file (a systolic mapping: `tessel run --mapping` reads it)");
  return map;
}

int map_command(const MapFlags& flags) {
  const std::unique_ptr<sim::Device> device = load_device(flags.target.arch);
  const workloads::Gemm gemm =
      flags.model.empty() ? pick_layer(load_workload(flags.target), flags.layer) : model_op_gemm(flags);
  const sim::RunSettings settings = device->configure(target_settings(flags.target));
  const sim::Device::MappingReport report = device->explain_mapping(gemm, settings, flags.top, flags.seed);
  std::cout << report.text;
  if (!flags.json.empty()) {
    std::ofstream file(flags.json);
    if (!file) throw FlagError("--json: cannot write " + flags.json);
    file << report.json.dump(2) << '\n';
  }
  return 0;
}

}  // namespace tessel::cli
