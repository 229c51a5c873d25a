#include "sim/stream_engine.h"

#include <memory>
#include <string>
#include <vector>

#include "arch/memory/dma_engine.h"
#include "arch/memory/dram.h"
#include "arch/memory/sram_buffer.h"
#include "arch/vector/vector_unit.h"
#include "sim/sc_kernel.h"
#include "sim/stream_runner.h"

namespace tessel::sim {

namespace {

// One core's modules.
struct StreamCore {
  std::vector<std::unique_ptr<arch::SramBuffer>> buffers;
  std::unique_ptr<arch::DmaEngine> dma;
  std::unique_ptr<arch::VectorUnit> vector;
  std::unique_ptr<StreamRunner> runner;
};

arch::SramBuffer& holder(const arch::SystolicSpec& spec, StreamCore& core, arch::Operand operand) {
  for (size_t b = 0; b < spec.buffers.size(); ++b) {
    if (spec.buffers[b].holds_operand(operand)) return *core.buffers[b];
  }
  return *core.buffers.front();  // a validated spec never gets here
}

}  // namespace

StreamRun simulate_stream(const arch::SystolicSpec& spec, const mapper::StreamPlan& plan) {
  fresh_kernel();
  arch::Dram dram("dram", spec.dram);
  std::vector<StreamCore> cores(spec.cores);
  for (uint32_t c = 0; c < spec.cores; ++c) {
    StreamCore& core = cores[c];
    const std::string prefix = "core" + std::to_string(c) + "_";
    for (const arch::BufferSpec& buffer : spec.buffers) {
      core.buffers.push_back(std::make_unique<arch::SramBuffer>((prefix + buffer.name).c_str(), buffer));
    }
    core.dma = std::make_unique<arch::DmaEngine>((prefix + "dma").c_str(), dram);
    core.vector = std::make_unique<arch::VectorUnit>((prefix + "vector").c_str(), spec.vector_unit);
    core.runner = std::make_unique<StreamRunner>(
        (prefix + "stream").c_str(), plan, plan.core_first_unit(c, spec.cores), plan.core_units(c, spec.cores),
        *core.dma, *core.vector, holder(spec, core, arch::Operand::Input), holder(spec, core, arch::Operand::Output));
  }

  run_kernel();

  StreamRun run;
  run.activity.macs = plan.matrix_on_vector_unit ? 0 : plan.macs;  // else counted as vector ops
  run.activity.dram_read_bytes = dram.read_bytes();
  run.activity.dram_write_bytes = dram.write_bytes();
  run.dram_busy_cycles = dram.busy_cycles();
  for (const StreamCore& core : cores) {
    run.total_cycles = std::max(run.total_cycles, core.runner->finish_cycle());
    run.array_cycles = std::max(run.array_cycles, core.runner->array_cycles());
    run.vector_cycles = std::max(run.vector_cycles, core.vector->busy_cycles());
    run.chunks += core.runner->chunks();
    run.activity.vector_alu_ops += core.vector->alu_ops();
    run.activity.vector_special_ops += core.vector->special_ops();
    for (const auto& buffer : core.buffers) {
      for (arch::Operand operand : {arch::Operand::Input, arch::Operand::Weight, arch::Operand::Output}) {
        const auto o = static_cast<size_t>(operand);
        run.activity.buffer_read_bytes[o] += buffer->read_bytes(operand);
        run.activity.buffer_write_bytes[o] += buffer->write_bytes(operand);
      }
    }
  }
  return run;
}

}  // namespace tessel::sim
