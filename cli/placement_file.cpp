#include "cli/placement_file.h"

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "arch/config_error.h"
#include "arch/yaml_fields.h"
#include "cli/cli_common.h"

namespace tessel::cli {

namespace {

using arch::yaml::Field;
using arch::yaml::Mapping;
using arch::yaml::Reader;

// A path in the file, relative to the file's folder.
std::string path_in(const Reader& reader, const Field& field) {
  const std::filesystem::path path(reader.text(field));
  return (path.is_absolute() ? path : std::filesystem::path(reader.file()).parent_path() / path).string();
}

// `arch:` or `system:`, one of them.
void read_hardware(const Reader& reader, const Mapping& group, std::string& arch, std::string& system) {
  const std::optional<Field> arch_field = group.optional("arch");
  const std::optional<Field> system_field = group.optional("system");
  if (arch_field.has_value() == system_field.has_value()) {
    reader.fail(group.self(), "must give one of arch and system");
  }
  if (arch_field) arch = path_in(reader, *arch_field);
  if (system_field) system = path_in(reader, *system_field);
}

// The flags the file sets, with what each holds when not given.
bool sets_placement(const ServeFlags& flags, std::string& flag) {
  const ServeFlags none;
  const std::vector<std::pair<const char*, bool>> given = {
      {"--arch", !flags.arch.empty()},
      {"--system", !flags.system.empty()},
      {"--tp", flags.tp != none.tp},
      {"--replicas", flags.replicas != none.replicas},
      {"--prefill-arch", !flags.prefill_arch.empty()},
      {"--prefill-system", !flags.prefill_system.empty()},
      {"--prefill-tp", flags.prefill_tp != none.prefill_tp},
      {"--kv-link-gbps", flags.kv_link_gbps > 0},
      {"--kv-link-latency-us", flags.kv_link_latency_us > 0},
      {"--attention-arch", !flags.attention_arch.empty()},
      {"--attention-ops", !flags.attention_ops.empty()},
      {"--attention-link-gbps", flags.attention_link_gbps > 0},
      {"--attention-link-latency-us", flags.attention_link_latency_us > 0},
      {"--attention-microbatches", flags.attention_microbatches != none.attention_microbatches},
      {"--offload-weights-gbps", flags.offload_weights_gbps > 0},
      {"--offload-kv-gbps", flags.offload_kv_gbps > 0},
      {"--host-memory-gib", flags.host_memory_gib > 0},
      {"--draft-model", !flags.draft_model.empty()},
      {"--draft-tokens", flags.draft_tokens != none.draft_tokens},
      {"--acceptance", flags.acceptance.has_value()},
  };
  for (const auto& [name, set] : given) {
    if (set) {
      flag = name;
      return true;
    }
  }
  return false;
}

}  // namespace

ServeFlags with_placement_file(const ServeFlags& flags) {
  if (flags.placement.empty()) return flags;
  std::string flag;
  if (sets_placement(flags, flag)) throw FlagError(flag + ": --placement " + flags.placement + " places the devices");
  if (std::filesystem::is_directory(flags.placement)) {
    throw arch::ConfigError(flags.placement, "is a directory, not a file");
  }
  const YAML::Node root = arch::yaml::parse_file(flags.placement);
  const Reader reader(flags.placement);
  if (!root.IsMap()) throw arch::ConfigError(flags.placement, 1, "the file must be a YAML mapping of keys");
  const Mapping top(reader, {root, "", root.Mark().line + 1},
                    {"name", "description", "decode", "prefill", "attention", "host", "draft"});
  arch::yaml::read_name(reader, top);
  ServeFlags placed = flags;

  const Mapping decode(reader, top.required("decode"), {"arch", "system", "tp", "replicas"});
  read_hardware(reader, decode, placed.arch, placed.system);
  if (const std::optional<Field> tp = decode.optional("tp")) placed.tp = reader.count(*tp);
  if (const std::optional<Field> replicas = decode.optional("replicas")) placed.replicas = reader.count(*replicas);

  if (const std::optional<Field> field = top.optional("prefill")) {
    const Mapping prefill(reader, *field, {"arch", "system", "tp", "link_gbps", "link_latency_us"});
    read_hardware(reader, prefill, placed.prefill_arch, placed.prefill_system);
    if (const std::optional<Field> tp = prefill.optional("tp")) placed.prefill_tp = reader.count(*tp);
    placed.kv_link_gbps = reader.above_zero(prefill.required("link_gbps"));
    if (const std::optional<Field> latency = prefill.optional("link_latency_us")) {
      placed.kv_link_latency_us = reader.at_least_zero(*latency);
    }
  }
  if (const std::optional<Field> field = top.optional("attention")) {
    const Mapping attention(reader, *field, {"arch", "ops", "link_gbps", "link_latency_us", "microbatches"});
    placed.attention_arch = path_in(reader, attention.required("arch"));
    placed.attention_link_gbps = reader.above_zero(attention.required("link_gbps"));
    if (const std::optional<Field> latency = attention.optional("link_latency_us")) {
      placed.attention_link_latency_us = reader.at_least_zero(*latency);
    }
    if (const std::optional<Field> microbatches = attention.optional("microbatches")) {
      placed.attention_microbatches = reader.count(*microbatches);
    }
    if (const std::optional<Field> ops = attention.optional("ops")) {
      for (const Field& op : reader.list(*ops)) {
        const std::string pattern = reader.text(op);
        if (pattern.empty() || pattern.find(',') != std::string::npos) {
          reader.fail(op, "must be an op kind or a glob of op names, without commas");
        }
        placed.attention_ops += (placed.attention_ops.empty() ? "" : ",") + pattern;
      }
    }
  }
  if (const std::optional<Field> field = top.optional("host")) {
    const Mapping host(reader, *field, {"weights_gbps", "kv_gbps", "memory_gib"});
    if (const std::optional<Field> weights = host.optional("weights_gbps")) {
      placed.offload_weights_gbps = reader.above_zero(*weights);
    }
    const std::optional<Field> kv = host.optional("kv_gbps");
    const std::optional<Field> memory = host.optional("memory_gib");
    if (kv.has_value() != memory.has_value()) reader.fail(host.self(), "kv_gbps and memory_gib go together");
    if (kv) {
      placed.offload_kv_gbps = reader.above_zero(*kv);
      placed.host_memory_gib = reader.above_zero(*memory);
    }
  }
  if (const std::optional<Field> field = top.optional("draft")) {
    const Mapping draft(reader, *field, {"model", "tokens", "acceptance"});
    const Field model = draft.required("model");
    placed.draft_model = reader.text(model);
    // A config.json beside the file; a preset name stays a name.
    if (std::filesystem::exists(path_in(reader, model))) placed.draft_model = path_in(reader, model);
    if (const std::optional<Field> tokens = draft.optional("tokens")) {
      placed.draft_tokens = reader.count(*tokens);
      if (placed.draft_tokens > 64) reader.fail(*tokens, "must be at most 64, as --draft-tokens");
    }
    const Field acceptance = draft.required("acceptance");
    placed.acceptance = reader.at_least_zero(acceptance);
    if (*placed.acceptance > 1) reader.fail(acceptance, "must be at most 1");
  }
  return placed;
}

}  // namespace tessel::cli
