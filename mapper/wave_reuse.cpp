#include "mapper/wave_reuse.h"

#include <algorithm>

#include "arch/types.h"

namespace tessel::mapper {

double wave_input_bytes(const WaveReuse& w) {
  const double k = static_cast<double>(w.k);
  const double once = (static_cast<double>(w.m) * w.a_bytes + static_cast<double>(w.n) * w.b_bytes) * k;
  if (once <= w.cache_bytes) return once;
  const uint64_t blocks_m = arch::ceil_div(w.m, w.block_m);
  const uint64_t blocks_n = arch::ceil_div(w.n, w.block_n);
  const auto wave_bytes = [&](uint64_t blocks) {
    const uint64_t cols = std::min<uint64_t>(blocks_n, blocks);
    const uint64_t rows = arch::ceil_div(blocks, cols);
    const uint64_t a_rows = std::min<uint64_t>(rows * w.block_m, w.m);
    const uint64_t b_cols = std::min<uint64_t>(cols * w.block_n, w.n);
    return (static_cast<double>(a_rows) * w.a_bytes + static_cast<double>(b_cols) * w.b_bytes) * k;
  };
  const uint64_t blocks = blocks_m * blocks_n;
  const uint64_t per_wave = std::min<uint64_t>(blocks, w.workers);
  const uint64_t full_waves = blocks / per_wave;
  const uint64_t left = blocks - full_waves * per_wave;
  const double total = static_cast<double>(full_waves) * wave_bytes(per_wave) + (left > 0 ? wave_bytes(left) : 0.0);
  return std::max(once, total);
}

}  // namespace tessel::mapper
