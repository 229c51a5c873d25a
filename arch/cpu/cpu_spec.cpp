#include "arch/cpu/cpu_spec.h"

#include <algorithm>
#include <stdexcept>

namespace tessel::arch {

const CpuEngineRate* CpuMatrixEngine::rate(DType dtype) const {
  for (const CpuEngineRate& r : rates) {
    if (r.dtype == dtype) return &r;
  }
  return nullptr;
}

uint32_t CpuMatrixEngine::tile_k(DType dtype) const { return std::max<uint32_t>(1, tile_k_bytes / bytes_of(dtype)); }

const CpuMatrixEngine* CpuSpec::fastest_engine(DType dtype) const {
  const CpuMatrixEngine* best = nullptr;
  for (const CpuMatrixEngine& engine : engines) {
    const CpuEngineRate* r = engine.rate(dtype);
    if (r && (!best || r->macs_per_cycle_per_core > best->rate(dtype)->macs_per_cycle_per_core)) best = &engine;
  }
  return best;
}

double CpuSpec::peak_macs_per_cycle(DType dtype) const {
  const CpuMatrixEngine* engine = fastest_engine(dtype);
  if (!engine) throw std::invalid_argument(name + " has no engine that multiplies " + std::string(to_string(dtype)));
  return engine->rate(dtype)->macs_per_cycle_per_core * cores();
}

std::vector<DType> CpuSpec::formats() const {
  std::vector<DType> formats;
  for (const CpuMatrixEngine& engine : engines) {
    for (const CpuEngineRate& r : engine.rates) {
      if (std::find(formats.begin(), formats.end(), r.dtype) == formats.end()) formats.push_back(r.dtype);
    }
  }
  return formats;
}

}  // namespace tessel::arch
