// What `tessel describe` and `tessel map` print for a systolic device.
#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "arch/fpga/resources.h"
#include "arch/systolic/fold_timing.h"
#include "arch/systolic/tile_work.h"
#include "mapper/loop_nest.h"
#include "mapper/mapping_json.h"
#include "sim/devices/systolic_device.h"

namespace tessel::sim {

namespace {

using mapper::Dim;

std::string lower(Dim dim) { return dim == Dim::M ? "m" : dim == Dim::N ? "n" : "k"; }

std::string megabytes(uint64_t bytes) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(2) << static_cast<double>(bytes) / 1e6 << " MB";
  return text.str();
}

// What an FPGA design takes of its device; nothing for other architectures.
void print_resources(const arch::SystolicSpec& spec, std::ostream& out) {
  if (spec.resources.empty()) return;
  out << "  resources        used   available  utilization\n";
  for (const arch::ResourceUse& resource : spec.resources) {
    out << "    " << std::left << std::setw(14) << resource.name << std::right << std::setw(10)
        << arch::fpga::with_thousands(resource.used) << std::setw(12) << arch::fpga::with_thousands(resource.available)
        << std::setw(12) << std::fixed << std::setprecision(1) << 100.0 * resource.utilization() << "%\n"
        << std::defaultfloat << std::setprecision(4);
  }
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
  const mapper::Dim streamed = mapper::streamed_dim(m.dataflow);
  if (grid.folds() == 1 && nest.trips(streamed) > 1 && mapper::forms_stream_runs(nest, m.dataflow)) {
    out << "  stream runs: the " << nest.trips(streamed) << " tiles along " << mapper::to_string(streamed)
        << " go through the array as one fold, filling and draining once\n";
  }
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

void SystolicDevice::describe(std::ostream& out) const {
  const arch::SystolicSpec& spec = spec_;
  const std::ios::fmtflags flags = out.flags();
  out << std::setprecision(4);
  const double clock = spec.clock_hz;
  out << spec.name << " (" << spec.source_file << ")\n";
  out << "  clock " << clock / 1e6 << " MHz; " << spec.cores << " core(s) x " << spec.arrays_per_core << " array(s) of "
      << spec.array.rows << "x" << spec.array.cols << ", " << arch::to_string(spec.array.dataflow)
      << (spec.array.weights_double_buffered ? ", double-buffered stationary registers" : "") << "\n";
  for (const arch::DTypeSpec& format : spec.dtypes) {
    const double peak = spec.peak_macs_per_cycle(format.dtype);
    out << "  " << std::left << std::setw(5) << arch::to_string(format.dtype) << std::right << " peak "
        << 2 * peak * clock / 1e12 << " TFLOP/s ("
        << arch::fpga::with_thousands(static_cast<uint64_t>(std::llround(peak * clock))) << " MAC/s), "
        << format.mac_energy_pj << " pJ/MAC\n";
  }
  for (const arch::BufferSpec& buffer : spec.buffers) {
    out << "  buffer " << buffer.name << " (per core): " << static_cast<double>(buffer.capacity_bytes) / (1 << 20)
        << " MiB, holds";
    for (arch::Operand operand : buffer.holds) out << " " << arch::to_string(operand);
    out << "; read " << buffer.read_bytes_per_cycle * clock / 1e9 << " GB/s, write "
        << buffer.write_bytes_per_cycle * clock / 1e9 << " GB/s\n";
  }
  const arch::VectorUnitSpec& vector = spec.vector_unit;
  out << "  vector unit (per core): " << vector.lanes << " lanes, "
      << vector.lanes * vector.ops_per_lane_per_cycle * clock / 1e12 << " Tops/s, "
      << vector.special_ops_per_cycle * clock / 1e9 << " G special ops/s\n";
  if (spec.dram.unlimited) {
    out << "  DRAM: unlimited bandwidth, no latency\n";
  } else {
    out << "  DRAM: " << spec.dram.bytes_per_cycle * clock / 1e9 << " GB/s (" << spec.dram.bytes_per_cycle
        << " B/cycle), latency " << spec.dram.latency_cycles << " cycles, " << spec.dram.energy_pj_per_byte
        << " pJ/B\n";
  }
  out << "  area " << spec.area_mm2() << " mm2\n";
  if (spec.power) {
    out << "  power: idle " << spec.power->idle_w << " W, static " << spec.power->static_w
        << " W (the clock stays at its nominal value)\n";
  }
  print_resources(spec, out);
  out.flags(flags);
}

Device::MappingReport SystolicDevice::explain_mapping(const workloads::Gemm& gemm, const RunSettings& settings,
                                                      size_t top, uint64_t seed) {
  mapper::MapperOptions options{*settings.dtype};
  options.objective = settings.objective;
  options.search_dataflows = settings.search_dataflows;
  options.seed = seed;
  options.alternatives = top;

  const auto start = std::chrono::steady_clock::now();
  const mapper::MapResult result = mapper::map_gemm(spec_, gemm, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::ostringstream out;
  out << "GEMM " << gemm.name << ": C[" << gemm.m << "x" << gemm.n << "] = A[" << gemm.m << "x" << gemm.k << "] B["
      << gemm.k << "x" << gemm.n << "], " << arch::to_string(options.dtype) << ", on " << spec_.name
      << "; objective " << mapper::to_string(options.objective) << "\n";
  out << "mapping: " << result.mapping.describe() << "\n";
  print_nest(spec_, gemm, result.mapping, out);
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
  return {out.str(), result_json(spec_, gemm, result, options.objective, seconds)};
}

}  // namespace tessel::sim
