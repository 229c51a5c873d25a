// An FPGA design as the SystolicSpec every engine runs: its compute units become cores of one
// array each, its buffers what their blocks hold and carry, its memory channels one DRAM.
#pragma once

#include "arch/fpga/fpga_spec.h"
#include "arch/spec.h"

namespace tessel::arch::fpga {

// Does not check the fit: config_fpga refuses a design over budget before converting it.
SystolicSpec to_systolic_spec(const FpgaSpec& spec);

}  // namespace tessel::arch::fpga
