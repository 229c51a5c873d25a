#include "cli/validation/tp_layer_rows.h"

#include <array>
#include <optional>
#include <string>

#include "cli/validation/row_text.h"
#include "cli/validation/timing_harness.h"
#include "workloads/input_error.h"
#include "workloads/model_config.h"
#include "workloads/transformer.h"

namespace tessel::validation {

namespace {

using workloads::Op;
using workloads::OpKind;

// One GPU's shard of the layer and the step it runs.
struct Shard {
  uint64_t hidden;
  uint64_t heads;      // this GPU's (workloads::tensor_parallel_shard)
  uint64_t head_dim;
  uint64_t ffn;        // this GPU's columns of the FFN
  uint32_t gpus;
  uint64_t batch;
  uint64_t q_len;      // the prompt, or 1 token a sequence in decode
  uint64_t kv_len;
  arch::DType dtype;

  uint64_t tokens() const { return batch * q_len; }
};

std::optional<Shard> shard_of(const Measurement& row) {
  if (!contains(row.workload, "GPT-3 175B")) return std::nullopt;
  const auto gpus = gpus_in(row.hardware);
  const auto batch = number_after(row.settings, "batch ");
  if (!gpus || *gpus == 0 || !batch) return std::nullopt;
  workloads::ModelConfig model;
  try {
    model = workloads::tensor_parallel_shard(workloads::model_preset("gpt3-175b"), *gpus);
  } catch (const workloads::InputError&) {
    return std::nullopt;  // a GPU count that does not divide the layer
  }
  Shard shard{model.hidden_size,
              model.num_attention_heads,
              model.head_dim,
              model.intermediate_size,
              *gpus,
              *batch,
              0,
              0,
              // LLMCompass's runner builds fp16 tensors (test_transformer.py); its decode rows say
              // only "same layer".
              row_dtype(row).value_or(arch::DType::Fp16)};
  if (contains(row.workload, "prefill")) {
    const auto seq = number_after(row.settings, "seq ");
    if (!seq) return std::nullopt;
    shard.q_len = shard.kv_len = *seq;
  } else if (contains(row.workload, "decode")) {
    const auto prompt = number_after(row.settings, "KV length "), generated = number_after(row.settings, "+");
    if (!prompt || !generated) return std::nullopt;
    shard.q_len = 1;
    shard.kv_len = *prompt + *generated + 1;  // the cache, and the new token's own key
  } else {
    return std::nullopt;
  }
  return shard;
}

// The operator's kernel alone.
Prediction kernel(Hardware& hardware, const Shard& s, const std::string& op) {
  const uint64_t instances = s.batch * s.heads;
  if (op == "Q_K_V") return predict_gemm(hardware, s.tokens(), s.hidden / s.gpus, s.hidden, s.dtype);  // one of three
  if (op == "Wo_proj") return predict_gemm(hardware, s.tokens(), s.hidden, s.hidden / s.gpus, s.dtype);
  if (op == "W1_proj") return predict_gemm(hardware, s.tokens(), s.ffn, s.hidden, s.dtype);
  if (op == "W2_proj") return predict_gemm(hardware, s.tokens(), s.hidden, s.ffn, s.dtype);
  if (op == "Q_mul_K") {
    const Op scores("Q_mul_K", OpKind::BatchedMatmul,
                    workloads::BatchedMatmulShape{instances, s.q_len, s.kv_len, s.head_dim});
    return predict_kernel(hardware, scores, s.dtype);
  }
  if (op == "A_mul_V") {
    const Op context("A_mul_V", OpKind::BatchedMatmul,
                     workloads::BatchedMatmulShape{instances, s.q_len, s.head_dim, s.kv_len});
    return predict_kernel(hardware, context, s.dtype);
  }
  if (op == "Softmax") {
    const Op softmax(op, OpKind::Softmax, workloads::SoftmaxShape{instances * s.q_len, s.kv_len, false});
    return predict_kernel(hardware, softmax, s.dtype);
  }
  if (op == "LayerNorm_MHA" || op == "LayerNorm_FFN") {
    return predict_kernel(hardware, Op(op, OpKind::LayerNorm, workloads::RowsShape{s.tokens(), s.hidden}), s.dtype);
  }
  if (op == "GeLU") {
    return predict_kernel(hardware, Op(op, OpKind::Gelu, workloads::RowsShape{s.tokens(), s.ffn}), s.dtype);
  }
  if (op == "AllReduce_MHA" || op == "AllReduce_FFN") {
    return predict_all_reduce(hardware, s.gpus, static_cast<double>(s.tokens() * s.hidden * arch::bytes_of(s.dtype)));
  }
  return skip("operator '" + op + "' of the layer is not one LLMCompass's runner times");
}

// As timed: with its harness, and Q_K_V as three separate projections.
Prediction timed(Hardware& hardware, const Shard& s, const std::string& op) {
  Prediction p = kernel(hardware, s, op);
  if (!p.skip_reason.empty()) return p;
  if (const auto harness = llmcompass_layer_op_harness(op)) {
    p.seconds = harness->timed_seconds(p.seconds);
    p.model += ", " + harness->name;
  }
  if (op == "Q_K_V") {
    p.seconds *= 3;
    p.model = "3 x " + p.model;
  }
  return p;
}

}  // namespace

Prediction predict_tp_layer_row(Hardware& hardware, const Measurement& row) {
  const std::optional<Shard> shard = shard_of(row);
  if (!shard) return skip("not a GPT-3 175B layer row with Nx GPUs, batch and seq (or KV length)");
  if (contains(row.workload, " total")) {
    static const std::array<const char*, 12> kOps = {"Q_K_V",   "Q_mul_K",       "A_mul_V",       "Wo_proj",
                                                     "W1_proj", "W2_proj",       "Softmax",       "LayerNorm_MHA",
                                                     "LayerNorm_FFN", "GeLU",    "AllReduce_MHA", "AllReduce_FFN"};
    Prediction total{0, "sum of the layer's 12 timed operators on one of " + std::to_string(shard->gpus) + " GPUs", ""};
    for (const char* op : kOps) {
      const Prediction p = timed(hardware, *shard, op);
      if (!p.skip_reason.empty()) return p;
      total.seconds += p.seconds;
    }
    return total;
  }
  const size_t colon = row.workload.rfind(": ");
  if (colon == std::string::npos) return skip("no operator after ': ' in the workload");
  return timed(hardware, *shard, row.workload.substr(colon + 2));
}

}  // namespace tessel::validation
