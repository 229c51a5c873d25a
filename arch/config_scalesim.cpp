#include "arch/config_scalesim.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "arch/config_error.h"
#include "arch/value_spans.h"

namespace tessel::arch {

namespace {

// What a .cfg cannot say, in one table. SCALE-Sim counts cycles and accesses only, so the
// seconds and joules tessel reports for a .cfg run rest on these numbers.
constexpr double kClockHz = 1e9;        // assumed: seconds for .cfg runs assume a 1 GHz clock
constexpr uint32_t kWordBytes = 1;      // SCALE-Sim single_layer_sim.py: word_size = 1 byte
constexpr uint64_t kBytesPerKb = 1024;  // SCALE-Sim: buf_size_bytes = 1024 * <Operand>SramSzkB
// Energies: Horowitz, ISSCC 2014, 45 nm (configs/energy/energy_reference.csv). Only int8: one byte a word.
constexpr double kInt8MacEnergyPj = 0.2 + 0.1;       // int8 multiply 0.2 + int32 add 0.1
constexpr double kSramEnergyPjPerByte = 10.0 / 8.0;  // 8 KB SRAM: 10 pJ per 64-bit access
// DRAM: 1.3-2.6 nJ per 64-bit access; the midpoint, per byte.
constexpr double kDramEnergyPjPerByte = (1300.0 + 2600.0) / 2.0 / 8.0;
// Area: a .cfg gives none and SCALE-Sim reports none, so it is left out (0).
constexpr double kAreaMm2 = 0.0;
constexpr double kPeAreaUm2 = 0.0;
// SCALE-Sim's SRAMs serve every request in the cycle it is made. A port one word per
// array-edge PE wide (partial sums at accumulator width) is the most the array can ask for
// in a cycle, so tessel's ports never stall a .cfg run either.
constexpr uint32_t kPortWordsPerEdgePe = 1;
constexpr uint32_t kBanks = 1;
// SCALE-Sim simulates GEMMs only and has no vector unit; the operators around them (softmax,
// norms, activations) run on this one, sized to the array.
constexpr uint32_t kVectorLanesPerArrayColumn = 1;  // takes one row of results a cycle
constexpr double kVectorOpsPerLanePerCycle = 1.0;
// exp, rsqrt, tanh, reciprocal cost about four multiply-adds each (table + polynomial).
constexpr double kSpecialOpsPerVectorOp = 0.25;
// Each lane reads one 32-bit word and writes one a cycle.
constexpr double kVectorBufferBytesPerLane = 2.0 * kAccumulatorBytes;
constexpr double kVectorOpEnergyPj = (0.9 + 3.7) / 2.0;   // Horowitz: mean of fp32 add and mul
constexpr double kSpecialOpEnergyPj = 4.0 * (3.7 + 0.9);  // four fp32 multiply-adds

enum class KeyUse {
  Translated,  // becomes part of the spec
  Ignored,     // accepted; does not change timing (the comment beside it says why)
  MustBeOff,   // switches on a SCALE-Sim feature that changes results; tessel does not model it
};

struct KnownKey {
  std::string_view section;
  std::string_view name;  // SCALE-Sim's spelling; matched without case, as configparser does
  KeyUse use;
  std::string_view feature;  // for MustBeOff: what the switch turns on
};

// Every section and key SCALE-Sim v2/v3 reads (scalesim/scale_config.py) or ships in configs/.
constexpr KnownKey kKnownKeys[] = {
    {"general", "run_name", KeyUse::Translated, ""},
    {"architecture_presets", "ArrayHeight", KeyUse::Translated, ""},
    {"architecture_presets", "ArrayWidth", KeyUse::Translated, ""},
    {"architecture_presets", "IfmapSramSzkB", KeyUse::Translated, ""},
    {"architecture_presets", "FilterSramSzkB", KeyUse::Translated, ""},
    {"architecture_presets", "OfmapSramSzkB", KeyUse::Translated, ""},
    {"architecture_presets", "Dataflow", KeyUse::Translated, ""},
    {"architecture_presets", "Bandwidth", KeyUse::Translated, ""},
    {"architecture_presets", "MemoryBanks", KeyUse::Translated, ""},
    // Offsets only place each operand's trace in the address space.
    {"architecture_presets", "IfmapOffset", KeyUse::Ignored, ""},
    {"architecture_presets", "FilterOffset", KeyUse::Ignored, ""},
    {"architecture_presets", "OfmapOffset", KeyUse::Ignored, ""},
    // Request queues bound outstanding DRAM requests only under Ramulator traces (refused).
    {"architecture_presets", "ReadRequestBuffer", KeyUse::Ignored, ""},
    {"architecture_presets", "WriteRequestBuffer", KeyUse::Ignored, ""},
    // SCALE-Sim v2 keeps the layout keys here, v3 in [layout]. Banks and ports matter only
    // under a custom layout (refused).
    {"architecture_presets", "OnChipMemoryBanks", KeyUse::Ignored, ""},
    {"architecture_presets", "OnChipMemoryBankPorts", KeyUse::Ignored, ""},
    {"architecture_presets", "IfmapCustomLayout", KeyUse::MustBeOff, "a custom SRAM layout"},
    {"architecture_presets", "FilterCustomLayout", KeyUse::MustBeOff, "a custom SRAM layout"},
    {"architecture_presets", "IfmapSRAMBankBandwidth", KeyUse::Ignored, ""},
    {"architecture_presets", "IfmapSRAMBankNum", KeyUse::Ignored, ""},
    {"architecture_presets", "IfmapSRAMBankPort", KeyUse::Ignored, ""},
    {"architecture_presets", "FilterSRAMBankBandwidth", KeyUse::Ignored, ""},
    {"architecture_presets", "FilterSRAMBankNum", KeyUse::Ignored, ""},
    {"architecture_presets", "FilterSRAMBankPort", KeyUse::Ignored, ""},
    {"layout", "IfmapCustomLayout", KeyUse::MustBeOff, "a custom SRAM layout"},
    {"layout", "FilterCustomLayout", KeyUse::MustBeOff, "a custom SRAM layout"},
    {"layout", "IfmapSRAMBankBandwidth", KeyUse::Ignored, ""},
    {"layout", "IfmapSRAMBankNum", KeyUse::Ignored, ""},
    {"layout", "IfmapSRAMBankPort", KeyUse::Ignored, ""},
    {"layout", "FilterSRAMBankBandwidth", KeyUse::Ignored, ""},
    {"layout", "FilterSRAMBankNum", KeyUse::Ignored, ""},
    {"layout", "FilterSRAMBankPort", KeyUse::Ignored, ""},
    {"run_presets", "InterfaceBandwidth", KeyUse::Translated, ""},
    {"run_presets", "UseRamulatorTrace", KeyUse::MustBeOff, "Ramulator DRAM traces"},
    // Accelergy action-count parameters: energy only, and SCALE-Sim's simulator never reads them.
    {"run_presets", "SRAM_row_size", KeyUse::Ignored, ""},
    {"run_presets", "SRAM_bank_size", KeyUse::Ignored, ""},
    {"run_presets", "DRAM_row_size", KeyUse::Ignored, ""},
    {"run_presets", "DRAM_bank_size", KeyUse::Ignored, ""},
    {"sparsity", "SparsitySupport", KeyUse::MustBeOff, "sparsity"},
    // Read only when SparsitySupport is on (refused).
    {"sparsity", "SparseRep", KeyUse::Ignored, ""},
    {"sparsity", "OptimizedMapping", KeyUse::Ignored, ""},
    {"sparsity", "BlockSize", KeyUse::Ignored, ""},
    {"sparsity", "NonZeroElems", KeyUse::Ignored, ""},
    {"sparsity", "RandomNumberGeneratorSeed", KeyUse::Ignored, ""},
    // The topology comes from tessel's command line.
    {"network_presets", "TopologyCsvLoc", KeyUse::Ignored, ""},
    // Per-bank DRAM address maps, read only when MemoryBanks > 1 (refused).
    {"memory_map_files", "MemoryMapIfmap", KeyUse::Ignored, ""},
    {"memory_map_files", "MemoryMapFilter", KeyUse::Ignored, ""},
    {"memory_map_files", "MemoryMapOfmap", KeyUse::Ignored, ""},
};

std::string lower(std::string_view text) {
  std::string lowered(text);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lowered;
}

std::string_view trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

const KnownKey* find_known(std::string_view section, std::string_view name) {
  for (const KnownKey& known : kKnownKeys) {
    if (known.section == section && lower(known.name) == lower(name)) return &known;
  }
  return nullptr;
}

bool is_known_section(std::string_view section) {
  for (const KnownKey& known : kKnownKeys) {
    if (known.section == section) return true;
  }
  return false;
}

// `section`'s key names, or with no section the section names, for messages.
std::string known_names(std::optional<std::string_view> section) {
  std::vector<std::string_view> names;
  for (const KnownKey& known : kKnownKeys) {
    if (section && known.section != *section) continue;
    const std::string_view name = section ? known.name : known.section;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::string joined;
  for (std::string_view name : names) joined += (joined.empty() ? "" : ", ") + std::string(name);
  return joined;
}

struct Value {
  const KnownKey* key;
  std::string text;
  int line;
};

struct Section {
  int line;
  std::map<std::string, Value> values;  // by lower-cased key
};

// The .cfg as configparser reads it: `[section]` headers, `key = value` or `key: value`,
// whole-line comments after '#' or ';'. Unknown sections and keys are refused here.
class CfgFile {
 public:
  explicit CfgFile(std::string path) : path_(std::move(path)) {
    std::ifstream in(path_);
    if (!in) throw ConfigError(path_, "cannot open the file");
    std::string raw;
    Section* section = nullptr;
    std::string section_name;
    for (int line = 1; std::getline(in, raw); ++line) {
      if (!raw.empty() && raw.back() == '\r') raw.pop_back();
      const std::string_view text = trim(raw);
      if (text.empty() || text.front() == '#' || text.front() == ';') continue;
      if (text.front() == '[') {
        if (text.back() != ']')
          throw ConfigError(path_, line, "a section header must end with ']'");
        section_name = std::string(text.substr(1, text.size() - 2));
        if (!is_known_section(section_name)) {
          throw ConfigError(path_, line, section_name,
                            "unknown section (SCALE-Sim's: " + known_names(std::nullopt) + ")");
        }
        if (sections_.count(section_name)) {
          throw ConfigError(path_, line, section_name, "section appears twice");
        }
        section = &sections_[section_name];
        section->line = line;
        continue;
      }
      const size_t delimiter = text.find_first_of("=:");
      if (delimiter == std::string_view::npos) {
        throw ConfigError(
            path_, line, "expected 'key = value' or 'key: value', got '" + std::string(text) + "'");
      }
      const std::string_view name = trim(text.substr(0, delimiter));
      if (!section) {
        throw ConfigError(path_, line, std::string(name), "key before any [section] header");
      }
      const std::string full_key = section_name + "." + std::string(name);
      const KnownKey* known = find_known(section_name, name);
      if (!known) {
        throw ConfigError(path_, line, full_key,
                          "unknown key (SCALE-Sim's [" + section_name +
                              "] keys: " + known_names(section_name) + ")");
      }
      if (section->values.count(lower(name))) {
        throw ConfigError(path_, line, full_key, "appears twice in [" + section_name + "]");
      }
      section->values[lower(name)] = {known, std::string(trim(text.substr(delimiter + 1))), line};
    }
  }

  const Value* find(std::string_view section, std::string_view name) const {
    const auto in_section = sections_.find(std::string(section));
    if (in_section == sections_.end()) return nullptr;
    const auto value = in_section->second.values.find(lower(name));
    return value == in_section->second.values.end() ? nullptr : &value->second;
  }

  // A missing key is reported at its section's header, or at line 1 without the section.
  const Value& required(std::string_view section, std::string_view name) const {
    if (const Value* value = find(section, name)) return *value;
    const std::string key = std::string(section) + "." + std::string(name);
    const auto in_section = sections_.find(std::string(section));
    if (in_section == sections_.end()) {
      throw ConfigError(path_, 1, key,
                        "missing: the file has no [" + std::string(section) + "] section");
    }
    throw ConfigError(path_, in_section->second.line, key, "missing (SCALE-Sim requires it)");
  }

  [[noreturn]] void fail(const Value& value, const std::string& problem) const {
    throw ConfigError(path_, value.line,
                      std::string(value.key->section) + "." + std::string(value.key->name),
                      problem);
  }

  template <typename Visit>
  void for_each_value(Visit visit) const {
    for (const auto& [name, section] : sections_) {
      for (const auto& [key, value] : section.values) visit(value);
    }
  }

 private:
  std::string path_;
  std::map<std::string, Section> sections_;
};

uint32_t positive_int(const CfgFile& cfg, const Value& value) {
  uint64_t parsed = 0;
  const std::string& text = value.text;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || parsed == 0 ||
      parsed > std::numeric_limits<uint32_t>::max()) {
    cfg.fail(value, "must be a positive integer, got '" + text + "'");
  }
  // Array sides, SRAM kB and words a cycle are all counts: no hardware has more than that span.
  const ValueSpan span = value_span(value.key->name);
  if (static_cast<double>(parsed) > span.most) {
    cfg.fail(value, "'" + text + "' is beyond what hardware spans: at most " + span.what);
  }
  return static_cast<uint32_t>(parsed);
}

// configparser's boolean words.
bool switch_on(const CfgFile& cfg, const Value& value) {
  const std::string word = lower(value.text);
  if (word == "1" || word == "yes" || word == "true" || word == "on") return true;
  if (word == "0" || word == "no" || word == "false" || word == "off") return false;
  cfg.fail(value, "must be True or False, got '" + value.text + "'");
}

void refuse_unmodelled_features(const CfgFile& cfg) {
  cfg.for_each_value([&](const Value& value) {
    if (value.key->use == KeyUse::MustBeOff && switch_on(cfg, value)) {
      cfg.fail(value,
               "turns on " + std::string(value.key->feature) +
                   ", which changes results and which tessel does not model; set it to False");
    }
  });
  if (const Value* banks = cfg.find("architecture_presets", "MemoryBanks")) {
    if (positive_int(cfg, *banks) != 1) {
      cfg.fail(*banks,
               "must be 1: several DRAM banks use SCALE-Sim's per-bank memory maps, "
               "which tessel does not model");
    }
  }
}

// CALC: SCALE-Sim sizes the DRAM bandwidth so that nothing stalls. USER: `Bandwidth` words
// a cycle, with no latency modelled beyond it.
DramSpec read_dram(const CfgFile& cfg) {
  const Value& mode = cfg.required("run_presets", "InterfaceBandwidth");
  DramSpec dram{};
  dram.energy_pj_per_byte = kDramEnergyPjPerByte;
  dram.latency_cycles = 0;
  if (mode.text == "CALC") {
    dram.unlimited = true;
    dram.bytes_per_cycle = std::numeric_limits<double>::infinity();
    return dram;
  }
  if (mode.text != "USER") cfg.fail(mode, "must be CALC or USER, got '" + mode.text + "'");
  const Value& bandwidth = cfg.required("architecture_presets", "Bandwidth");
  if (bandwidth.text.find(',') != std::string::npos) {
    const std::string given = "got '" + bandwidth.text + "'";
    cfg.fail(bandwidth, "lists one bandwidth per DRAM bank; tessel models one bank, " + given);
  }
  dram.unlimited = false;
  dram.bytes_per_cycle = static_cast<double>(positive_int(cfg, bandwidth)) * kWordBytes;
  return dram;
}

BufferSpec sram(const CfgFile& cfg, std::string name, Operand operand, std::string_view size_key,
                double port_bytes_per_cycle) {
  BufferSpec buffer{};
  buffer.name = std::move(name);
  buffer.holds = {operand};
  buffer.capacity_bytes =
      positive_int(cfg, cfg.required("architecture_presets", size_key)) * kBytesPerKb;
  buffer.read_bytes_per_cycle = port_bytes_per_cycle;
  buffer.write_bytes_per_cycle = port_bytes_per_cycle;
  buffer.banks = kBanks;
  buffer.read_energy_pj_per_byte = kSramEnergyPjPerByte;
  buffer.write_energy_pj_per_byte = kSramEnergyPjPerByte;
  buffer.area_mm2 = kAreaMm2;
  return buffer;
}

VectorUnitSpec vector_unit(uint32_t array_cols) {
  VectorUnitSpec unit{};
  unit.lanes = array_cols * kVectorLanesPerArrayColumn;
  unit.ops_per_lane_per_cycle = kVectorOpsPerLanePerCycle;
  const double ops_per_cycle = unit.lanes * unit.ops_per_lane_per_cycle;
  unit.special_ops_per_cycle = ops_per_cycle * kSpecialOpsPerVectorOp;
  unit.buffer_bytes_per_cycle = unit.lanes * kVectorBufferBytesPerLane;
  unit.op_energy_pj = kVectorOpEnergyPj;
  unit.special_op_energy_pj = kSpecialOpEnergyPj;
  unit.area_mm2 = kAreaMm2;
  return unit;
}

}  // namespace

SystolicSpec load_scalesim_cfg(const std::string& path) {
  const CfgFile cfg(path);
  refuse_unmodelled_features(cfg);

  SystolicSpec spec{};
  const Value& run_name = cfg.required("general", "run_name");
  if (run_name.text.empty()) cfg.fail(run_name, "must not be empty");
  spec.name = run_name.text;
  spec.source_file = path;
  spec.clock_hz = kClockHz;
  spec.cores = 1;
  spec.arrays_per_core = 1;

  spec.array.rows = positive_int(cfg, cfg.required("architecture_presets", "ArrayHeight"));
  spec.array.cols = positive_int(cfg, cfg.required("architecture_presets", "ArrayWidth"));
  const Value& dataflow = cfg.required("architecture_presets", "Dataflow");
  const std::optional<Dataflow> parsed_dataflow = parse_dataflow(dataflow.text);
  if (!parsed_dataflow) cfg.fail(dataflow, "must be os, ws or is, got '" + dataflow.text + "'");
  spec.array.dataflow = *parsed_dataflow;
  spec.array.weights_double_buffered = false;  // SCALE-Sim: each fold fills, streams, drains
  spec.array.pe_area_um2 = kPeAreaUm2;

  spec.dtypes = {{DType::Int8, 1.0, kInt8MacEnergyPj}};

  const double edge_words =
      static_cast<double>(std::max(spec.array.rows, spec.array.cols)) * kPortWordsPerEdgePe;
  spec.buffers = {
      sram(cfg, "ifmap_sram", Operand::Input, "IfmapSramSzkB", edge_words * kWordBytes),
      sram(cfg, "filter_sram", Operand::Weight, "FilterSramSzkB", edge_words * kWordBytes),
      sram(cfg, "ofmap_sram", Operand::Output, "OfmapSramSzkB", edge_words * kAccumulatorBytes),
  };
  spec.vector_unit = vector_unit(spec.array.cols);
  spec.dram = read_dram(cfg);
  spec.other_area_mm2 = kAreaMm2;
  return spec;
}

}  // namespace tessel::arch
