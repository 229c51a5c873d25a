#include "arch/memory/sram_buffer.h"

namespace tessel::arch {

SramBuffer::SramBuffer(const sc_core::sc_module_name& name, const BufferSpec& spec)
    : sc_core::sc_module(name), spec_(spec) {}

}  // namespace tessel::arch
