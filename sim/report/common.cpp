#include "sim/report/common.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tessel::sim {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

void add_activity_stats(StatGroup& group, const arch::Activity& a) {
  group.add("macs", a.macs, "count", "multiply-accumulates that produce results (padding excluded)")
      .add("dram_read_bytes", a.dram_read_bytes, "bytes", "bytes read from DRAM")
      .add("dram_write_bytes", a.dram_write_bytes, "bytes", "bytes written to DRAM")
      .add("sram_read_bytes", a.sram_read_bytes(), "bytes", "bytes read from on-chip buffers by arrays and DMA")
      .add("sram_write_bytes", a.sram_write_bytes(), "bytes", "bytes written to on-chip buffers by arrays and DMA");
}

void add_energy_stats(StatGroup& group, const arch::EnergyBreakdown& e) {
  group.add("energy_pj", e.total_pj(), "pJ", "MACs + buffer accesses + DRAM + vector ops + links + static power")
      .add("mac_energy_pj", e.mac_pj, "pJ", "multiply-accumulate energy")
      .add("sram_energy_pj", e.sram_pj, "pJ", "on-chip buffer read and write energy")
      .add("dram_energy_pj", e.dram_pj, "pJ", "DRAM transfer energy")
      .add("vector_energy_pj", e.vector_pj, "pJ", "vector-unit ALU and special-function energy")
      .add("link_energy_pj", e.link_pj, "pJ", "bytes over the links between devices")
      .add("static_energy_pj", e.static_pj, "pJ", "the devices' static power over the time they ran");
}

nlohmann::json energy_breakdown_json(const arch::EnergyBreakdown& e) {
  return {{"mac", e.mac_pj}, {"sram", e.sram_pj}, {"dram", e.dram_pj}, {"vector", e.vector_pj}, {"link", e.link_pj},
          {"static", e.static_pj}};
}

void add_resources_json(nlohmann::json& summary, const std::vector<arch::ResourceUse>& uses) {
  if (uses.empty()) return;
  nlohmann::json resources = nlohmann::json::array();
  for (const arch::ResourceUse& r : uses) {
    resources.push_back({{"name", r.name}, {"used", r.used}, {"available", r.available},
                         {"utilization", r.utilization()}});
  }
  summary["resources"] = resources;
}

nlohmann::json numerics_passed_json(bool checked, bool passed) {
  return checked ? nlohmann::json(passed) : nlohmann::json();
}

void add_numerics_stats(StatGroup& group, const NumericsReport& n) {
  group.add("checked", uint64_t{n.checked}, "count", "1 when the datapath values were checked against Eigen");
  if (!n.checked) return;
  group.add("passed", uint64_t{n.passed}, "count", "1 when the datapath met the check's criterion")
      .add("reference", n.reference, "what the datapath was compared with, and the criterion")
      .add("max_abs_error", n.max_abs_error, "value", "largest |datapath - reference| over the outputs")
      .add("relative_error", n.relative_error, "ratio", "||datapath - reference||_F / ||reference||_F")
      .add("sqnr_db", n.sqnr_db, "dB", "signal to error power vs the reference (null when exact)")
      .add("error_bound", n.error_bound, "value", "largest per-output error the criterion allows")
      .add("quantization_sqnr_db", n.quantization_sqnr_db, "dB",
           "datapath result vs the fp64 product of the unrounded inputs: what the format (and a quantized "
           "linear's scheme) costs");
  if (n.format_sqnr_db != 0) {
    group.add("quantization_max_abs_error", n.quantization_max_abs_error, "value",
              "a quantized linear's largest |result - fp64 product of the unquantized inputs|")
        .add("format_sqnr_db", n.format_sqnr_db, "dB",
             "the unquantized format's SQNR on the same inputs: the scheme adds the difference");
  }
}

void write_report_files(const ReportBundle& reports, const std::string& directory) {
  std::filesystem::create_directories(directory);
  const auto path = [&](const char* name) { return (std::filesystem::path(directory) / name).string(); };
  write_file([&](std::ostream& out) { out << reports.summary.dump(2) << '\n'; }, path("summary.json"));
  write_file(reports.write_layers_csv, path("layers.csv"));
  write_file([&](std::ostream& out) { out << reports.stats().dump(2) << '\n'; }, path("stats.json"));
}

void write_file(const std::function<void(std::ostream&)>& write, const std::string& path) {
  std::ofstream file(path);
  write(file);
  if (!file) throw std::runtime_error("cannot write " + path);
}

std::string printed(const std::function<void(std::ostream&)>& write) {
  std::ostringstream text;
  write(text);
  return text.str();
}

nlohmann::json scheme_json(const std::optional<NumericsReport>& scheme) {
  if (!scheme) return nullptr;
  return {{"sqnr_db", scheme->quantization_sqnr_db},
          {"max_abs_error", scheme->quantization_max_abs_error},
          {"format_sqnr_db", scheme->format_sqnr_db},
          {"added_db", scheme->format_sqnr_db - scheme->quantization_sqnr_db}};
}

nlohmann::json scheme_layer_json(const std::optional<NumericsReport>& layer) {
  if (!layer) return nullptr;
  nlohmann::json json = scheme_json(layer);
  json["passed"] = layer->passed;
  json["layer"] = layer->dtype;
  json["reference"] = layer->reference;
  return json;
}

nlohmann::json quant_json(const workloads::QuantRecipe& recipe) {
  if (recipe.empty()) return nullptr;
  const auto stored = [](const std::optional<workloads::StoredFormat>& format) -> nlohmann::json {
    if (!format) return nullptr;
    return {{"format", std::string(arch::to_string(format->format))},
            {"scales", workloads::to_string(format->scales)},
            {"group", format->group},
            {"zero_points", format->zero_points}};
  };
  return {{"name", recipe.name},
          {"weights", stored(recipe.weights)},
          {"activations", recipe.activations ? nlohmann::json(arch::to_string(*recipe.activations)) : nullptr},
          {"kv_cache", stored(recipe.kv_cache)},
          {"sparsity", !recipe.sparsity                ? nlohmann::json(nullptr)
                       : recipe.sparsity->structured() ? nlohmann::json{{"pattern", recipe.sparsity->text()}}
                                                       : nlohmann::json{{"density", recipe.sparsity->density},
                                                                        {"format", workloads::to_string(recipe.sparsity->format)}}},
          {"keep", recipe.keep},
          {"keep_layers", recipe.keep_layers},
          {"activation_sparsity", recipe.activation_sparsity
                                      ? nlohmann::json{{"density", recipe.activation_sparsity->density},
                                                       {"ops", recipe.activation_sparsity->ops},
                                                       {"outputs", recipe.activation_sparsity->outputs},
                                                       {"predictor_rank", recipe.activation_sparsity->predictor_rank}}
                                      : nlohmann::json(nullptr)},
          {"prune", recipe.prune.empty() ? nlohmann::json(nullptr)
                                         : nlohmann::json{{"heads", recipe.prune.heads},
                                                          {"mlp_channels", recipe.prune.mlp_channels}}},
          {"description", workloads::describe(recipe)}};
}

}  // namespace tessel::sim
