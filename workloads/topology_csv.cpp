#include "workloads/topology_csv.h"

#include <libfccp/csv.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "workloads/counts.h"
#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

constexpr std::array<const char*, 8> kConvColumns = {"Layer name",    "IFMAP Height", "IFMAP Width",
                                                     "Filter Height", "Filter Width", "Channels",
                                                     "Num Filter",    "Strides"};
constexpr std::array<const char*, 4> kGemmColumns = {"Layer", "M", "N", "K"};

// Fields are trimmed of spaces and tabs; blank lines are skipped, as SCALE-Sim skips them.
template <size_t kColumns>
using CsvReader =
    io::CSVReader<static_cast<unsigned>(kColumns), io::trim_chars<' ', '\t'>,
                  io::no_quote_escape<','>, io::throw_on_overflow, io::empty_line_comment>;

std::string_view trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The file being read, for messages that name it and the line.
class Topology {
 public:
  explicit Topology(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  [[noreturn]] void fail(unsigned line, const std::string& problem) const {
    throw InputError(path_ + ":" + std::to_string(line) + ": " + problem);
  }

  // Sizes stay below 2^32 so that the products of two of them fit in 64 bits.
  uint64_t size(unsigned line, const char* column, const char* text) const {
    const std::string_view field(text);
    if (field.empty()) fail(line, "column '" + std::string(column) + "' is empty");
    uint64_t value = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (ec != std::errc() || end != field.data() + field.size() || value == 0 ||
        value > std::numeric_limits<uint32_t>::max()) {
      fail(line, "column '" + std::string(column) +
                     "': must be a positive integer below 2^32, got '" + std::string(field) + "'");
    }
    return value;
  }

 private:
  std::string path_;
};

// The header line decides the layout; its names must be exactly one layout's columns.
// SCALE-Sim ends lines with a comma, so an empty last name is allowed.
template <size_t kColumns>
void check_header(const Topology& topology, unsigned line, std::vector<std::string> names,
                  const std::array<const char*, kColumns>& expected, const char* layout) {
  while (!names.empty() && names.back().empty()) names.pop_back();
  std::string columns;
  for (const char* column : expected)
    columns += (columns.empty() ? "" : ", ") + std::string(column);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty())
      topology.fail(line, "header column " + std::to_string(i + 1) + " has no name");
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i)) {
      topology.fail(line, "header column '" + names[i] + "' appears twice");
    }
    if (std::find(expected.begin(), expected.end(), names[i]) == expected.end()) {
      topology.fail(line, "unknown header column '" + names[i] + "' (the " + layout +
                              " layout has: " + columns + ")");
    }
  }
  for (const char* column : expected) {
    if (std::find(names.begin(), names.end(), column) == names.end()) {
      topology.fail(line, "header lacks column '" + std::string(column) + "' of the " + layout +
                              " layout (" + columns + ")");
    }
  }
}

enum class Layout { Conv, Gemm };

