#include "sim/numerics/gemm_datapath.h"

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <limits>
#include <stdexcept>

namespace tessel::sim {
namespace {

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Below this many columns a row of C is too short to vectorise well.
constexpr uint64_t kNarrowWidth = 16;
// Rows of C computed together, as one vector per column, when C is narrow. Transposing a
// block of A reads this many rows K apart at once: 16 lines stay cached even when K is a
// power of two and they all map to the same cache sets.
constexpr uint64_t kRowBlock = 16;

void require_operands(std::size_t a_size, std::size_t b_size, const GemmShape& shape) {
  if (a_size != shape.m * shape.k || b_size != shape.k * shape.n) {
    throw std::invalid_argument("GEMM datapath: operand sizes do not match the shape");
  }
}

// sums[j] += scalar * vector[j]. Eigen's coefficient-wise s + a*b rounds the product and
// the sum separately, as an fp32 multiplier and adder do, and vectorises over j.
void multiply_accumulate(float* sums, float scalar, const float* vector, std::size_t length) {
  const auto size = static_cast<Eigen::Index>(length);
  Eigen::Map<Eigen::ArrayXf>(sums, size) += scalar * Eigen::Map<const Eigen::ArrayXf>(vector, size);
}

// The same modulo 2^32: unsigned sums make the wrap-around defined behaviour.
void multiply_accumulate(uint32_t* sums, int8_t scalar, const int8_t* vector, std::size_t length) {
  // Fixed-length blocks, because GCC's -O2 vectoriser only takes loops whose trip count it
  // knows; the products go through a local array first because int8 data may alias the
  // sums as far as the compiler knows, which would stop it vectorising the update.
  constexpr std::size_t kBlock = 16;
  std::size_t j = 0;
  for (; j + kBlock <= length; j += kBlock) {
    int32_t products[kBlock];
    for (std::size_t lane = 0; lane < kBlock; ++lane) products[lane] = scalar * vector[j + lane];
    for (std::size_t lane = 0; lane < kBlock; ++lane) {
      sums[j + lane] += static_cast<uint32_t>(products[lane]);
    }
  }
  for (; j < length; ++j) sums[j] += static_cast<uint32_t>(scalar * vector[j]);
}

// Computes `length` output elements at once, each in the hardware's order:
//   sums = 0
//   for each chunk of k_tile: partial = 0; for k in chunk: partial += s_k * v_k; sums += partial
// with s_k = scalars[k * scalar_stride] and v_k the `length` values at
// vectors + k * vector_stride.
template <typename Sum, typename Operand>
void chunked_sums(Sum* sums, const Operand* scalars, std::size_t scalar_stride,
                  const Operand* vectors, std::size_t vector_stride, std::size_t length,
                  const GemmShape& shape, uint64_t k_tile, std::vector<Sum>& partial) {
  std::fill(sums, sums + length, Sum{0});
  for (uint64_t chunk_begin = 0; chunk_begin < shape.k;) {
    const uint64_t chunk_end = chunk_begin + std::min(k_tile, shape.k - chunk_begin);
    std::fill(partial.begin(), partial.begin() + static_cast<std::ptrdiff_t>(length), Sum{0});
    for (uint64_t k = chunk_begin; k < chunk_end; ++k) {
      multiply_accumulate(partial.data(), scalars[k * scalar_stride], vectors + k * vector_stride,
                          length);
    }
    for (std::size_t index = 0; index < length; ++index) sums[index] += partial[index];
    chunk_begin = chunk_end;
  }
}

// The loops vectorise over a row of C (i, then k, then j) when C is wide enough; a narrow C
// is computed a block of rows at a time as columns instead, from the block of A transposed.
// Either way every element sees its own products in the same order of k.
template <typename Sum, typename Operand>
std::vector<Sum> gemm_in_hardware_order(const std::vector<Operand>& a,
                                        const std::vector<Operand>& b, const GemmShape& shape,
                                        uint64_t k_tile) {
  std::vector<Sum> c(shape.m * shape.n);
  if (shape.n >= kNarrowWidth) {
    std::vector<Sum> partial(shape.n);
    for (uint64_t i = 0; i < shape.m; ++i) {
      chunked_sums(c.data() + i * shape.n, a.data() + i * shape.k, 1, b.data(), shape.n, shape.n,
                   shape, k_tile, partial);
    }
    return c;
  }
  std::vector<Sum> partial(kRowBlock);
  std::vector<Sum> column(kRowBlock);
  for (uint64_t block_begin = 0; block_begin < shape.m; block_begin += kRowBlock) {
    const uint64_t rows = std::min(kRowBlock, shape.m - block_begin);
    const RowMatrix<Operand> a_block_transposed =
        Eigen::Map<const RowMatrix<Operand>>(a.data() + block_begin * shape.k,
                                             static_cast<Eigen::Index>(rows),
                                             static_cast<Eigen::Index>(shape.k))
            .transpose();
    for (uint64_t j = 0; j < shape.n; ++j) {
      chunked_sums(column.data(), b.data() + j, shape.n, a_block_transposed.data(), rows, rows,
                   shape, k_tile, partial);
      for (uint64_t r = 0; r < rows; ++r) c[(block_begin + r) * shape.n + j] = column[r];
    }
  }
  return c;
}

}  // namespace

std::vector<float> transposed(const std::vector<float>& x, uint64_t rows, uint64_t cols) {
  std::vector<float> out(x.size());
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t col = 0; col < cols; ++col) out[col * rows + row] = x[row * cols + col];
  }
  return out;
}

int32_t from_twos_complement(uint32_t bits) {
  constexpr uint32_t kSignBit = 0x80000000u;
  if (bits < kSignBit) return static_cast<int32_t>(bits);
  return static_cast<int32_t>(bits - kSignBit) + std::numeric_limits<int32_t>::min();
}

std::vector<float> datapath_gemm_float(const std::vector<float>& a, const std::vector<float>& b,
                                       const GemmShape& shape, uint64_t k_tile) {
  if (k_tile == 0) throw std::invalid_argument("GEMM datapath: k_tile must be at least 1");
  require_operands(a.size(), b.size(), shape);
  return gemm_in_hardware_order<float>(a, b, shape, k_tile);
}

std::vector<int32_t> datapath_gemm_int8(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                        const GemmShape& shape) {
  require_operands(a.size(), b.size(), shape);
  const std::vector<uint32_t> sums =
      gemm_in_hardware_order<uint32_t>(a, b, shape, std::max<uint64_t>(shape.k, 1));
  std::vector<int32_t> c(sums.size());
  std::transform(sums.begin(), sums.end(), c.begin(), from_twos_complement);
  return c;
}

}  // namespace tessel::sim
