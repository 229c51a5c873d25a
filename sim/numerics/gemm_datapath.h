// The values a GEMM datapath computes, in its number format and its order of additions.
#pragma once

#include <cstdint>
#include <vector>

namespace tessel::sim {

// C[M×N] = A[M×K]·B[K×N]; every matrix is a row-major vector.
struct GemmShape {
  uint64_t m;
  uint64_t n;
  uint64_t k;
};

// Floating formats: the operands hold values of the format (fp8, fp16, bf16 or fp32) in
// floats; products and sums are fp32. The order follows the hardware: K is cut into chunks
// of k_tile (the SRAM tile), each chunk is summed in increasing k into a fresh fp32 partial
// sum, and the partial sums are added in chunk order into the output's fp32 accumulator:
//   acc = 0; for each chunk { p = 0; for k in chunk: p += a*b; acc += p; }
// Throws std::invalid_argument on a k_tile of 0 or operands that do not match the shape.
std::vector<float> datapath_gemm_float(const std::vector<float>& a, const std::vector<float>& b,
                                       const GemmShape& shape, uint64_t k_tile);

// The transpose of a row-major rows × cols matrix, row-major.
std::vector<float> transposed(const std::vector<float>& x, uint64_t rows, uint64_t cols);

// The int32 that a 32-bit two's-complement pattern stands for, without the
// implementation-defined unsigned-to-signed conversion C++17 allows above INT32_MAX.
int32_t from_twos_complement(uint32_t bits);

// int8 operands, int32 accumulation wrapping modulo 2^32 like the hardware adder. Modular
// addition is associative, so the chunking of K cannot change the result and is not modelled.
// Throws std::invalid_argument on operands that do not match the shape.
std::vector<int32_t> datapath_gemm_int8(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                        const GemmShape& shape);

}  // namespace tessel::sim
