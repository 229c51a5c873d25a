#include "workloads/data_parallel.h"

#include <initializer_list>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::workloads {

namespace {

constexpr arch::DType kFp32 = arch::DType::Fp32;
constexpr uint32_t kReductions = 0;  // the data group's stream of gradient reductions
constexpr uint32_t kGathers = 1;     // and ZeRO-3's of parameter gathers

uint64_t share(uint64_t total, uint64_t replicas) { return (total + replicas - 1) / replicas; }

uint64_t parameters_of(const std::vector<Op>& ops) {
  uint64_t total = 0;
  for (const Op& op : ops) total += op.parameters();
  return total;
}

// Ops added before a block's first layer's ops, or after its last layer's.
void prepend(LayerBlock& block, std::initializer_list<Op> ops) {
  block.ops.insert(block.ops.begin(), ops);
  if (!block.layer_sizes.empty()) block.layer_sizes.front() += ops.size();
}

void append(LayerBlock& block, Op op) {
  block.ops.push_back(std::move(op));
  if (!block.layer_sizes.empty()) ++block.layer_sizes.back();
}

class Passes {
 public:
  Passes(const TrainingGraphs& graphs, const DataParallelOptions& options) : graphs_(graphs), options_(options) {}

  // The fp32 gradients of `elements` parameters summed over the replicas, overlapped.
  Op reduction(uint64_t elements) const {
    return Op("dp.grad_reduce", options_.zero == 0 ? OpKind::AllReduce : OpKind::ReduceScatter,
              CollectiveShape{elements, 1, options_.replicas, CollectiveGroup::Data, true, kReductions}, kFp32);
  }

  // ZeRO-3: this device's 1/replicas of `parameters` gathered from the others, overlapped.
  Op gather(uint64_t parameters) const {
    return Op("zero.param_gather", OpKind::AllGather,
              CollectiveShape{share(parameters, options_.replicas), 1, options_.replicas, CollectiveGroup::Data, true,
                              kGathers});
  }

  static Op wait_for_gathers(uint64_t keep) {
    return Op("zero.wait", OpKind::WaitComm, WaitShape{keep, CollectiveGroup::Data, kGathers});
  }

  OpGraph forward() const {
    OpGraph graph = graphs_.forward;
    if (!sharded_parameters()) return graph;
    // Each layer gathers the parameters of the one after it while it computes (the last one,
    // those of the head), having waited for its own.
    std::vector<Op> prologue = edge_gathers();
    if (!graph.layers.empty()) prologue.push_back(gather(graphs_.layer_parameters.front()));
    prologue.push_back(wait_for_gathers(graph.layers.empty() ? 0 : 1));
    graph.prologue.insert(graph.prologue.begin(), prologue.begin(), prologue.end());
    for (size_t b = 0; b < graph.layers.size(); ++b) {
      prepend(graph.layers[b], {gather(graphs_.layer_parameters[b]), wait_for_gathers(1)});
    }
    graph.epilogue.insert(graph.epilogue.begin(), wait_for_gathers(0));
    return graph;
  }

  OpGraph backward(bool reduce) const {
    OpGraph graph = graphs_.backward;
    const size_t blocks = graph.layers.size();
    const bool gathers = sharded_parameters();
    if (gathers) {
      std::vector<Op> prologue = edge_gathers();
      if (blocks > 0) prologue.push_back(gather(graphs_.layer_parameters.back()));
      prologue.push_back(wait_for_gathers(blocks == 0 ? 0 : 1));
      graph.prologue.insert(graph.prologue.begin(), prologue.begin(), prologue.end());
      graph.epilogue.insert(graph.epilogue.begin(), wait_for_gathers(0));
    }
    for (size_t i = 0; i < blocks; ++i) {
      const size_t b = blocks - 1 - i;  // the backward pass runs the blocks in reverse
      LayerBlock& block = graph.layers[i];
      if (gathers) prepend(block, {gather(graphs_.layer_parameters[b]), wait_for_gathers(1)});
      if (reduce && graphs_.layer_trainable[b] > 0) append(block, reduction(graphs_.layer_trainable[b]));
    }
    if (reduce && graphs_.edge_trainable > 0) {
      const uint64_t head = parameters_of(graphs_.forward.epilogue);
      const uint64_t embeddings = parameters_of(graphs_.forward.prologue);
      if (head > 0) graph.prologue.push_back(reduction(head));
      if (embeddings > 0) graph.epilogue.push_back(reduction(embeddings));
    }
    return graph;
  }

