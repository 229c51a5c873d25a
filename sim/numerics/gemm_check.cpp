#include "sim/numerics/gemm_check.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include "sim/numerics/formats.h"
#include "sim/numerics/op_check_slice.h"
#include "sim/numerics/quant_gemm_check.h"

namespace tessel::sim {
namespace {

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename Scalar>
Eigen::Map<const RowMatrix<Scalar>> as_matrix(const std::vector<Scalar>& values, uint64_t rows,
                                              uint64_t cols) {
  return {values.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
}

// lhs * rhs evaluated straight into a row-major matrix, the layout of the datapath's C, so
// that results compare index by index without a transposing copy.
template <typename Result, typename Lhs, typename Rhs>
RowMatrix<Result> product(const Lhs& lhs, const Rhs& rhs) {
  RowMatrix<Result> result(lhs.rows(), rhs.cols());
  result.noalias() = lhs * rhs;
  return result;
}

// The error of computed values against reference values, gathered one element at a time.
class ErrorStats {
 public:
  void add(double value, double reference) {
    const double error = std::fabs(value - reference);
    if (!(error <= max_abs_error_)) max_abs_error_ = error;  // also keeps a NaN
    error_energy_ += error * error;
    reference_energy_ += reference * reference;
  }

  void fill(NumericsReport& report) const {
    report.max_abs_error = max_abs_error_;
    report.relative_error = relative_error();
    report.sqnr_db = sqnr_db();
  }

  double relative_error() const {
    if (reference_energy_ == 0) return error_energy_ == 0 ? 0 : kInfinity;
    return std::sqrt(error_energy_ / reference_energy_);
  }

  double sqnr_db() const {
    if (error_energy_ == 0) return kInfinity;
    return 10 * std::log10(reference_energy_ / error_energy_);
  }

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::infinity();
  double max_abs_error_ = 0;
  double error_energy_ = 0;
  double reference_energy_ = 0;
};

void require_sizes(std::size_t a_size, std::size_t b_size, std::size_t c_size,
                   const GemmShape& shape) {
  if (a_size != shape.m * shape.k || b_size != shape.k * shape.n || c_size != shape.m * shape.n) {
    throw std::invalid_argument("GEMM check: matrix sizes do not match the shape");
  }
}

// Exact product of the real inputs, up to fp64 rounding.
RowMatrix<double> real_product(const RealOperands& real, const GemmShape& shape) {
  return product<double>(as_matrix(real.a, shape.m, shape.k).cast<double>(),
                         as_matrix(real.b, shape.k, shape.n).cast<double>());
}

std::vector<float> in_format(const std::vector<float>& values, arch::DType dtype) {
  std::vector<float> rounded;
  rounded.reserve(values.size());
  for (float value : values) rounded.push_back(round_to_format(value, dtype));
  return rounded;
}

}  // namespace

double gamma(uint64_t n, double unit_roundoff) {
  const double nu = static_cast<double>(n) * unit_roundoff;
  return nu < 1 ? nu / (1 - nu) : std::numeric_limits<double>::infinity();
}

RealOperands draw_real_operands(const GemmShape& shape, uint64_t seed) {
  // normal(0, 1), like the activations and weights of a normalised network: signed and
  // zero-mean, so sums cancel and relative errors mean something; magnitudes near 1 keep
  // every float format inside its normal range (fp8 saturates only past 448), so the check
  // measures rounding rather than clipping; and the rare large draws set int8's
  // per-tensor scale the way outliers do in real tensors.
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  RealOperands real{std::vector<float>(shape.m * shape.k), std::vector<float>(shape.k * shape.n)};
  for (float& value : real.a) value = normal(engine);
  for (float& value : real.b) value = normal(engine);
  return real;
}

NumericsReport compare_int8_with_eigen(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                       const GemmShape& shape, const std::vector<int32_t>& c) {
  require_sizes(a.size(), b.size(), c.size(), shape);
  constexpr uint64_t kLargestProduct = 127 * 127;
  const bool may_overflow =
      shape.k > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) / kLargestProduct;
  NumericsReport report;
  report.checked = true;
  RowMatrix<int32_t> reference;
  if (may_overflow) {
    // Signed overflow inside Eigen's int32 product would be undefined behaviour, so past
    // K = 133143 the reference is the int64 product reduced modulo 2^32: what an int32
    // adder that wraps computes.
    const RowMatrix<int64_t> wide =
        product<int64_t>(as_matrix(a, shape.m, shape.k).cast<int64_t>(),
                         as_matrix(b, shape.k, shape.n).cast<int64_t>());
    reference = wide.unaryExpr(
        [](int64_t sum) { return from_twos_complement(static_cast<uint32_t>(sum)); });
    report.reference =
        "Eigen int64 product of the same int8 values reduced modulo 2^32; passed iff bit-identical";
  } else {
    reference = product<int32_t>(as_matrix(a, shape.m, shape.k).cast<int32_t>(),
                                 as_matrix(b, shape.k, shape.n).cast<int32_t>());
    report.reference = "Eigen int32 product of the same int8 values; passed iff bit-identical";
  }
  report.passed = true;
  ErrorStats stats;
  for (Eigen::Index index = 0; index < reference.size(); ++index) {
    const int32_t value = c[static_cast<std::size_t>(index)];
    const int32_t expected = reference.data()[index];
    if (value != expected) report.passed = false;
    stats.add(value, expected);
  }
  stats.fill(report);
  return report;
}

NumericsReport compare_float_with_eigen(const std::vector<float>& a, const std::vector<float>& b,
                                        const GemmShape& shape, const std::vector<float>& c,
                                        arch::DType dtype) {
  require_sizes(a.size(), b.size(), c.size(), shape);
  // The datapath's c_ij sums K products in fp32 in some order; Higham (Accuracy and Stability
  // of Numerical Algorithms, 2nd ed., §3.1 on inner products, §4.2 on summation) bounds such
  // a dot product, whatever the order of the additions, by
  // |c - exact| <= gamma_K(u32) * sum_k |a_ik b_kj|.
  // For fp8, fp16 and bf16 the products are exact in fp32: significands of at most 11 bits
  // multiply into at most 22 <= 24 bits, and the exponents stay in fp32's range for inputs
  // of this magnitude; the bound then only has to cover the K-1 additions and gamma_K is
  // more than enough. For fp32 the products round too, and the bound's K-th rounding is
  // exactly what covers them (barring underflow, which these magnitudes never reach).
  // The fp64 reference sums exact products (24+24 bits fit in 53), so it is within
  // gamma_K(u64) of the exact value too; the triangle inequality gives the criterion.
  // Evaluating the bound and |c - c_ref| in fp64 moves them by a relative K * 2^-53 at
  // most, far inside the gap between this worst case and any error the datapath makes.
  const RowMatrix<double> a_exact = as_matrix(a, shape.m, shape.k).cast<double>();
  const RowMatrix<double> b_exact = as_matrix(b, shape.k, shape.n).cast<double>();
  const RowMatrix<double> reference = product<double>(a_exact, b_exact);
  const RowMatrix<double> magnitude = product<double>(a_exact.cwiseAbs(), b_exact.cwiseAbs());
  constexpr double kUnitRoundoffFp32 = 0x1p-24;
  constexpr double kUnitRoundoffFp64 = 0x1p-53;
  const double bound_factor = gamma(shape.k, kUnitRoundoffFp32) + gamma(shape.k, kUnitRoundoffFp64);

  NumericsReport report;
  report.checked = true;
  report.reference = "Eigen fp64 product of the same " + std::string(arch::to_string(dtype)) +
                     " values; |c - c_ref| <= (gamma_K(2^-24) + gamma_K(2^-53)) * (|A||B|)_ij "
                     "for every element (Higham's dot-product bound)";
  report.passed = true;
  ErrorStats stats;
  for (Eigen::Index index = 0; index < reference.size(); ++index) {
    const double value = c[static_cast<std::size_t>(index)];
    const double expected = reference.data()[index];
    const double bound = bound_factor * magnitude.data()[index];
    stats.add(value, expected);
    if (!(std::fabs(value - expected) <= bound)) report.passed = false;
    if (bound > report.error_bound) report.error_bound = bound;
  }
  stats.fill(report);
  return report;
}

NumericsReport check_gemm(const GemmCheckRequest& request) {
  if (request.k_tile == 0) throw std::invalid_argument("check_gemm: k_tile must be at least 1");
  const GemmShape shape{request.m, request.n, request.k};
  if (request.weights || request.sparsity) {
    return check_quantized_gemm({shape, request.dtype, request.unquantized.value_or(request.dtype), request.weights,
                                 request.sparsity, request.k_tile, request.seed});
  }
  const RealOperands real = draw_real_operands(shape, request.seed);
  const RowMatrix<double> exact = real_product(real, shape);

  NumericsReport report;
  ErrorStats format_cost;
  if (request.dtype == arch::DType::Int8) {
    const Int8Tensor a = quantize_int8_symmetric(real.a);
    const Int8Tensor b = quantize_int8_symmetric(real.b);
    const std::vector<int32_t> c = datapath_gemm_int8(a.values, b.values, shape);
    report = compare_int8_with_eigen(a.values, b.values, shape, c);
    const double scale = static_cast<double>(a.scale) * static_cast<double>(b.scale);
    for (Eigen::Index index = 0; index < exact.size(); ++index) {
      format_cost.add(c[static_cast<std::size_t>(index)] * scale, exact.data()[index]);
    }
  } else {
    const std::vector<float> a = in_format(real.a, request.dtype);
    const std::vector<float> b = in_format(real.b, request.dtype);
    const std::vector<float> c = datapath_gemm_float(a, b, shape, request.k_tile);
    report = compare_float_with_eigen(a, b, shape, c, request.dtype);
    for (Eigen::Index index = 0; index < exact.size(); ++index) {
      format_cost.add(c[static_cast<std::size_t>(index)], exact.data()[index]);
    }
  }
  report.dtype = std::string(arch::to_string(request.dtype));
  report.quantization_sqnr_db = format_cost.sqnr_db();
  return report;
}

GemmShape gemm_check_block(const GemmShape& shape, uint64_t limit_macs, uint64_t limit_elements) {
  const uint64_t k = shape.k;
  // The most columns a block of `rows` rows may have: rows·n·k MACs, rows·k + k·n + rows·n
  // elements.
  const auto columns_for = [&](uint64_t rows) {
    const uint64_t by_macs = limit_macs / (rows * k);
    const uint64_t by_elements = limit_elements > rows * k ? (limit_elements - rows * k) / (k + rows) : 0;
    return std::max<uint64_t>(1, std::min({shape.n, by_macs, by_elements}));
  };
  // A square side s with s²k MACs and s² + 2sk elements within the limits.
  const double side_by_macs = std::sqrt(static_cast<double>(limit_macs) / static_cast<double>(k));
  const double kd = static_cast<double>(k);
  const double side_by_elements = std::sqrt(kd * kd + static_cast<double>(limit_elements)) - kd;
  const uint64_t side = std::max<uint64_t>(1, static_cast<uint64_t>(std::min(side_by_macs, side_by_elements)));
  GemmShape block{std::min(shape.m, side), 0, k};
  block.n = columns_for(block.m);
  // All the columns, fewer than the square allowed: the rows take what is left.
  if (block.n == shape.n) {
    const uint64_t by_macs = limit_macs / (shape.n * k);
    const uint64_t by_elements =
        limit_elements > shape.n * k ? (limit_elements - shape.n * k) / (k + shape.n) : 0;
    block.m = std::max(block.m, std::min({shape.m, by_macs, by_elements}));
  }
  return block;
}

NumericsReport check_gemm_block(const GemmCheckRequest& request, uint64_t limit_macs, uint64_t limit_elements) {
  const GemmShape block = gemm_check_block({request.m, request.n, request.k}, limit_macs, limit_elements);
  if (block.m == request.m && block.n == request.n) return check_gemm(request);
  GemmCheckRequest sliced = request;
  sliced.m = block.m;
  sliced.n = block.n;
  NumericsReport report = check_gemm(sliced);
  report.reference = range_text("rows", 0, block.m, request.m) + ", " +
                     range_text("columns", 0, block.n, request.n) + ", all of K = " + std::to_string(request.k) +
                     ": " + report.reference;
  return report;
}

uint64_t default_check_limit_macs() { return uint64_t{1} << 28; }

uint64_t default_check_limit_elements() { return uint64_t{1} << 23; }

}  // namespace tessel::sim
