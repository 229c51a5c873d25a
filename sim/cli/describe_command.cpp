#include "sim/cli/describe_command.h"

#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>

#include "arch/config_gpu.h"
#include "arch/config_loader.h"
#include "arch/fpga/resources.h"
#include "sim/cli/describe_gpu.h"
#include "sim/roofline.h"

namespace tessel::cli {

CLI::App* add_describe_command(CLI::App& app, DescribeFlags& flags) {
  CLI::App* describe = app.add_subcommand(
      "describe",
      "Print an architecture's derived figures (systolic, FPGA or GPU): peaks, memories, area, FPGA resources, links");
  describe->add_option("--arch", flags.arch, "Architecture: tessel YAML (systolic, fpga or gpu) or SCALE-Sim .cfg")
      ->required();
  return describe;
}

namespace {

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

}  // namespace

int describe_command(const DescribeFlags& flags) {
  if (arch::is_gpu_file(flags.arch)) {
    describe_gpu(arch::load_gpu_spec(flags.arch), std::cout);
    return 0;
  }
  const arch::SystolicSpec spec = arch::load_spec(flags.arch);
  std::ostream& out = std::cout;
  out << std::setprecision(4);
  const double clock = spec.clock_hz;
  out << spec.name << " (" << spec.source_file << ")\n";
  out << "  clock " << clock / 1e6 << " MHz; " << spec.cores << " core(s) x " << spec.arrays_per_core << " array(s) of "
      << spec.array.rows << "x" << spec.array.cols << ", " << arch::to_string(spec.array.dataflow)
      << (spec.array.weights_double_buffered ? ", double-buffered stationary registers" : "") << "\n";
  for (const arch::DTypeSpec& format : spec.dtypes) {
    out << "  " << std::left << std::setw(5) << arch::to_string(format.dtype) << std::right << " peak "
        << 2 * sim::peak_macs_per_cycle(spec, format.dtype) * clock / 1e12 << " TFLOP/s ("
        << arch::fpga::with_thousands(static_cast<uint64_t>(std::llround(sim::peak_macs_per_cycle(spec, format.dtype) * clock)))
        << " MAC/s), " << format.mac_energy_pj << " pJ/MAC\n";
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
  print_resources(spec, out);
  return 0;
}

}  // namespace tessel::cli
