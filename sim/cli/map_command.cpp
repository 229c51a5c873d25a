#include "sim/cli/map_command.h"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>

#include "arch/config_gpu.h"
#include "arch/systolic/fold_timing.h"
#include "arch/systolic/tile_work.h"
#include "mapper/loop_nest.h"
#include "mapper/mapping_json.h"
#include "sim/cli/map_gpu.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::cli {

namespace {

using mapper::Dim;

std::string lower(Dim dim) { return dim == Dim::M ? "m" : dim == Dim::N ? "n" : "k"; }

std::string megabytes(uint64_t bytes) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(2) << static_cast<double>(bytes) / 1e6 << " MB";
  return text.str();
}

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

void print_nest(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, const mapper::GemmMapping& m,
                std::ostream& out) {
  const mapper::Extents slice = mapper::part_extents({gemm.m, gemm.n, gemm.k}, m, 0);
  const mapper::LoopNest nest(slice, m);
  out << "  spatial: " << m.parts << " of " << spec.array_count() << " arrays, " << to_string(m.split)
      << " cut into slices of " << m.part_size << "\n";
  out << "  DRAM -> buffers, per array (tiles of " << m.tile.m << "x" << m.tile.n << "x" << m.tile.k << "):\n";
  for (uint32_t level = 0; level < 3; ++level) {
    const Dim dim = nest.dim_at(level);
    out << "    " << std::string(2 * level, ' ') << "for " << lower(dim) << " in [0, " << slice.along(dim)
        << ") step " << m.tile.along(dim) << "   # " << nest.trips(dim) << " iterations\n";
  }
  const char* names[] = {"input ", "weight", "output"};
  for (arch::Operand operand : {arch::Operand::Input, arch::Operand::Weight, arch::Operand::Output}) {
    const mapper::OperandNest& x = nest.operand(operand);
    const auto i = static_cast<size_t>(operand);
    const bool is_output = operand == arch::Operand::Output;
    const uint64_t rows = operand == arch::Operand::Weight ? x.block.k : x.block.m;
    const uint64_t cols = operand == arch::Operand::Input ? x.block.k : x.block.n;
    out << "    " << names[i] << " block " << rows << "x" << cols << " in " << spec.buffer_for(operand).name
        << ", spans the inner " << 3 - x.outside << " loop(s), " << (is_output ? "visited " : "fetched ")
        << nest.block_visits(operand) << " time(s)\n";
  }
  arch::ArraySpec array = spec.array;
  array.dataflow = m.dataflow;
  const arch::SpatialShape shape = arch::spatial_shape(m.dataflow, m.tile.m, m.tile.n, m.tile.k);
  const arch::FoldGrid grid = arch::fold_grid(array, shape.rows, shape.cols);
  out << "  array " << array.rows << "x" << array.cols << " (" << arch::to_string(m.dataflow) << "), per tile: "
      << grid.row_folds << " row fold(s) x " << grid.col_folds << " column fold(s), " << shape.temporal
      << " streamed in time; " << (m.double_buffered ? "double" : "single") << "-buffered\n";
}

nlohmann::json result_json(const arch::SystolicSpec& spec, const workloads::Gemm& gemm, const mapper::MapResult& r,
                           mapper::Objective objective, double seconds) {
  nlohmann::json alternatives = nlohmann::json::array();
  for (const mapper::RankedMapping& other : r.alternatives) {
    alternatives.push_back({{"mapping", mapper::to_json(other.mapping)}, {"cost", mapper::to_json(other.cost)}});
  }
  return {{"gemm", {{"name", gemm.name}, {"M", gemm.m}, {"N", gemm.n}, {"K", gemm.k}}},
          {"arch", spec.name},
          {"arch_file", spec.source_file},
          {"objective", std::string(mapper::to_string(objective))},
          {"mapping", mapper::to_json(r.mapping)},
          {"cost", mapper::to_json(r.cost)},
          {"considered", r.considered},
          {"space", r.space},
          {"exhaustive", r.exhaustive},
          {"search_seconds", seconds},
          {"alternatives", alternatives}};
}

}  // namespace

