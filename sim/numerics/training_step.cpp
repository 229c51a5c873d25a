#include "sim/numerics/training_step.h"

#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/numerics/attention.h"
#include "sim/numerics/attention_backward.h"
#include "sim/numerics/backward_ops.h"
#include "sim/numerics/backward_ops_reference.h"
#include "sim/numerics/formats.h"
#include "sim/numerics/gemm_datapath.h"
#include "sim/numerics/op_error.h"
#include "sim/numerics/vector_ops.h"
#include "sim/numerics/vector_ops_reference.h"

namespace tessel::sim {
namespace {

// A layer's tensors, in the order the model lists them after the embedding.
enum LayerTensor : uint64_t { kAttentionNorm, kWq, kWk, kWv, kWo, kMlpNorm, kWGate, kWUp, kWDown, kLayerTensors };

const char* const kLayerTensorNames[] = {"attention_norm", "wq",     "wk",   "wv",    "wo",
                                         "mlp_norm",       "w_gate", "w_up", "w_down"};

template <typename Value>
std::vector<Value> transposed(const std::vector<Value>& x, uint64_t rows, uint64_t cols) {
  std::vector<Value> out(x.size());
  for (uint64_t row = 0; row < rows; ++row) {
    for (uint64_t col = 0; col < cols; ++col) out[col * rows + row] = x[row * cols + col];
  }
  return out;
}

// Matrices of `rows` rows side by side: [rows × Σ widths].
template <typename Value>
std::vector<Value> side_by_side(const std::vector<const std::vector<Value>*>& blocks,
                                const std::vector<uint64_t>& widths, uint64_t rows) {
  std::vector<Value> out;
  for (uint64_t row = 0; row < rows; ++row) {
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      const auto first = blocks[b]->begin() + static_cast<std::ptrdiff_t>(row * widths[b]);
      out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(widths[b]));
    }
  }
  return out;
}

// The attention forward's output and what its backward reads besides (the datapath's L).
template <typename Value>
struct SavedAttention {
  std::vector<Value> out;
  std::vector<float> log_sum_exp;
};

// The datapath's operators in one format.
class DatapathOps {
 public:
  using Value = float;

  DatapathOps(const TinyModel& model, arch::DType dtype) : model_(model), dtype_(dtype) {}

  std::vector<float> linear(const std::vector<float>& x, const std::vector<float>& w, uint64_t in, uint64_t out) const {
    return rounded(datapath_gemm_float(x, w, {x.size() / in, out, in}, model_.k_tile));
  }
  // dX = dY Wᵀ, rounded to the format.
  std::vector<float> input_gradient(const std::vector<float>& dy, const std::vector<float>& w, uint64_t in,
                                    uint64_t out) const {
    return rounded(datapath_gemm_float(dy, transposed(w, in, out), {dy.size() / out, in, out}, model_.k_tile));
  }
  // dW = Xᵀ dY, kept in fp32.
  std::vector<float> weight_gradient(const std::vector<float>& x, const std::vector<float>& dy, uint64_t in,
                                     uint64_t out) const {
    const uint64_t rows = x.size() / in;
    return datapath_gemm_float(transposed(x, rows, in), dy, {in, out, rows}, model_.k_tile);
  }
  std::vector<float> rms_norm(const std::vector<float>& x, RowShape shape, const std::vector<float>& gamma) const {
    return rms_norm_rows(x, shape, gamma, model_.norm_eps, dtype_);
  }
  NormGradients<float> rms_norm_backward(const std::vector<float>& x, const std::vector<float>& dy, RowShape shape,
                                         const std::vector<float>& gamma) const {
    return rms_norm_backward_rows(x, dy, shape, gamma, model_.norm_eps, dtype_);
  }
  std::vector<float> rope(const std::vector<float>& x, RowShape shape) const {
    return rope_half_split(x, shape, layout(), dtype_);
  }
  std::vector<float> rope_backward(const std::vector<float>& dy, RowShape shape) const {
    return rope_half_split_backward(dy, shape, layout(), dtype_);
  }
  SavedAttention<float> attention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                  const AttentionShape& shape) const {
    FusedAttentionResult result = attention_fused_saving_lse(q, k, v, shape, model_.block_kv, dtype_);
    return {std::move(result.out), std::move(result.log_sum_exp)};
  }
  AttentionGradients<float> attention_backward(const std::vector<float>& q, const std::vector<float>& k,
                                               const std::vector<float>& v, const SavedAttention<float>& saved,
                                               const std::vector<float>& d_out, const AttentionShape& shape) const {
    return attention_backward_fused(q, k, v, saved.out, d_out, saved.log_sum_exp, shape, model_.block_kv, dtype_);
  }
  std::vector<float> silu_mul(const std::vector<float>& gate, const std::vector<float>& up) const {
    return silu_and_multiply(gate, up, dtype_);
  }
  GatedGradients<float> silu_mul_backward(const std::vector<float>& gate, const std::vector<float>& up,
                                            const std::vector<float>& dy) const {
    return silu_and_multiply_backward(gate, up, dy, dtype_);
  }
  std::vector<float> add(const std::vector<float>& a, const std::vector<float>& b) const {
    return residual_add(a, b, dtype_);
  }
  CrossEntropyOutputs<float> cross_entropy(const std::vector<float>& logits, RowShape shape,
                                           const std::vector<uint64_t>& targets) const {
    return cross_entropy_rows(logits, shape, targets, dtype_);
  }
  std::vector<float> cross_entropy_backward(const std::vector<float>& softmax, RowShape shape,
                                            const std::vector<uint64_t>& targets) const {
    return cross_entropy_backward_rows(softmax, shape, targets, shape.rows, dtype_);
  }
  std::vector<float> embedding_backward(const std::vector<uint64_t>& ids, const std::vector<float>& dy, uint64_t hidden,
                                        uint64_t vocab) const {
    std::vector<float> table_gradient(vocab * hidden, 0.0f);
    tessel::sim::embedding_backward(ids, dy, hidden, table_gradient);
    return table_gradient;
  }
  float mean(const std::vector<float>& values) const {
    float sum = 0.0f;
    for (float value : values) sum += value;
    return sum / static_cast<float>(values.size());
  }

 private:
  RopeLayout layout() const { return {model_.shape.layer.head_dim, 0, model_.rope_base}; }
  std::vector<float> rounded(std::vector<float> values) const {
    for (float& value : values) value = round_to_format(value, dtype_);
    return values;
  }

  const TinyModel& model_;
  arch::DType dtype_;
};