 private:
  bool sharded_parameters() const { return options_.zero == 3 && options_.replicas > 1; }

  std::vector<Op> edge_gathers() const {
    if (graphs_.edge_parameters == 0) return {};
    return {gather(graphs_.edge_parameters)};
  }

  const TrainingGraphs& graphs_;
  const DataParallelOptions& options_;
};

}  // namespace

DataParallelPasses data_parallel_passes(const TrainingGraphs& graphs, const DataParallelOptions& options) {
  if (options.zero > 3) throw InputError("ZeRO stage " + std::to_string(options.zero) + ": stages are 0 to 3");
  if (options.replicas <= 1) return {graphs.forward, graphs.backward, graphs.backward};
  const Passes passes(graphs, options);
  // ZeRO 2 and 3 keep only their shard of the gradients, so every micro-batch reduces them.
  return {passes.forward(), passes.backward(options.zero >= 2), passes.backward(true)};
}

OpGraph optimizer_step(const std::vector<const TrainingGraphs*>& chunks, const DataParallelOptions& options) {
  uint64_t trainable = 0;
  for (const TrainingGraphs* chunk : chunks) trainable += chunk->trainable();
  const uint64_t replicas = options.replicas;
  const uint64_t shard = options.zero >= 1 ? share(trainable, replicas) : trainable;
  OpGraph graph;
  graph.name = "optimizer step";
  std::vector<Op>& ops = graph.prologue;
  if (replicas > 1) {
    ops.emplace_back("dp.wait", OpKind::WaitComm, WaitShape{0, CollectiveGroup::Data, kReductions});
    if (options.zero == 3) ops.push_back(Passes::wait_for_gathers(0));
  }
  if (trainable == 0) return graph;
  if (options.loss_scaling) {
    ops.emplace_back("optimizer.unscale", OpKind::GradientUnscale, OptimizerShape{shard}, kFp32);
  }
  ops.emplace_back("optimizer.grad_norm", OpKind::GradientNorm, OptimizerShape{shard}, kFp32);
  if (replicas > 1) {
    ops.emplace_back("optimizer.grad_norm_all_reduce", OpKind::AllReduce,
                     CollectiveShape{1, 1, replicas, CollectiveGroup::Data}, kFp32);
  }
  ops.emplace_back("optimizer.adamw", OpKind::AdamW, OptimizerShape{shard}, kFp32);
  if (replicas > 1 && (options.zero == 1 || options.zero == 2)) {
    ops.emplace_back("zero.param_all_gather", OpKind::AllGather,
                     CollectiveShape{shard, 1, replicas, CollectiveGroup::Data});
  }
  // fp8 products read fp8 copies of the updated weights and their transposes, cast once an
  // iteration (Transformer Engine caches them over the micro-batches).
  uint64_t fp8 = 0;
  for (const TrainingGraphs* chunk : chunks) fp8 += chunk->fp8_parameters();
  if (fp8 > 0) {
    ops.emplace_back("optimizer.fp8_weight_cast", OpKind::Quantize,
                     RowsShape{options.zero == 3 ? share(fp8, replicas) : fp8, 1});
  }
  return graph;
}

ModelStateBytes model_state_bytes(uint64_t parameters, uint64_t trainable, uint64_t fp8_parameters,
                                  const DataParallelOptions& options, arch::DType compute) {
  const uint64_t r = options.replicas;
  const auto sharded_from = [&](uint64_t stage, uint64_t count) {
    return options.zero >= stage ? share(count, r) : count;
  };
  const uint64_t fp32 = arch::bytes_of(kFp32);
  ModelStateBytes bytes;
  bytes.weights = sharded_from(3, parameters) * arch::bytes_of(compute) +
                  sharded_from(3, fp8_parameters) * 2 * arch::bytes_of(arch::DType::Fp8);
  bytes.master_weights = sharded_from(1, trainable) * fp32;
  bytes.gradients = sharded_from(2, trainable) * fp32;
  bytes.optimizer_moments = sharded_from(1, trainable) * 2 * fp32;
  return bytes;
}

}  // namespace tessel::workloads
