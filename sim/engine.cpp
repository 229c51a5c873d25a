#include "sim/engine.h"

#include <memory>

#include "arch/memory/dma_engine.h"
#include "arch/memory/dram.h"
#include "arch/memory/sram_buffer.h"
#include "arch/systolic/systolic_array.h"
#include "mapper/tile_walker.h"
#include "sim/array_runner.h"
#include "sim/sc_kernel.h"

namespace tessel::sim {

namespace {

// Every module of one run; destroyed before the next run replaces the kernel.
struct Accelerator {
  std::unique_ptr<arch::Dram> dram;
  std::vector<std::unique_ptr<arch::SramBuffer>> buffers;  // core-major
  std::vector<std::unique_ptr<arch::DmaEngine>> dmas;
  std::vector<std::unique_ptr<arch::SystolicArray>> arrays;
  std::vector<std::unique_ptr<ArrayRunner>> runners;
};

std::string indexed(const char* base, size_t i) { return base + std::to_string(i); }

bool same_work(const arch::TileWork& a, const arch::TileWork& b) {
  return a.folds == b.folds && a.compute_cycles == b.compute_cycles && a.pe_slots == b.pe_slots &&
         a.run.continues == b.run.continues && a.run.continued == b.run.continued &&
         a.accesses.input_read == b.accesses.input_read && a.accesses.weight_read == b.accesses.weight_read &&
         a.accesses.output_read == b.accesses.output_read && a.accesses.output_write == b.accesses.output_write;
}

// Everything an ArrayRunner takes from a step.
bool same_step(const mapper::TileStep& a, const mapper::TileStep& b) {
  return a.size.m == b.size.m && a.size.n == b.size.n && a.size.k == b.size.k && a.continues_sum == b.continues_sum &&
         a.load_input_bytes == b.load_input_bytes && a.load_weight_bytes == b.load_weight_bytes &&
         a.load_partial_bytes == b.load_partial_bytes && a.store_bytes == b.store_bytes && same_work(a.work, b.work);
}

}  // namespace

bool runs_alike(const arch::SystolicSpec& spec, const mapper::Extents& gemm, const mapper::GemmMapping& a,
                const mapper::GemmMapping& b) {
  // What simulate_gemm and the runners read of a mapping besides the walks.
  if (a.dataflow != b.dataflow || a.dtype != b.dtype || a.split != b.split || a.parts != b.parts ||
      a.part_size != b.part_size || a.double_buffered != b.double_buffered || a.weight_density != b.weight_density) {
    return false;
  }
  for (uint32_t part = 0; part < a.parts; ++part) {
    const bool fetches = mapper::fetches_input(gemm, a, spec.arrays_per_core, part);
    if (fetches != mapper::fetches_input(gemm, b, spec.arrays_per_core, part)) return false;
    const mapper::Extents slice = mapper::part_extents(gemm, a, part);
    mapper::TileWalker walk_a(spec, slice, a, fetches);
    mapper::TileWalker walk_b(spec, slice, b, fetches);
    if (walk_a.tiles() != walk_b.tiles()) return false;
    mapper::TileStep step_a{};
    mapper::TileStep step_b{};
    while (walk_a.next(step_a)) {
      if (!walk_b.next(step_b) || !same_step(step_a, step_b)) return false;
    }
  }
  return true;
}

GemmRun simulate_gemm(const arch::SystolicSpec& spec, const mapper::Extents& gemm,
                      const mapper::GemmMapping& mapping) {
  fresh_kernel();
  Accelerator acc;
  acc.dram = std::make_unique<arch::Dram>("dram", spec.dram);
  const size_t per_core = spec.buffers.size();
  for (uint32_t core = 0; core < spec.cores; ++core) {
    for (const arch::BufferSpec& buffer : spec.buffers) {
      acc.buffers.push_back(std::make_unique<arch::SramBuffer>(
          ("core" + std::to_string(core) + "_" + buffer.name).c_str(), buffer));
    }
  }
  for (uint32_t part = 0; part < mapping.parts; ++part) {
    const uint32_t core = part / spec.arrays_per_core;
    arch::SramBuffer* buffer_of[3] = {};
    for (size_t b = 0; b < per_core; ++b) {
      for (arch::Operand operand : spec.buffers[b].holds) {
        buffer_of[static_cast<size_t>(operand)] = acc.buffers[core * per_core + b].get();
      }
    }
    acc.dmas.push_back(std::make_unique<arch::DmaEngine>(indexed("dma", part).c_str(), *acc.dram));
    acc.arrays.push_back(std::make_unique<arch::SystolicArray>(indexed("array", part).c_str(), spec, buffer_of));
    const ArrayRunner* input_leader =
        mapper::fetches_input(gemm, mapping, spec.arrays_per_core, part)
            ? nullptr
            : acc.runners[part - part % spec.arrays_per_core].get();
    acc.runners.push_back(std::make_unique<ArrayRunner>(indexed("runner", part).c_str(), spec,
                                                        mapper::part_extents(gemm, mapping, part), mapping,
                                                        *acc.dmas.back(), *acc.arrays.back(), buffer_of, input_leader));
  }

  run_kernel();

  GemmRun run{};
  for (size_t i = 0; i < acc.arrays.size(); ++i) {
    const arch::SystolicArray& array = *acc.arrays[i];
    const ArrayStats stats{array.compute_cycles(), array.port_stall_cycles(), acc.runners[i]->finish_cycle(),
                           array.tiles(), array.folds(), array.macs(), array.pe_slots()};
    run.arrays.push_back(stats);
    run.total_cycles = std::max(run.total_cycles, stats.finish_cycle);
    run.compute_cycles = std::max(run.compute_cycles, stats.compute_cycles);
    run.activity.macs += stats.macs;
  }
  run.stall_cycles = run.total_cycles - run.compute_cycles;
  run.dram_busy_cycles = acc.dram->busy_cycles();
  run.activity.dram_read_bytes = acc.dram->read_bytes();
  run.activity.dram_write_bytes = acc.dram->write_bytes();
  for (size_t i = 0; i < acc.buffers.size(); ++i) {
    const arch::SramBuffer& buffer = *acc.buffers[i];
    run.buffers.push_back({buffer.spec().name, static_cast<uint32_t>(i / per_core), buffer.read_bytes(),
                           buffer.write_bytes()});
    for (arch::Operand operand : {arch::Operand::Input, arch::Operand::Weight, arch::Operand::Output}) {
      const auto o = static_cast<size_t>(operand);
      run.activity.buffer_read_bytes[o] += buffer.read_bytes(operand);
      run.activity.buffer_write_bytes[o] += buffer.write_bytes(operand);
    }
  }
  return run;
}

}  // namespace tessel::sim
