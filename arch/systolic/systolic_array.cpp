#include "arch/systolic/systolic_array.h"

#include <algorithm>

#include "arch/memory/sim_time.h"

namespace tessel::arch {

SystolicArray::SystolicArray(const sc_core::sc_module_name& name, const SystolicSpec& spec,
                             SramBuffer* const (&buffer_of)[3])
    : sc_core::sc_module(name), spec_(spec), buffer_of_{buffer_of[0], buffer_of[1], buffer_of[2]} {}

void SystolicArray::compute(const TileWork& work, uint64_t macs) {
  const TileAccesses& a = work.accesses;
  buffer_of_[0]->record_read(Operand::Input, a.input_read);
  buffer_of_[1]->record_read(Operand::Weight, a.weight_read);
  buffer_of_[2]->record_read(Operand::Output, a.output_read);
  buffer_of_[2]->record_write(Operand::Output, a.output_write);

  const uint64_t cycles = std::max(work.compute_cycles, buffer_port_cycles(spec_, a));
  compute_cycles_ += work.compute_cycles;
  port_stall_cycles_ += cycles - work.compute_cycles;
  folds_ += work.folds;
  pe_slots_ += work.pe_slots;
  macs_ += macs;
  ++tiles_;
  wait(cycles_to_time(static_cast<double>(cycles)));
}

}  // namespace tessel::arch