// The same operators in fp64, never rounded.
class ReferenceOps {
 public:
  using Value = double;
  using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Rows = Eigen::Map<const RowMatrix>;

  explicit ReferenceOps(const TinyModel& model) : model_(model) {}

  std::vector<double> linear(const std::vector<double>& x, const std::vector<double>& w, uint64_t in,
                             uint64_t out) const {
    return product(rows(x, x.size() / in, in) * rows(w, in, out));
  }
  std::vector<double> input_gradient(const std::vector<double>& dy, const std::vector<double>& w, uint64_t in,
                                     uint64_t out) const {
    return product(rows(dy, dy.size() / out, out) * rows(w, in, out).transpose());
  }
  std::vector<double> weight_gradient(const std::vector<double>& x, const std::vector<double>& dy, uint64_t in,
                                      uint64_t out) const {
    return product(rows(x, x.size() / in, in).transpose() * rows(dy, dy.size() / out, out));
  }
  std::vector<double> rms_norm(const std::vector<double>& x, RowShape shape, const std::vector<double>& gamma) const {
    return rms_norm_rows_reference(x, shape, gamma, model_.norm_eps);
  }
  NormGradients<double> rms_norm_backward(const std::vector<double>& x, const std::vector<double>& dy, RowShape shape,
                                          const std::vector<double>& gamma) const {
    return rms_norm_backward_rows_reference(x, dy, shape, gamma, model_.norm_eps);
  }
  std::vector<double> rope(const std::vector<double>& x, RowShape shape) const {
    return rope_half_split_reference(x, shape, layout());
  }
  std::vector<double> rope_backward(const std::vector<double>& dy, RowShape shape) const {
    return rope_half_split_backward_reference(dy, shape, layout());
  }
  SavedAttention<double> attention(const std::vector<double>& q, const std::vector<double>& k,
                                   const std::vector<double>& v, const AttentionShape& shape) const {
    return {attention_reference(q, k, v, shape), {}};
  }
  AttentionGradients<double> attention_backward(const std::vector<double>& q, const std::vector<double>& k,
                                                const std::vector<double>& v, const SavedAttention<double>&,
                                                const std::vector<double>& d_out, const AttentionShape& shape) const {
    return attention_backward_reference(q, k, v, d_out, shape);
  }
  std::vector<double> silu_mul(const std::vector<double>& gate, const std::vector<double>& up) const {
    return silu_and_multiply_reference(gate, up);
  }
  GatedGradients<double> silu_mul_backward(const std::vector<double>& gate, const std::vector<double>& up,
                                             const std::vector<double>& dy) const {
    return silu_and_multiply_backward_reference(gate, up, dy);
  }
  std::vector<double> add(const std::vector<double>& a, const std::vector<double>& b) const {
    return residual_add_reference(a, b);
  }
  CrossEntropyOutputs<double> cross_entropy(const std::vector<double>& logits, RowShape shape,
                                            const std::vector<uint64_t>& targets) const {
    return cross_entropy_rows_reference(logits, shape, targets);
  }
  std::vector<double> cross_entropy_backward(const std::vector<double>& softmax, RowShape shape,
                                             const std::vector<uint64_t>& targets) const {
    return cross_entropy_backward_rows_reference(softmax, shape, targets, shape.rows);
  }
  std::vector<double> embedding_backward(const std::vector<uint64_t>& ids, const std::vector<double>& dy,
                                         uint64_t hidden, uint64_t vocab) const {
    return embedding_backward_reference(ids, dy, hidden, std::vector<double>(vocab * hidden, 0.0));
  }
  double mean(const std::vector<double>& values) const {
    return Eigen::Map<const Eigen::ArrayXd>(values.data(), static_cast<Eigen::Index>(values.size())).mean();
  }

