// The GEMM datapath's values and their check against Eigen: the order of the sums, int32
// exactness and wrap-around, the bound catching wrong datapaths, and what each format costs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/gemm_datapath.h"

namespace tessel::sim {
namespace {

using arch::DType;

constexpr DType kFloatDtypes[] = {DType::Fp8, DType::Fp16, DType::Bf16, DType::Fp32};
constexpr DType kAllDtypes[] = {DType::Int8, DType::Fp8, DType::Fp16, DType::Bf16, DType::Fp32};

std::vector<float> in_format(const std::vector<float>& values, DType dtype) {
  std::vector<float> rounded;
  for (float value : values) rounded.push_back(round_to_format(value, dtype));
  return rounded;
}

// The hardware's order written out literally, one element at a time; `round` is applied
// to every fp32 sum, so a test can make the adders narrower than the datapath's.
template <typename Round>
std::vector<float> scalar_gemm(const std::vector<float>& a, const std::vector<float>& b,
                               const GemmShape& shape, uint64_t k_tile, Round round) {
  std::vector<float> c(shape.m * shape.n);
  for (uint64_t i = 0; i < shape.m; ++i) {
    for (uint64_t j = 0; j < shape.n; ++j) {
      float accumulator = 0;
      for (uint64_t chunk = 0; chunk < shape.k; chunk += k_tile) {
        float partial = 0;
        for (uint64_t k = chunk; k < std::min(shape.k, chunk + k_tile); ++k) {
          partial = round(partial + a[i * shape.k + k] * b[k * shape.n + j]);
        }
        accumulator = round(accumulator + partial);
      }
      c[i * shape.n + j] = accumulator;
    }
  }
  return c;
}

std::vector<float> hardware_order_reference(const std::vector<float>& a,
                                            const std::vector<float>& b, const GemmShape& shape,
                                            uint64_t k_tile) {
  return scalar_gemm(a, b, shape, k_tile, [](float sum) { return sum; });
}

TEST(NumericsDatapath, FloatMatchesTheHardwareOrderBitForBit) {
  // A wide C (vectorised along rows) and a narrow one (computed as columns of row blocks,
  // the last block partial).
  for (const GemmShape& shape : {GemmShape{5, 37, 50}, GemmShape{37, 5, 50}}) {
    const RealOperands real = draw_real_operands(shape, 11);
    for (DType dtype : {DType::Fp16, DType::Fp32}) {
      const std::vector<float> a = in_format(real.a, dtype);
      const std::vector<float> b = in_format(real.b, dtype);
      for (uint64_t k_tile : {uint64_t{1}, uint64_t{7}, uint64_t{16}, uint64_t{50}, uint64_t{64}}) {
        EXPECT_EQ(datapath_gemm_float(a, b, shape, k_tile),
                  hardware_order_reference(a, b, shape, k_tile))
            << shape.m << "x" << shape.n << " " << arch::to_string(dtype) << " k_tile " << k_tile;
      }
    }
  }
}

TEST(NumericsDatapath, ChunkingChangesTheFloatSum) {
  // Products 1, 2^24, 1, -2^24. In one pass, 2^24 + 1 ties back to 2^24 twice and the sum is
  // 0; in chunks of 2 the partial sums are 2^24 and 1 - 2^24 (exact), whose sum is 1.
  const GemmShape shape{1, 1, 4};
  const std::vector<float> a{1.0f, 0x1p24f, 1.0f, -0x1p24f};
  const std::vector<float> b{1.0f, 1.0f, 1.0f, 1.0f};
  EXPECT_EQ(datapath_gemm_float(a, b, shape, 4), std::vector<float>{0.0f});
  EXPECT_EQ(datapath_gemm_float(a, b, shape, 1), std::vector<float>{0.0f});
  EXPECT_EQ(datapath_gemm_float(a, b, shape, 2), std::vector<float>{1.0f});
}

TEST(NumericsDatapath, RejectsBadArguments) {
  const std::vector<float> a(6), b(12);
  EXPECT_THROW(datapath_gemm_float(a, b, {2, 4, 3}, 0), std::invalid_argument);
  EXPECT_THROW(datapath_gemm_float(a, b, {2, 4, 4}, 1), std::invalid_argument);
  EXPECT_THROW(datapath_gemm_int8(std::vector<int8_t>(6), std::vector<int8_t>(11), {2, 4, 3}),
               std::invalid_argument);
  EXPECT_THROW(check_gemm({4, 4, 4, DType::Fp16, 0, 1}), std::invalid_argument);
}

TEST(NumericsDatapath, Int8SumsPast2To24StayExact) {
  // 2000 products of 127*127 = 16129 sum to 32258000 > 2^24: an fp32 accumulator would
  // drop the low bits of the odd terms, int32 does not.
  const GemmShape shape{1, 2, 2000};
  const std::vector<int8_t> a(shape.k, 127);
  std::vector<int8_t> b;
  for (uint64_t k = 0; k < shape.k; ++k) b.insert(b.end(), {int8_t{127}, int8_t{-127}});
  const std::vector<int32_t> c = datapath_gemm_int8(a, b, shape);
  EXPECT_EQ(c, (std::vector<int32_t>{32258000, -32258000}));

  float float_sum = 0;
  for (uint64_t k = 0; k < shape.k; ++k) float_sum += 16129.0f;
  EXPECT_NE(float_sum, 32258000.0f);  // so this case does tell int32 from fp32 apart

  const NumericsReport report = compare_int8_with_eigen(a, b, shape, c);
  EXPECT_TRUE(report.passed);
  EXPECT_EQ(report.max_abs_error, 0.0);
}

TEST(NumericsDatapath, Int8WrapsLikeA32BitAdder) {
  // 140000 * 16129 = 2258060000 > INT32_MAX: the adder wraps to that minus 2^32.
  const GemmShape shape{1, 1, 140000};
  const std::vector<int8_t> ones(shape.k, 127);
  const std::vector<int32_t> c = datapath_gemm_int8(ones, ones, shape);
  EXPECT_EQ(c, std::vector<int32_t>{static_cast<int32_t>(2258060000LL - (1LL << 32))});
  const NumericsReport report = compare_int8_with_eigen(ones, ones, shape, c);
  EXPECT_TRUE(report.passed) << report.reference;
  EXPECT_NE(report.reference.find("modulo 2^32"), std::string::npos);
}

TEST(NumericsDatapath, TwosComplementCoversTheWholeRange) {
  EXPECT_EQ(from_twos_complement(0u), 0);
  EXPECT_EQ(from_twos_complement(0x7fffffffu), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(from_twos_complement(0x80000000u), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(from_twos_complement(0xffffffffu), -1);
}

TEST(NumericsCheck, PassesForEveryDtypeOnManyShapes) {
  std::vector<GemmCheckRequest> shapes{
      {1, 1, 1, DType::Fp32, 1, 1},      // K = 1
      {7, 5, 13, DType::Fp32, 4, 2},     // K not a multiple of k_tile
      {16, 16, 64, DType::Fp32, 64, 3},  // k_tile = K
      {3, 33, 100, DType::Fp32, 1, 4},   // k_tile = 1
      {9, 1, 50, DType::Fp32, 1000, 5},  // k_tile > K
      {31, 17, 129, DType::Fp32, 128, 6}, {2, 70, 300, DType::Fp32, 37, 7},
  };
  std::mt19937_64 engine(8);
  std::uniform_int_distribution<uint64_t> side(1, 40);
  std::uniform_int_distribution<uint64_t> depth(1, 300);
  for (uint64_t seed = 100; seed < 120; ++seed) {
    const uint64_t k = depth(engine);
    std::uniform_int_distribution<uint64_t> tile(1, k + 3);
    shapes.push_back({side(engine), side(engine), k, DType::Fp32, tile(engine), seed});
  }
  for (GemmCheckRequest request : shapes) {
    for (DType dtype : kAllDtypes) {
      request.dtype = dtype;
      const NumericsReport report = check_gemm(request);
      SCOPED_TRACE(testing::Message() << report.dtype << " " << request.m << "x" << request.n << "x"
                                      << request.k << " k_tile " << request.k_tile);
      EXPECT_TRUE(report.checked);
      EXPECT_TRUE(report.passed);
      EXPECT_EQ(report.dtype, arch::to_string(dtype));
      EXPECT_FALSE(report.reference.empty());
      if (dtype == DType::Int8) {
        EXPECT_EQ(report.max_abs_error, 0.0);
        EXPECT_EQ(report.relative_error, 0.0);
        EXPECT_EQ(report.sqnr_db, std::numeric_limits<double>::infinity());
        EXPECT_EQ(report.error_bound, 0.0);
      } else {
        EXPECT_GT(report.error_bound, 0.0);
        EXPECT_LE(report.max_abs_error, report.error_bound);
      }
    }
  }
}

TEST(NumericsCheck, HandlesEmptyDimensions) {
  for (const GemmCheckRequest& shape :
       {GemmCheckRequest{0, 3, 4, DType::Fp32, 2, 1}, GemmCheckRequest{3, 0, 4, DType::Fp32, 2, 1},
        GemmCheckRequest{3, 4, 0, DType::Fp32, 2, 1}}) {
    for (DType dtype : kAllDtypes) {
      GemmCheckRequest request = shape;
      request.dtype = dtype;
      const NumericsReport report = check_gemm(request);
      EXPECT_TRUE(report.passed) << report.dtype << " " << request.m << "x" << request.n << "x"
                                 << request.k;
      EXPECT_EQ(report.max_abs_error, 0.0);
      EXPECT_EQ(report.error_bound, 0.0);
    }
  }
}

TEST(NumericsCheck, IsDeterministicInTheSeed) {
  const GemmShape shape{4, 5, 6};
  const RealOperands first = draw_real_operands(shape, 9);
  EXPECT_EQ(first.a, draw_real_operands(shape, 9).a);
  EXPECT_EQ(first.b, draw_real_operands(shape, 9).b);
  EXPECT_NE(first.a, draw_real_operands(shape, 10).a);
  const NumericsReport report = check_gemm({4, 5, 6, DType::Bf16, 2, 9});
  EXPECT_EQ(report.max_abs_error, check_gemm({4, 5, 6, DType::Bf16, 2, 9}).max_abs_error);
}

// A GEMM past the check's limits is checked on its largest block of rows and columns over the
// whole K within them: the block fits both limits, cannot grow by a row or a column, and its
// report is the same as the sub-GEMM's own check (each element depends on its row and column
// only), naming the block.
TEST(NumericsCheck, ALargeGemmIsCheckedOnABlockOverTheWholeK) {
  const uint64_t macs = uint64_t{1} << 28, elements = uint64_t{1} << 23;
  for (const GemmShape shape : {GemmShape{4096, 12288, 12288}, GemmShape{8, 1 << 20, 4096},
                                GemmShape{1 << 20, 16, 256}, GemmShape{3, 5, 1 << 22}}) {
    const GemmShape block = gemm_check_block(shape, macs, elements);
    const auto fits = [&](uint64_t m, uint64_t n) {
      return m * n * shape.k <= macs && m * shape.k + shape.k * n + m * n <= elements;
    };
    EXPECT_EQ(block.k, shape.k);
    EXPECT_TRUE(fits(block.m, block.n) || (block.m == 1 && block.n == 1)) << block.m << "x" << block.n;
    EXPECT_TRUE(block.m == shape.m || !fits(block.m + 1, block.n)) << shape.m << " rows";
    EXPECT_TRUE(block.n == shape.n || !fits(block.m, block.n + 1)) << shape.n << " columns";
  }
  const GemmCheckRequest whole{4096, 12288, 12288, DType::Bf16, 256, 3};
  const NumericsReport report = check_gemm_block(whole, macs, elements);
  const GemmShape block = gemm_check_block({4096, 12288, 12288}, macs, elements);
  const NumericsReport own = check_gemm({block.m, block.n, 12288, DType::Bf16, 256, 3});
  EXPECT_TRUE(report.checked && report.passed);
  EXPECT_EQ(report.max_abs_error, own.max_abs_error);
  EXPECT_EQ(report.reference.rfind("rows 0-" + std::to_string(block.m - 1) + " of 4096, columns 0-", 0), 0u)
      << report.reference;
  EXPECT_NE(report.reference.find("all of K = 12288: " + own.reference), std::string::npos) << report.reference;
}

TEST(NumericsCheck, CatchesAccumulationInFp16) {
  const GemmShape shape{8, 8, 256};
  const RealOperands real = draw_real_operands(shape, 12);
  const std::vector<float> a = in_format(real.a, DType::Fp16);
  const std::vector<float> b = in_format(real.b, DType::Fp16);
  const std::vector<float> fp16_sums =
      scalar_gemm(a, b, shape, 64, [](float sum) { return round_to_format(sum, DType::Fp16); });
  EXPECT_FALSE(compare_float_with_eigen(a, b, shape, fp16_sums, DType::Fp16).passed);
  const std::vector<float> fp32_sums = datapath_gemm_float(a, b, shape, 64);
  EXPECT_TRUE(compare_float_with_eigen(a, b, shape, fp32_sums, DType::Fp16).passed);
}

TEST(NumericsCheck, CatchesADroppedLastK) {
  const GemmShape shape{6, 9, 40};
  const RealOperands real = draw_real_operands(shape, 13);
  for (DType dtype : kFloatDtypes) {
    const std::vector<float> a = in_format(real.a, dtype);
    const std::vector<float> b = in_format(real.b, dtype);
    std::vector<float> a_without_last_k = a;
    for (uint64_t i = 0; i < shape.m; ++i) a_without_last_k[i * shape.k + shape.k - 1] = 0.0f;
    const std::vector<float> c = datapath_gemm_float(a_without_last_k, b, shape, 16);
    EXPECT_FALSE(compare_float_with_eigen(a, b, shape, c, dtype).passed) << arch::to_string(dtype);
  }
  const Int8Tensor a = quantize_int8_symmetric(real.a);
  const Int8Tensor b = quantize_int8_symmetric(real.b);
  std::vector<int8_t> a_without_last_k = a.values;
  for (uint64_t i = 0; i < shape.m; ++i) a_without_last_k[i * shape.k + shape.k - 1] = 0;
  const std::vector<int32_t> c = datapath_gemm_int8(a_without_last_k, b.values, shape);
  EXPECT_FALSE(compare_int8_with_eigen(a.values, b.values, shape, c).passed);
}

TEST(NumericsCheck, Int8CatchesAnOffByOne) {
  const GemmShape shape{5, 5, 20};
  const RealOperands real = draw_real_operands(shape, 14);
  const Int8Tensor a = quantize_int8_symmetric(real.a);
  const Int8Tensor b = quantize_int8_symmetric(real.b);
  std::vector<int32_t> c = datapath_gemm_int8(a.values, b.values, shape);
  EXPECT_TRUE(compare_int8_with_eigen(a.values, b.values, shape, c).passed);
  c[17] += 1;
  const NumericsReport report = compare_int8_with_eigen(a.values, b.values, shape, c);
  EXPECT_FALSE(report.passed);
  EXPECT_EQ(report.max_abs_error, 1.0);
  EXPECT_LT(report.sqnr_db, std::numeric_limits<double>::infinity());
}

TEST(NumericsCheck, Int8BeyondInt32SafeDepthUsesTheWrappingReference) {
  const NumericsReport report = check_gemm({1, 2, 140000, DType::Int8, 1024, 15});
  EXPECT_TRUE(report.passed);
  EXPECT_NE(report.reference.find("int64"), std::string::npos);
}

TEST(NumericsCheck, FormatCostFollowsTheMantissaWidth) {
  // Rounding an input to p significand bits leaves a relative error of about 2^-p, so its
  // SQNR grows by 6.02 dB per bit: fp16 has 11 bits, bf16 8, E4M3 4, and fp32 rounds only
  // the sums (the real inputs are already fp32). The expected gaps are 18 dB (fp16-bf16),
  // 24 dB (bf16-fp8) and over 40 dB (fp32-fp16); asking for 12 dB, two bits' worth, leaves
  // a bit of margin for sampling spread over these 64*64 outputs and for fp8's subnormals.
  const auto format_cost_db = [](DType dtype) {
    return check_gemm({64, 64, 256, dtype, 64, 16}).quantization_sqnr_db;
  };
  constexpr double kMarginDb = 12;
  EXPECT_GT(format_cost_db(DType::Fp32), format_cost_db(DType::Fp16) + kMarginDb);
  EXPECT_GT(format_cost_db(DType::Fp16), format_cost_db(DType::Bf16) + kMarginDb);
  EXPECT_GT(format_cost_db(DType::Bf16), format_cost_db(DType::Fp8) + kMarginDb);
  // int8's step is max|x|/127, about 1/30 here, for about 38 dB; a wrong dequantization
  // scale would land near 0 dB or below, so 20 dB tells them apart.
  EXPECT_GT(format_cost_db(DType::Int8), 20.0);
}

TEST(NumericsCheck, GammaIsHighamsFactor) {
  EXPECT_EQ(gamma(0, 0x1p-24), 0.0);
  EXPECT_DOUBLE_EQ(gamma(4, 0.125), 1.0);  // 0.5 / (1 - 0.5)
  EXPECT_EQ(gamma(uint64_t{1} << 24, 0x1p-24), std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace tessel::sim
