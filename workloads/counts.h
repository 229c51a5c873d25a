// How large a workload may be. Elements, bytes, FLOPs and cycles are uint64_t throughout, so a
// request whose FLOPs pass kMaxFlops is refused before any work: its counts, their sums over
// layers and steps and the few products the cost models take of them then stay within 64
// bits instead of wrapping.
#pragma once

#include <cstdint>
#include <string>

#include "workloads/gemm.h"

namespace tessel::workloads {

constexpr uint64_t kMaxFlops = uint64_t{1} << 62;

// a × b and a + b, or UINT64_MAX where the result would wrap.
constexpr uint64_t saturating_mul(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}
constexpr uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

// "about 2.0e+21 FLOPs, more than the 2^62 (4.6e+18) tessel counts in 64 bits": why `flops`
// is refused.
std::string too_many_flops(uint64_t flops);

// 2·M·N·K, saturated.
constexpr uint64_t gemm_flops(const Gemm& gemm) {
  return saturating_mul(2, saturating_mul(gemm.m, saturating_mul(gemm.n, gemm.k)));
}

// Throws InputError "<where>: <M>x<N>x<K> is about ... FLOPs, more than ..." for a GEMM past
// kMaxFlops.
void check_gemm_flops(const Gemm& gemm, const std::string& where);

}  // namespace tessel::workloads