 private:
  static Rows rows(const std::vector<double>& x, uint64_t rows, uint64_t cols) {
    require_size(x.size(), rows * cols, "training step reference");
    return {x.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols)};
  }
  static std::vector<double> product(const RowMatrix& matrix) { return {matrix.data(), matrix.data() + matrix.size()}; }
  RopeLayout layout() const { return {model_.shape.layer.head_dim, 0, model_.rope_base}; }

  const TinyModel& model_;
};

// One step of the model with the operators of `Ops`: forward() saves what backward() reads.
template <typename Ops>
class Step {
 public:
  using Value = typename Ops::Value;
  using Tensor = std::vector<Value>;

  Step(const Ops& ops, const TinyModel& model, const std::vector<Tensor>& parameters, const TokenBatch& batch)
      : ops_(ops), model_(model), parameters_(parameters), batch_(batch), s_(model.shape.layer) {
    const uint64_t expected = 3 + model.shape.layers * kLayerTensors;
    if (parameters.size() != expected) throw std::invalid_argument("training step: wrong number of parameters");
    for (uint64_t i = 0; i < expected; ++i) {
      require_size(parameters[i].size(), model.parameters[i].size(), "training step parameter");
    }
    require_size(batch.tokens.size(), s_.seq, "training step tokens");
    require_size(batch.targets.size(), s_.seq, "training step targets");
  }

  Value forward() {
    const uint64_t hidden = s_.hidden, vocab = model_.shape.vocab;
    Tensor x;
    for (uint64_t token : batch_.tokens) {
      if (token >= vocab) throw std::invalid_argument("training step: a token is past the vocabulary");
      const auto row = parameters_.front().begin() + static_cast<std::ptrdiff_t>(token * hidden);
      x.insert(x.end(), row, row + static_cast<std::ptrdiff_t>(hidden));
    }
    saved_.clear();
    for (uint64_t layer = 0; layer < model_.shape.layers; ++layer) x = layer_forward(layer, x);
    final_input_ = x;
    final_normed_ = ops_.rms_norm(x, rows(hidden), final_norm());
    const CrossEntropyOutputs<Value> loss =
        ops_.cross_entropy(ops_.linear(final_normed_, lm_head(), hidden, vocab), rows(vocab), batch_.targets);
    softmax_ = loss.softmax;
    return ops_.mean(loss.loss);
  }

  std::vector<Tensor> backward() const {
    const uint64_t hidden = s_.hidden, vocab = model_.shape.vocab;
    std::vector<Tensor> gradients(parameters_.size());
    const Tensor d_logits = ops_.cross_entropy_backward(softmax_, rows(vocab), batch_.targets);
    gradients.back() = ops_.weight_gradient(final_normed_, d_logits, hidden, vocab);
    const NormGradients<Value> head_norm = ops_.rms_norm_backward(
        final_input_, ops_.input_gradient(d_logits, lm_head(), hidden, vocab), rows(hidden), final_norm());
    gradients[gradients.size() - 2] = head_norm.d_gamma;
    Tensor dx = head_norm.dx;
    for (uint64_t layer = model_.shape.layers; layer-- > 0;) dx = layer_backward(layer, dx, gradients);
    gradients.front() = ops_.embedding_backward(batch_.tokens, dx, hidden, vocab);
    return gradients;
  }

 private:
  struct LayerSaved {
    Tensor x, h, q, k, v;
    SavedAttention<Value> attention;
    Tensor x1, h2, gate, up, gated;
  };