CLI::App* add_map_command(CLI::App& app, MapFlags& flags) {
  CLI::App* map = app.add_subcommand(
      "map",
      "Show the mapper's choice for one GEMM (a systolic mapping or a GPU's thread-block plan), its cost and the "
      "runners-up");
  add_target_flags(*map, flags.target);
  map->add_option("--layer", flags.layer, "With --topology: the layer to map");
  CLI::Option* model = map->add_option("--model", flags.model,
                                       "A transformer instead of --gemm/--topology: preset name or HF config.json");
  map->add_option("--op", flags.op, "With --model: the operator, e.g. mlp.up_proj or attn.qkv_proj")->needs(model);
  map->add_option("--phase", flags.phase, "With --model: prefill | decode")->capture_default_str();
  map->add_option("--batch", flags.batch, "With --model: sequences")->capture_default_str();
  map->add_option("--seq", flags.seq, "With --model, prefill: tokens per sequence")->capture_default_str();
  map->add_option("--kv-len", flags.kv_len, "With --model, decode: tokens already cached")->capture_default_str();
  map->add_option("--seed", flags.seed, "Seed of the sampled search (large mapspaces only)")->capture_default_str();
  map->add_option("--top", flags.top, "Runners-up to list")->capture_default_str();
  map->add_option("--json", flags.json,
                  "Also write the result as JSON to this file (a systolic mapping: `tessel run --mapping` reads it)");
  return map;
}

int map_command(const MapFlags& flags) {
  if (arch::is_gpu_file(flags.target.arch)) {
    const arch::GpuSpec gpu = arch::load_gpu_spec(flags.target.arch);
    refuse_systolic_search_flags(flags.target);
    const workloads::Gemm gemm =
        flags.model.empty() ? pick_layer(load_workload(flags.target), flags.layer) : model_op_gemm(flags);
    map_gemm_on_gpu(gpu, gemm, choose_gpu_dtype(gpu, flags.target.dtype), flags.top, flags.json, std::cout);
    return 0;
  }
  bool search_dataflows = false;
  const arch::SystolicSpec spec = load_target(flags.target, search_dataflows);
  const workloads::Gemm gemm =
      flags.model.empty() ? pick_layer(load_workload(flags.target), flags.layer) : model_op_gemm(flags);
  mapper::MapperOptions options{choose_dtype(spec, flags.target.dtype)};
  options.objective = choose_objective(flags.target.objective);
  options.search_dataflows = search_dataflows;
  options.seed = flags.seed;
  options.alternatives = flags.top;

  const auto start = std::chrono::steady_clock::now();
  const mapper::MapResult result = mapper::map_gemm(spec, gemm, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::ostream& out = std::cout;
  out << "GEMM " << gemm.name << ": C[" << gemm.m << "x" << gemm.n << "] = A[" << gemm.m << "x" << gemm.k << "] B["
      << gemm.k << "x" << gemm.n << "], " << arch::to_string(options.dtype) << ", on " << spec.name
      << "; objective " << mapper::to_string(options.objective) << "\n";
  out << "mapping: " << result.mapping.describe() << "\n";
  print_nest(spec, gemm, result.mapping, out);
  const mapper::MappingCost& c = result.cost;
  out << "cost (tile-analytic): " << c.estimated_cycles << " cycles (arrays " << c.compute_cycles << ", with ports "
      << c.port_cycles << "); DRAM read " << megabytes(c.activity.dram_read_bytes) << ", write "
      << megabytes(c.activity.dram_write_bytes) << "; buffers read " << megabytes(c.activity.sram_read_bytes())
      << ", written " << megabytes(c.activity.sram_write_bytes()) << "; energy " << c.energy_pj / 1e6 << " uJ\n";
  out << "searched: " << result.considered << " mappings costed of " << result.space << " in the space ("
      << (result.exhaustive ? "exhaustive, pruned" : "sampled") << ") in " << seconds * 1e3 << " ms\n";
  if (!result.alternatives.empty()) {
    out << "runners-up:\n";
    for (size_t i = 0; i < result.alternatives.size(); ++i) {
      const mapper::RankedMapping& other = result.alternatives[i];
      out << "  " << i + 2 << ". " << other.cost.estimated_cycles << " cycles, DRAM "
          << megabytes(other.cost.dram_bytes()) << ", " << other.cost.energy_pj / 1e6 << " uJ: "
          << other.mapping.describe() << "\n";
    }
  }
  if (!flags.json.empty()) {
    std::ofstream file(flags.json);
    if (!file) throw FlagError("--json: cannot write " + flags.json);
    file << result_json(spec, gemm, result, options.objective, seconds).dump(2) << '\n';
  }
  return 0;
}

}  // namespace tessel::cli
