// A GEMM layer, C[M×N] = A[M×K]·B[K×N], and the list of them a run simulates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tessel::workloads {

struct Gemm {
  std::string name;
  uint64_t m;
  uint64_t n;
  uint64_t k;

  uint64_t macs() const { return m * n * k; }
};

// The operators of one run, in execution order.
struct Graph {
  std::string name;
  std::vector<Gemm> gemms;
};

}  // namespace tessel::workloads