  uint64_t q_width() const { return s_.q_heads * s_.head_dim; }
  uint64_t kv_width() const { return s_.kv_heads * s_.head_dim; }
  RowShape rows(uint64_t cols) const { return {s_.seq, cols}; }
  AttentionShape attention_shape() const { return {s_.seq, s_.seq, s_.head_dim, s_.q_heads, s_.kv_heads, true}; }
  uint64_t index(uint64_t layer, LayerTensor tensor) const { return 1 + layer * kLayerTensors + tensor; }
  const Tensor& parameter(uint64_t layer, LayerTensor tensor) const { return parameters_[index(layer, tensor)]; }
  const Tensor& final_norm() const { return parameters_[parameters_.size() - 2]; }
  const Tensor& lm_head() const { return parameters_.back(); }

  Tensor layer_forward(uint64_t layer, const Tensor& x) {
    LayerSaved a;
    a.x = x;
    a.h = ops_.rms_norm(x, rows(s_.hidden), parameter(layer, kAttentionNorm));
    a.q = ops_.rope(ops_.linear(a.h, parameter(layer, kWq), s_.hidden, q_width()), rows(q_width()));
    a.k = ops_.rope(ops_.linear(a.h, parameter(layer, kWk), s_.hidden, kv_width()), rows(kv_width()));
    a.v = ops_.linear(a.h, parameter(layer, kWv), s_.hidden, kv_width());
    a.attention = ops_.attention(a.q, a.k, a.v, attention_shape());
    a.x1 = ops_.add(x, ops_.linear(a.attention.out, parameter(layer, kWo), q_width(), s_.hidden));
    a.h2 = ops_.rms_norm(a.x1, rows(s_.hidden), parameter(layer, kMlpNorm));
    a.gate = ops_.linear(a.h2, parameter(layer, kWGate), s_.hidden, s_.intermediate);
    a.up = ops_.linear(a.h2, parameter(layer, kWUp), s_.hidden, s_.intermediate);
    a.gated = ops_.silu_mul(a.gate, a.up);
    Tensor out = ops_.add(a.x1, ops_.linear(a.gated, parameter(layer, kWDown), s_.intermediate, s_.hidden));
    saved_.push_back(std::move(a));
    return out;
  }

  // d(out) to d(x), filling the layer's parameter gradients.
  Tensor layer_backward(uint64_t layer, const Tensor& d_out, std::vector<Tensor>& gradients) const {
    const LayerSaved& a = saved_[layer];
    const uint64_t hidden = s_.hidden, inter = s_.intermediate;
    const auto gradient = [&](LayerTensor tensor) -> Tensor& { return gradients[index(layer, tensor)]; };
    // MLP: out = x1 + (silu(h2 Wg) * h2 Wu) Wd.
    gradient(kWDown) = ops_.weight_gradient(a.gated, d_out, inter, hidden);
    const GatedGradients<Value> d_gated =
        ops_.silu_mul_backward(a.gate, a.up, ops_.input_gradient(d_out, parameter(layer, kWDown), inter, hidden));
    gradient(kWGate) = ops_.weight_gradient(a.h2, d_gated.d_gate, hidden, inter);
    gradient(kWUp) = ops_.weight_gradient(a.h2, d_gated.d_up, hidden, inter);
    const Tensor d_h2 = ops_.input_gradient(
        side_by_side<Value>({&d_gated.d_gate, &d_gated.d_up}, {inter, inter}, s_.seq),
        side_by_side<Value>({&parameter(layer, kWGate), &parameter(layer, kWUp)}, {inter, inter}, hidden), hidden,
        2 * inter);
    const NormGradients<Value> mlp_norm = ops_.rms_norm_backward(a.x1, d_h2, rows(hidden), parameter(layer, kMlpNorm));
    gradient(kMlpNorm) = mlp_norm.d_gamma;
    const Tensor d_x1 = ops_.add(d_out, mlp_norm.dx);
    // Attention: x1 = x + attention(RoPE(h Wq), RoPE(h Wk), h Wv) Wo.
    gradient(kWo) = ops_.weight_gradient(a.attention.out, d_x1, q_width(), hidden);
    const AttentionGradients<Value> d_attention =
        ops_.attention_backward(a.q, a.k, a.v, a.attention,
                                ops_.input_gradient(d_x1, parameter(layer, kWo), q_width(), hidden), attention_shape());
    const Tensor dq = ops_.rope_backward(d_attention.dq, rows(q_width()));
    const Tensor dk = ops_.rope_backward(d_attention.dk, rows(kv_width()));
    gradient(kWq) = ops_.weight_gradient(a.h, dq, hidden, q_width());
    gradient(kWk) = ops_.weight_gradient(a.h, dk, hidden, kv_width());
    gradient(kWv) = ops_.weight_gradient(a.h, d_attention.dv, hidden, kv_width());
    const std::vector<uint64_t> widths{q_width(), kv_width(), kv_width()};
    const Tensor d_h = ops_.input_gradient(
        side_by_side<Value>({&dq, &dk, &d_attention.dv}, widths, s_.seq),
        side_by_side<Value>({&parameter(layer, kWq), &parameter(layer, kWk), &parameter(layer, kWv)}, widths, hidden),
        hidden, q_width() + 2 * kv_width());
    const NormGradients<Value> attention_norm =
        ops_.rms_norm_backward(a.x, d_h, rows(hidden), parameter(layer, kAttentionNorm));
    gradient(kAttentionNorm) = attention_norm.d_gamma;
    return ops_.add(d_x1, attention_norm.dx);
  }

