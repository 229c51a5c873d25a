// Stream runs (arch/systolic/fold_timing.h): one-fold tiles that differ only along the
// dimension the dataflow streams go through the array as one fold, its stationary state kept.
// The PE-level model is the proof: it streams the whole dimension without a break, and the
// engine's cycles for the split walk must equal its measured count.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "arch/config_scalesim.h"
#include "arch/systolic/fold_timing.h"
#include "arch/systolic/tile_work.h"
#include "mapper/cost_model.h"
#include "mapper/systolic_mapper.h"
#include "random_int8.h"
#include "sim/engine.h"
#include "sim/pe_level.h"
#include "test_specs.h"
#include "workloads/topology_csv.h"

namespace tessel {
namespace {

using arch::Dataflow;
using mapper::Dim;
using sim::Int8Matrix;

using testing::random_int8;

struct SplitCase {
  Dataflow dataflow;
  mapper::Extents gemm;
  mapper::Extents tile;   // splits the streamed dimension in three
  mapper::LoopOrder runs;  // the streamed dimension innermost
  mapper::LoopOrder breaks;  // the streamed dimension outside a loop that moves
};

// On a 16×16 array: each tile is one fold in space; the spatial dimension the `breaks` order
// walks inside the streamed one has two tiles, so that order cannot form runs.
const SplitCase kCases[] = {
    {Dataflow::OutputStationary, {12, 20, 96}, {12, 10, 32}, {Dim::M, Dim::N, Dim::K}, {Dim::K, Dim::M, Dim::N}},
    {Dataflow::WeightStationary, {96, 20, 12}, {32, 10, 12}, {Dim::N, Dim::K, Dim::M}, {Dim::M, Dim::K, Dim::N}},
    {Dataflow::InputStationary, {20, 96, 12}, {10, 32, 12}, {Dim::M, Dim::K, Dim::N}, {Dim::N, Dim::K, Dim::M}},
};

mapper::GemmMapping mapping_of(const SplitCase& c, const mapper::LoopOrder& order) {
  return {c.dataflow, arch::DType::Int8, Dim::M, 1, c.gemm.m, c.tile, order, {0, 0, 0}, false};
}

TEST(StreamRuns, SplitAlongTheStreamedDimensionCostsNoExtraFillOrDrain) {
  std::mt19937_64 rng(11);
  for (const SplitCase& c : kCases) {
    SCOPED_TRACE(arch::to_string(c.dataflow));
    const arch::SystolicSpec spec = testing::ideal_array(16, 16, c.dataflow);
    const Int8Matrix a = random_int8(static_cast<Eigen::Index>(c.gemm.m), static_cast<Eigen::Index>(c.gemm.k), rng);
    const Int8Matrix b = random_int8(static_cast<Eigen::Index>(c.gemm.k), static_cast<Eigen::Index>(c.gemm.n), rng);
    const sim::PeLevelResult whole = sim::run_pe_level(spec.array, a, b);
    ASSERT_TRUE(whole.finished);
    // The sums (os) or the stationary tile (ws, is) stayed in the PEs over the whole stream.
    EXPECT_EQ(whole.c, a.cast<int32_t>() * b.cast<int32_t>());

    const mapper::GemmMapping runs = mapping_of(c, c.runs);
    const sim::GemmRun split = sim::simulate_gemm(spec, c.gemm, runs);
    EXPECT_EQ(split.compute_cycles, whole.cycles);
    EXPECT_EQ(mapper::analytic_cost(spec, c.gemm, runs).compute_cycles, whole.cycles);

    // The same tiles with a spatial loop inside the streamed one: every tile fills and drains.
    const mapper::GemmMapping breaks = mapping_of(c, c.breaks);
    const uint64_t tiles = 6;
    const uint64_t temporal = 32;
    const uint64_t each = arch::folds_cycles(spec.array, 1, temporal, 1.0);
    EXPECT_EQ(sim::simulate_gemm(spec, c.gemm, breaks).compute_cycles, tiles * each);
    EXPECT_EQ(mapper::analytic_cost(spec, c.gemm, breaks).compute_cycles, tiles * each);
    EXPECT_LT(whole.cycles, tiles * each);
  }
}

TEST(StreamRuns, TilesOfSeveralFoldsDoNotFormRuns) {
  // 40 rows of M on a 16-row os array: three row folds a tile, whose sums cannot all stay.
  const arch::SystolicSpec spec = testing::ideal_array(16, 16, Dataflow::OutputStationary);
  const mapper::Extents gemm{40, 16, 64};
  const mapper::GemmMapping mapping{Dataflow::OutputStationary, arch::DType::Int8, Dim::M, 1, 40, {40, 16, 32},
                                    {Dim::M, Dim::N, Dim::K}, {0, 0, 0}, false};
  const uint64_t per_tile = arch::folds_cycles(spec.array, 3, 32, 1.0);
  EXPECT_EQ(sim::simulate_gemm(spec, gemm, mapping).compute_cycles, 2 * per_tile);
}

}  // namespace
}  // namespace tessel

namespace tessel {
namespace {

// SCALE-Sim v2's compute cycles of a layer: folds of its operand matrices (Sr × T and T × Sc)
// on the R × C array, each fill + T + R + C - 2 cycles (fill: R for ws and is, 0 for os).
// SCALE-Sim prints the index of the last cycle, one less (AlexNet's Conv2 on scale.cfg:
// 334,831).
uint64_t scalesim_compute_cycles(const arch::ArraySpec& array, const workloads::Gemm& gemm) {
  const arch::SpatialShape shape = arch::spatial_shape(array.dataflow, gemm.m, gemm.n, gemm.k);
  const uint64_t fill = array.dataflow == Dataflow::OutputStationary ? 0 : array.rows;
  return arch::fold_grid(array, shape.rows, shape.cols).folds() *
         (fill + shape.temporal + array.rows + array.cols - 2);
}

TEST(StreamRuns, ScaleSimBundledConfigsAndTopologiesAgreeInComputeCycles) {
  // Their buffers cannot hold whole layers (64 kB and 36 kB SRAMs): the mapper splits the
  // streamed dimension, and runs keep SCALE-Sim's fold count.
  const std::string configs = std::string(TESSEL_SOURCE_DIR) + "/configs/";
  for (const char* cfg : {"os_32x32_64kB_calc", "google", "eyeriss"}) {
    const arch::SystolicSpec spec = arch::load_scalesim_cfg(configs + "scalesim/" + cfg + ".cfg");
    for (const char* topology : {"alexnet", "yolo_tiny"}) {
      for (const workloads::Gemm& gemm : workloads::read_topology_csv(configs + "topologies/" + topology + ".csv").gemms) {
        SCOPED_TRACE(std::string(cfg) + " " + topology + " " + gemm.name);
        const mapper::MapResult map = mapper::map_gemm(spec, gemm, mapper::MapperOptions{arch::DType::Int8});
        const sim::GemmRun run = sim::simulate_gemm(spec, {gemm.m, gemm.n, gemm.k}, map.mapping);
        EXPECT_EQ(run.compute_cycles, scalesim_compute_cycles(spec.array, gemm));
      }
    }
  }
  const arch::SystolicSpec scale = arch::load_scalesim_cfg(configs + "scalesim/os_32x32_64kB_calc.cfg");
  EXPECT_EQ(scalesim_compute_cycles(scale.array, {"Conv2", 529, 256, 2400}) - 1, 334831u);
}

}  // namespace
}  // namespace tessel
