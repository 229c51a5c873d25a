// The PE-level systolic array against the tile-level cycle formula and Eigen's int32 product.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "arch/systolic/fold_timing.h"
#include "random_int8.h"
#include "sim/pe_level.h"

namespace tessel::sim {
namespace {

using arch::Dataflow;

arch::ArraySpec array_of(uint32_t rows, uint32_t cols, Dataflow dataflow,
                         bool double_buffered = false) {
  return {rows, cols, dataflow, double_buffered, 100.0};
}

using testing::random_int8;

Int32Matrix eigen_product(const Int8Matrix& a, const Int8Matrix& b) {
  return a.cast<int32_t>() * b.cast<int32_t>();
}

struct FoldShape {
  uint64_t folds;
  uint64_t temporal;
};

FoldShape fold_shape(const arch::ArraySpec& array, uint64_t m, uint64_t n, uint64_t k) {
  uint64_t spatial_rows = m, spatial_cols = n, temporal = k;  // os: M × N, K in time
  if (array.dataflow == Dataflow::WeightStationary) {
    spatial_rows = k, spatial_cols = n, temporal = m;
  } else if (array.dataflow == Dataflow::InputStationary) {
    spatial_rows = k, spatial_cols = m, temporal = n;
  }
  return {arch::fold_grid(array, spatial_rows, spatial_cols).folds(), temporal};
}

// The tile-level count: every fold of the grid at one MAC a PE a cycle.
uint64_t formula_cycles(const arch::ArraySpec& array, uint64_t m, uint64_t n, uint64_t k) {
  const FoldShape shape = fold_shape(array, m, n, k);
  return arch::folds_cycles(array, shape.folds, shape.temporal, 1.0);
}

struct ArrayCases {
  uint32_t rows;
  uint32_t cols;
  int cases;
};

// A dimension from 1 to three array sides: a third of the time at most one side, a third an
// exact multiple of the side, otherwise anything, so single folds, streams shorter than the
// array, multiples and ragged edges all occur often.
uint32_t random_dim(uint32_t side, std::mt19937_64& rng) {
  switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
    case 0:
      return std::uniform_int_distribution<uint32_t>(1, side)(rng);
    case 1:
      return side * std::uniform_int_distribution<uint32_t>(1, 3)(rng);
    default:
      return std::uniform_int_distribution<uint32_t>(1, 3 * side)(rng);
  }
}

// Each dataflow, double-buffered, with the stream shorter and longer than the array's rows,
// over one fold and several: the cases in which the shadow registers set the pace or not.
using DoubleBufferedCase = std::tuple<Dataflow, bool, bool>;

TEST(PeLevel, RandomShapesMatchFoldFormulaAndEigenExactly) {
  const ArrayCases arrays[] = {{4, 4, 90},   {8, 8, 72},   {3, 5, 72}, {6, 2, 72},
                               {1, 1, 36},   {16, 16, 36}, {32, 32, 18}};
  const Dataflow dataflows[] = {Dataflow::OutputStationary, Dataflow::WeightStationary,
                                Dataflow::InputStationary};
  std::mt19937_64 rng(20240611);
  std::set<DoubleBufferedCase> double_buffered_cases;
  int ran = 0;
  for (const ArrayCases& shape : arrays) {
    for (int i = 0; i < shape.cases; ++i) {
      // Every other triple of cases is double-buffered, so each dataflow gets both.
      const arch::ArraySpec array =
          array_of(shape.rows, shape.cols, dataflows[i % 3], i / 3 % 2 == 1);
      const uint32_t side = std::max(shape.rows, shape.cols);
      const uint32_t m = random_dim(side, rng);
      const uint32_t n = random_dim(side, rng);
      const uint32_t k = random_dim(side, rng);
      const Int8Matrix a = random_int8(m, k, rng);
      const Int8Matrix b = random_int8(k, n, rng);
      SCOPED_TRACE(std::to_string(shape.rows) + "x" + std::to_string(shape.cols) + " " +
                   std::string(arch::to_string(array.dataflow)) +
                   (array.weights_double_buffered ? " double-buffered" : "") +
                   " M=" + std::to_string(m) + " N=" + std::to_string(n) +
                   " K=" + std::to_string(k));

      const PeLevelResult result = run_pe_level(array, a, b);

      EXPECT_TRUE(result.finished);
      EXPECT_EQ(result.cycles, formula_cycles(array, m, n, k));
      EXPECT_TRUE(result.c == eigen_product(a, b));
      const FoldShape folds = fold_shape(array, m, n, k);
      if (array.weights_double_buffered && folds.temporal != array.rows) {
        double_buffered_cases.emplace(array.dataflow, folds.temporal < array.rows,
                                      folds.folds > 1);
      }
      ++ran;
    }
  }
  EXPECT_EQ(ran, 396);
  EXPECT_EQ(double_buffered_cases.size(), 12u);
}

TEST(PeLevel, ExtremeOperandsAccumulateWithoutLoss) {
  const Int8Matrix a = Int8Matrix::Constant(5, 70, int8_t{-128});
  const Int8Matrix b = Int8Matrix::Constant(70, 6, int8_t{-128});
  for (const Dataflow dataflow :
       {Dataflow::OutputStationary, Dataflow::WeightStationary, Dataflow::InputStationary}) {
    for (const bool double_buffered : {false, true}) {
      const PeLevelResult result = run_pe_level(array_of(4, 4, dataflow, double_buffered), a, b);
      EXPECT_TRUE(result.c == Int32Matrix::Constant(5, 6, 70 * 128 * 128));
    }
  }
}

// A GEMM whose folds all complete exactly at `cycles`: one cycle less must leave it unfinished.
void expect_finishes_exactly_at(const arch::ArraySpec& array, Eigen::Index m, Eigen::Index n,
                                Eigen::Index k, uint64_t cycles) {
  std::mt19937_64 rng(99);
  const Int8Matrix a = random_int8(m, k, rng);
  const Int8Matrix b = random_int8(k, n, rng);

  const PeLevelResult early = run_pe_level(array, a, b, cycles - 1);
  EXPECT_FALSE(early.finished);
  EXPECT_EQ(early.cycles, cycles - 1);

  const PeLevelResult on_time = run_pe_level(array, a, b, cycles);
  EXPECT_TRUE(on_time.finished);
  EXPECT_EQ(on_time.cycles, cycles);
  EXPECT_TRUE(on_time.c == eigen_product(a, b));
}

TEST(PeLevel, OsNotFinishedOneCycleBeforeTheCountAndFinishedAtIt) {
  // M=6 on 4 rows and N=5 on 4 cols: 2×2 folds of K + R + C - 2 = 3 + 4 + 4 - 2 = 9 cycles.
  expect_finishes_exactly_at(array_of(4, 4, Dataflow::OutputStationary), 6, 5, 3, 36);
}

TEST(PeLevel, WsNotFinishedOneCycleBeforeTheCountAndFinishedAtIt) {
  // K=5 on 3 rows and N=7 on 5 cols: 2×2 folds of R + M + R + C - 2 = 3 + 4 + 3 + 5 - 2 = 13.
  expect_finishes_exactly_at(array_of(3, 5, Dataflow::WeightStationary), 4, 7, 5, 52);
}

TEST(PeLevel, IsNotFinishedOneCycleBeforeTheCountAndFinishedAtIt) {
  // K=2 on 3 rows and M=6 on 5 cols: 1×2 folds of R + N + R + C - 2 = 3 + 4 + 3 + 5 - 2 = 13.
  expect_finishes_exactly_at(array_of(3, 5, Dataflow::InputStationary), 6, 4, 2, 26);
}

// Double-buffered: fill + (F-1)·max(T, R) + T + R + C - 2, fill = R for ws/is and 0 for os.
TEST(PeLevel, DoubleBufferedWsNotFinishedOneCycleBeforeTheCountAndFinishedAtIt) {
  const arch::ArraySpec array = array_of(3, 5, Dataflow::WeightStationary, true);
  // K=5 on 3 rows and N=7 on 5 cols: 4 folds. M=2 < 3 rows: 3 + 3·3 + 2 + 3 + 5 - 2 = 20.
  expect_finishes_exactly_at(array, 2, 7, 5, 20);
  // M=6 > 3 rows: 3 + 3·6 + 6 + 3 + 5 - 2 = 33.
  expect_finishes_exactly_at(array, 6, 7, 5, 33);
}

TEST(PeLevel, DoubleBufferedOsNotFinishedOneCycleBeforeTheCountAndFinishedAtIt) {
  const arch::ArraySpec array = array_of(4, 4, Dataflow::OutputStationary, true);
  // M=6 on 4 rows and N=5 on 4 cols: 4 folds. K=3 < 4 rows: 3·4 + 3 + 4 + 4 - 2 = 21.
  expect_finishes_exactly_at(array, 6, 5, 3, 21);
  // K=7 > 4 rows: 3·7 + 7 + 4 + 4 - 2 = 34.
  expect_finishes_exactly_at(array, 6, 5, 7, 34);
}

TEST(PeLevel, DoubleBufferedIsNotFinishedOneCycleBeforeTheCountAndFinishedAtIt) {
  // K=2 on 3 rows and M=6 on 5 cols: 2 folds. N=4 > 3 rows: 3 + 4 + 4 + 3 + 5 - 2 = 17.
  expect_finishes_exactly_at(array_of(3, 5, Dataflow::InputStationary, true), 6, 4, 2, 17);
}

TEST(PeLevel, SingleCycleFoldsOnOnePe) {
  // 1×1 os with K=1: the only MAC is the fold's only cycle.
  expect_finishes_exactly_at(array_of(1, 1, Dataflow::OutputStationary), 1, 1, 1, 1);
  // Double-buffered, a fold a cycle: os M=3, N=2 is 6 folds of one MAC; ws K=3, N=2 is 6
  // folds after the first weight's load cycle, 1 + 5·1 + 1 + 1 + 1 - 2 = 7.
  expect_finishes_exactly_at(array_of(1, 1, Dataflow::OutputStationary, true), 3, 2, 1, 6);
  expect_finishes_exactly_at(array_of(1, 1, Dataflow::WeightStationary, true), 1, 2, 3, 7);
}

uint64_t square_cycles(uint32_t side, Dataflow dataflow, Eigen::Index m, Eigen::Index n,
                       Eigen::Index k) {
  std::mt19937_64 rng(3);
  const PeLevelResult result =
      run_pe_level(array_of(side, side, dataflow), random_int8(m, k, rng), random_int8(k, n, rng));
  EXPECT_TRUE(result.finished);
  return result.cycles;
}

// SCALE-Sim's per-fold counts (fill + T + R + C - 2, no fill for os), worked by hand.
TEST(PeLevel, ReproducesScaleSimReferencePoints) {
  EXPECT_EQ(square_cycles(8, Dataflow::WeightStationary, 8, 8, 8), 30u);   // 8+8+8+8-2
  EXPECT_EQ(square_cycles(8, Dataflow::InputStationary, 8, 8, 8), 30u);    // 8+8+8+8-2
  EXPECT_EQ(square_cycles(8, Dataflow::OutputStationary, 8, 8, 8), 22u);   // 8+8+8-2
  EXPECT_EQ(square_cycles(8, Dataflow::WeightStationary, 8, 16, 8), 60u);  // 2 column folds
  EXPECT_EQ(square_cycles(8, Dataflow::OutputStationary, 20, 8, 8), 66u);  // 3 row folds
  EXPECT_EQ(square_cycles(32, Dataflow::WeightStationary, 32, 32, 32), 126u);  // 32·4-2
  EXPECT_EQ(square_cycles(32, Dataflow::OutputStationary, 32, 32, 64), 126u);  // 64+32+32-2
}

TEST(PeLevel, RejectsWhatItDoesNotModel) {
  const Int8Matrix a = Int8Matrix::Zero(2, 3);
  const Int8Matrix b = Int8Matrix::Zero(3, 2);
  EXPECT_THROW(run_pe_level(array_of(33, 32, Dataflow::WeightStationary), a, b),
               std::invalid_argument);
  EXPECT_THROW(run_pe_level(array_of(4, 4, Dataflow::OutputStationary), a, a),
               std::invalid_argument);
  EXPECT_THROW(run_pe_level(array_of(4, 4, Dataflow::OutputStationary), Int8Matrix(0, 3), b),
               std::invalid_argument);
}

}  // namespace
}  // namespace tessel::sim