  const Ops& ops_;
  const TinyModel& model_;
  const std::vector<Tensor>& parameters_;
  const TokenBatch& batch_;
  const DecoderLayerShape& s_;
  std::vector<LayerSaved> saved_;
  Tensor final_input_, final_normed_, softmax_;
};

std::vector<float> draw_normal(std::mt19937_64& engine, uint64_t count, float mean, float stddev, arch::DType dtype) {
  std::normal_distribution<float> normal(mean, stddev);
  std::vector<float> values(count);
  for (float& value : values) value = round_to_format(normal(engine), dtype);
  return values;
}

}  // namespace

TinyModel draw_tiny_model(const TrainingStepShape& shape, uint64_t seed, arch::DType dtype) {
  require_floating_format(dtype, "draw_tiny_model");
  std::mt19937_64 engine(seed);
  const uint64_t hidden = shape.layer.hidden;
  TinyModel model;
  model.shape = shape;
  model.names.push_back("embedding");
  model.parameters.push_back(draw_normal(engine, shape.vocab * hidden, 0.0f, 1.0f, dtype));
  for (uint64_t layer = 0; layer < shape.layers; ++layer) {
    DecoderLayer drawn = draw_decoder_layer(shape.layer, engine(), dtype);
    std::vector<float>* tensors[] = {&drawn.attention_norm, &drawn.wq,     &drawn.wk,   &drawn.wv,    &drawn.wo,
                                     &drawn.mlp_norm,       &drawn.w_gate, &drawn.w_up, &drawn.w_down};
    for (uint64_t tensor = 0; tensor < kLayerTensors; ++tensor) {
      model.names.push_back("layers." + std::to_string(layer) + "." + kLayerTensorNames[tensor]);
      model.parameters.push_back(std::move(*tensors[tensor]));
    }
  }
  model.names.push_back("final_norm");
  model.parameters.push_back(draw_normal(engine, hidden, 1.0f, 0.1f, dtype));
  model.names.push_back("lm_head");
  model.parameters.push_back(
      draw_normal(engine, hidden * shape.vocab, 0.0f, 1.0f / std::sqrt(static_cast<float>(hidden)), dtype));
  return model;
}

TokenBatch draw_token_batch(const TrainingStepShape& shape, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<uint64_t> token(0, shape.vocab - 1);
  TokenBatch batch;
  for (uint64_t i = 0; i < shape.layer.seq; ++i) {
    batch.tokens.push_back(token(engine));
    batch.targets.push_back(token(engine));
  }
  return batch;
}

StepGradients<float> training_step_datapath(const TinyModel& model, const TokenBatch& batch, arch::DType dtype) {
  require_floating_format(dtype, "training_step_datapath");
  const DatapathOps ops(model, dtype);
  Step<DatapathOps> step(ops, model, model.parameters, batch);
  const float loss = step.forward();
  return {loss, step.backward()};
}

StepGradients<double> training_step_reference(const TinyModel& model,
                                              const std::vector<std::vector<double>>& parameters,
                                              const TokenBatch& batch) {
  const ReferenceOps ops(model);
  Step<ReferenceOps> step(ops, model, parameters, batch);
  const double loss = step.forward();
  return {loss, step.backward()};
}

double training_loss_reference(const TinyModel& model, const std::vector<std::vector<double>>& parameters,
                               const TokenBatch& batch) {
  const ReferenceOps ops(model);
  return Step<ReferenceOps>(ops, model, parameters, batch).forward();
}

}  // namespace tessel::sim
