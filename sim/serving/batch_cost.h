// What a served iteration costs a device: the batch step's ops (workloads::build_batch_step)
// run on it, each op's figures simulated at its sizes or, for sizes between the points of a
// grid, interpolated between simulated ones. A serving run meets thousands of batch shapes
// (token counts, cache lengths); simulating each would take hours, and a device's figures are
// affine in an op's sizes between the points where its tiles or blocks start or fill.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/device.h"
#include "sim/serving/op_placement.h"
#include "sim/step_runner.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::sim {

// One execution of an op, or an iteration: device cycles, energy and DRAM traffic.
struct CostFigures {
  double cycles = 0;
  double energy_pj = 0;
  double dram_bytes = 0;
};

// How far a cell's interpolated figures (cycles, energy, DRAM bytes) may miss their simulation
// at a point inside it before the cell is split: 1% of each. A cell across a point where the
// op's figures jump (a tile more, another tiling) misses by about half the jump, so splitting
// closes in on the jumps.
constexpr double kShapeTolerance = 1e-2;

class BatchCost {
 public:
  // `run` and `size` cost a device op on the device and a collective on the links of the
  // `tensor_parallel` devices sharing each layer; `settings` as the device configured them.
  // `cells_per_octave`: the grid's cells between a power of two and the next in each size an
  // iteration varies (tokens, sequences, cache length); 0 simulates every op at its sizes.
  BatchCost(const DeviceFacts& facts, const OpRunner& run, const OpSizer& size, const workloads::ModelConfig& model,
            const RunSettings& settings, uint64_t cells_per_octave, uint64_t tensor_parallel);

  // Weights kept in host memory and streamed to the device over a link of this many bytes a
  // second as each layer needs them (FlexGen-style offload): the next layer's weights load while
  // this one computes, so a layer takes the longer of its compute and its weights' transfer.
  void offload_weights(double link_bytes_per_s) { weight_link_bytes_per_s_ = link_bytes_per_s; }
  // The KV cache kept in host memory the same way: each layer streams the cache its attention
  // reads and writes back the new tokens' over a link of this many bytes a second, beside the
  // layer's compute (and on the same link as offloaded weights).
  void offload_kv_cache(double link_bytes_per_s) { kv_link_bytes_per_s_ = link_bytes_per_s; }

  // The ops `placement` puts apart costed by `paired` (the paired device's costs, of the same
  // model and slicing) instead; the output of the op before each change of device crosses a
  // link of this bandwidth and latency.
  void place_apart(std::shared_ptr<BatchCost> paired, OpPlacement placement, double link_bytes_per_s,
                   double link_latency_s);
  // With ops apart, each iteration's sequences split into this many micro-batches that ping-pong
  // between the pair (sim/serving/ping_pong.h): 1, the default, runs the batch as one.
  void ping_pong(uint64_t microbatches) { microbatches_ = microbatches; }

  CostFigures iteration(const workloads::BatchStep& step);
  // Steps one after another.
  CostFigures iteration_all(const std::vector<workloads::BatchStep>& steps);
  double seconds(const CostFigures& figures) const { return figures.cycles / clock_hz_; }
  // Op shapes simulated so far.
  size_t simulated() const { return simulated_figures_.size(); }

 private:
  // One size of an op that iterations vary, and its least valid value.
  struct Axis {
    uint64_t* value;
    uint64_t least;
  };
  struct Cell {
    std::vector<uint64_t> low;
    std::vector<uint64_t> high;
  };
  CostFigures op(const workloads::Op& op);
  // An iteration's figures before static power: its ops one after another, or its micro-batches
  // ping-ponging between the paired devices.
  CostFigures in_order(const workloads::BatchStep& step);
  CostFigures ping_ponged(const workloads::BatchStep& step);
  // The seconds the output of `from` takes to cross to the paired device (or back).
  double crossing_seconds(const workloads::Op& from) const;
  CostFigures simulate(const workloads::Op& op);
  // An op's figures on the device that runs it, in this device's cycles.
  CostFigures placed(const workloads::Op& op);
  // The figures at `at` in the cell, multilinear between its corners (simulated).
  CostFigures between(workloads::Op& probe, std::vector<Axis>& axes, const Cell& cell, const std::vector<uint64_t>& at,
                      size_t axis);

  workloads::ModelConfig model_;
  uint64_t cells_per_octave_;
  uint64_t tensor_parallel_;
  arch::DType dtype_;
  std::optional<double> weight_link_bytes_per_s_;
  std::optional<double> kv_link_bytes_per_s_;
  std::shared_ptr<BatchCost> paired_;
  OpPlacement placement_;
  double paired_link_bytes_per_s_ = 0;
  double paired_link_latency_s_ = 0;
  uint64_t microbatches_ = 1;
  double clock_hz_;
  std::optional<arch::PowerSpec> power_;
  std::shared_ptr<StepRunner> runner_;
  std::map<std::string, CostFigures> simulated_figures_;  // the ops simulated, by identity
  std::map<std::string, CostFigures> known_;              // every op costed, by identity
  std::set<std::string> checked_;             // cells whose interpolation matched their centre
};

}  // namespace tessel::sim