Layout read_layout(const Topology& topology) {
  io::LineReader lines(topology.path());
  char* header = nullptr;
  do {
    header = lines.next_line();
  } while (header && io::empty_line_comment::is_comment(header));
  const unsigned line = std::max(1u, lines.get_file_line());
  if (!header) topology.fail(line, "the file has no header line");

  std::vector<std::string> names;
  std::string_view rest(header);
  while (true) {
    const size_t comma = rest.find(',');
    names.emplace_back(trim(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (names.front() == kConvColumns.front()) {
    check_header(topology, line, names, kConvColumns, "conv");
    return Layout::Conv;
  }
  if (names.front() == kGemmColumns.front()) {
    check_header(topology, line, names, kGemmColumns, "GEMM");
    return Layout::Gemm;
  }
  const std::string given = "got '" + names.front() + "'";
  topology.fail(line, "the header must start with 'Layer name' (conv layout) or 'Layer' (GEMM "
                      "layout), " + given);
}

// Calls on_row(line, fields) for each data row, fields in the order of `columns`.
template <size_t kColumns, typename OnRow>
void read_rows(const Topology& topology, const std::array<const char*, kColumns>& columns,
               OnRow on_row) {
  CsvReader<kColumns> csv(topology.path());
  std::apply([&](auto... names) { csv.read_header(io::ignore_extra_column, names...); }, columns);
  const std::string count = std::to_string(kColumns);
  std::array<char*, kColumns> fields{};
  while (true) {
    bool read = false;
    try {
      read = std::apply([&](auto&... field) { return csv.read_row(field...); }, fields);
    } catch (const io::error::too_few_columns&) {
      topology.fail(csv.get_file_line(), "fewer fields than the header's " + count);
    } catch (const io::error::too_many_columns&) {
      topology.fail(csv.get_file_line(), "more fields than the header's " + count);
    } catch (const io::error::base& error) {
      topology.fail(csv.get_file_line(), error.what());
    }
    if (!read) return;
    if (fields[0][0] == '\0') topology.fail(csv.get_file_line(), "the layer has no name");
    on_row(csv.get_file_line(), fields);
  }
}

// Depthwise layers become a GEMM a channel: a bound on them bounds the run's GEMMs.
constexpr uint64_t kMaxDepthwiseChannels = 65'536;

void add_gemm(const Topology& topology, unsigned line, Gemm gemm, Graph& graph) {
  const uint64_t flops = gemm_flops(gemm);
  if (flops > kMaxFlops) {
    topology.fail(line, "layer '" + gemm.name + "' (" + std::to_string(gemm.m) + "x" + std::to_string(gemm.n) + "x" +
                            std::to_string(gemm.k) + ") is " + too_many_flops(flops));
  }
  graph.gemms.push_back(std::move(gemm));
}

// SCALE-Sim's lowering: output pixels E_h = ceil((H - R + stride) / stride) (likewise E_w);
// M = E_h * E_w, N = Num Filter, K = R * S * Channels.
void add_conv_layer(const Topology& topology, unsigned line,
                    const std::array<char*, kConvColumns.size()>& fields, Graph& graph) {
  const auto size = [&](size_t column) {
    return topology.size(line, kConvColumns[column], fields[column]);
  };
  const uint64_t ifmap_h = size(1);
  const uint64_t ifmap_w = size(2);
  const uint64_t filter_h = size(3);
  const uint64_t filter_w = size(4);
  const uint64_t channels = size(5);
  const uint64_t filters = size(6);
  const uint64_t stride = size(7);
  if (filter_h > ifmap_h) {
    topology.fail(line, "column 'Filter Height': the filter (" + std::to_string(filter_h) +
                            ") is taller than the IFMAP (" + std::to_string(ifmap_h) + ")");
  }
  if (filter_w > ifmap_w) {
    topology.fail(line, "column 'Filter Width': the filter (" + std::to_string(filter_w) +
                            ") is wider than the IFMAP (" + std::to_string(ifmap_w) + ")");
  }
  const uint64_t out_h = (ifmap_h - filter_h + stride + stride - 1) / stride;
  const uint64_t out_w = (ifmap_w - filter_w + stride + stride - 1) / stride;
  const uint64_t window = filter_h * filter_w;
  const std::string name(fields[0]);
  // SCALE-Sim reads a layer whose name contains "DP" as depthwise: one single-channel
  // convolution per channel, named <name>Channel_<i>.
  if (name.find("DP") != std::string::npos) {
    if (channels > kMaxDepthwiseChannels) {
      topology.fail(line, "column 'Channels': a depthwise layer of more than " + std::to_string(kMaxDepthwiseChannels) +
                              " channels (one GEMM each)");
    }
    for (uint64_t channel = 0; channel < channels; ++channel) {
      add_gemm(topology, line, {name + "Channel_" + std::to_string(channel), out_h * out_w, filters, window}, graph);
    }
    return;
  }
  if (window > std::numeric_limits<uint64_t>::max() / channels) {
    topology.fail(line, "Filter Height x Filter Width x Channels does not fit in 64 bits");
  }
  add_gemm(topology, line, {name, out_h * out_w, filters, window * channels}, graph);
}

}  // namespace

Graph read_topology_csv(const std::string& path) {
  const Topology topology(path);
  Graph graph;
  graph.name = std::filesystem::path(path).stem().string();
  try {
    if (read_layout(topology) == Layout::Conv) {
      read_rows(topology, kConvColumns, [&](unsigned line, const auto& fields) {
        add_conv_layer(topology, line, fields, graph);
      });
    } else {
      read_rows(topology, kGemmColumns, [&](unsigned line, const auto& fields) {
        add_gemm(topology, line,
                 {fields[0], topology.size(line, "M", fields[1]), topology.size(line, "N", fields[2]),
                  topology.size(line, "K", fields[3])},
                 graph);
      });
    }
  } catch (const io::error::can_not_open_file&) {
    throw InputError(path + ": cannot open the file");
  }
  return graph;
}

}  // namespace tessel::workloads
