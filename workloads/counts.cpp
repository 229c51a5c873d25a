#include "workloads/counts.h"

#include <cstdio>

#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

std::string scientific(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1e", static_cast<double>(value));
  return text;
}

}  // namespace

std::string too_many_flops(uint64_t flops) {
  return "about " + (flops == UINT64_MAX ? "2^64 or more" : scientific(flops)) + " FLOPs, more than the 2^62 (" +
         scientific(kMaxFlops) + ") tessel counts in 64 bits";
}

void check_gemm_flops(const Gemm& gemm, const std::string& where) {
  const uint64_t flops = gemm_flops(gemm);
  if (flops > kMaxFlops) {
    throw InputError(where + ": " + std::to_string(gemm.m) + "x" + std::to_string(gemm.n) + "x" +
                     std::to_string(gemm.k) + " is " + too_many_flops(flops));
  }
}

}  // namespace tessel::workloads
