#include "cli/validation/gpu_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "cli/validation/prediction.h"
#include "cli/validation/row_text.h"
#include "cli/validation/timing_harness.h"
#include "cli/validation/tp_layer_rows.h"
#include "workloads/op.h"

namespace tessel::validation {

namespace {

using workloads::Op;
using workloads::OpKind;

Prediction predict_gemm_row(Hardware& hardware, const Measurement& row) {
  const auto m = setting(row.settings, "M"), n = setting(row.settings, "N"), k = setting(row.settings, "K");
  const auto dtype = row_dtype(row);
  if (!m || !n || !k || !dtype) return skip("no M, N, K and fp16/bf16 in settings/workload");
  return predict_gemm(hardware, *m, *n, *k, *dtype);
}

Prediction predict_vector_row(Hardware& hardware, const Measurement& row) {
  const auto dtype = row_dtype(row);
  if (!dtype) return skip("no fp16/bf16 in the workload");
  const auto rows = setting(row.settings, "M"), cols = setting(row.settings, "N");
  if (contains(row.workload, "softmax") && rows && cols) {
    const Op op("softmax", OpKind::Softmax, workloads::SoftmaxShape{*rows, *cols, false});
    return predict_kernel(hardware, op, *dtype);
  }
  if (contains(row.workload, "layernorm") && rows && cols) {
    return predict_kernel(hardware, Op("layernorm", OpKind::LayerNorm, workloads::RowsShape{*rows, *cols}), *dtype);
  }
  if ((contains(row.workload, "GeLU") || contains(row.workload, "GELU")) && cols) {
    return predict_kernel(hardware, Op("gelu", OpKind::Gelu, workloads::RowsShape{1, *cols}), *dtype);
  }
  return skip("not a softmax, layernorm or GELU with its sizes");
}

// A Llama layer's operator as the Vidur profiler timed it on one tensor-parallel shard.
Prediction predict_layer_op_row(Hardware& hardware, const Measurement& row) {
  const auto tokens = setting(row.settings, "num_tokens"), tp = setting(row.settings, "TP");
  const auto embd = setting(row.settings, "n_embd"), heads = setting(row.settings, "n_head");
  const auto kv_heads = setting(row.settings, "n_kv_head"), ffn = setting(row.settings, "ffn");
  const auto dtype = row_dtype(row);
  if (!tokens || !tp || !embd || !heads || !kv_heads || !ffn || !dtype) {
    return skip("not a per-operator row with num_tokens, TP, n_embd, n_head, n_kv_head, ffn and a dtype");
  }
  const uint64_t head_dim = *embd / *heads;
  const uint64_t up = contains(row.settings, "gated_mlp=True") ? 2 : 1;
  if (contains(row.workload, "attn_pre_proj")) {
    return predict_gemm(hardware, *tokens, (*heads + 2 * *kv_heads) * head_dim / *tp, *embd, *dtype);
  }
  if (contains(row.workload, "attn_post_proj")) {
    return predict_gemm(hardware, *tokens, *embd, *heads * head_dim / *tp, *dtype);
  }
  if (contains(row.workload, "mlp_up_proj")) return predict_gemm(hardware, *tokens, up * *ffn / *tp, *embd, *dtype);
  if (contains(row.workload, "mlp_down_proj")) return predict_gemm(hardware, *tokens, *embd, *ffn / *tp, *dtype);
  if (contains(row.workload, "mlp_act")) {
    return predict_kernel(hardware, Op("mlp_act", OpKind::SiluMul, workloads::RowsShape{*tokens, *ffn / *tp}), *dtype);
  }
  if (contains(row.workload, "input_layernorm")) {
    const Op op("input_layernorm", OpKind::RmsNorm, workloads::RowsShape{*tokens, *embd});
    return predict_kernel(hardware, op, *dtype);
  }
  if (contains(row.workload, "attn_rope")) {
    const workloads::RopeShape shape{*tokens, (*heads + *kv_heads) / *tp, head_dim};
    return predict_kernel(hardware, Op("attn_rope", OpKind::Rope, shape), *dtype);
  }
  return skip("an operator the GPU model does not cover yet");
}

// The measured latency in ms, or nothing when the row's unit is not one.
std::optional<double> measured_ms(const Measurement& row) {
  if (row.unit == "ms") return row.value;
  if (contains(row.unit, "Gelem/s")) {  // throughput of M*N (or N) elements
    const auto rows = setting(row.settings, "M"), cols = setting(row.settings, "N");
    if (!cols || row.value <= 0) return std::nullopt;
    return static_cast<double>(rows.value_or(1) * *cols) / (row.value * 1e9) * 1e3;
  }
  return std::nullopt;
}

// TRT-LLM's fused causal context attention: batch, isl (the prompt), q_heads, kv_heads and
// head_dim in the settings.
Prediction predict_attention_row(Hardware& hardware, const Measurement& row) {
  const auto dtype = row_dtype(row);
  const auto batch = setting(row.settings, "batch"), tokens = setting(row.settings, "isl");
  const auto heads = setting(row.settings, "q_heads"), kv_heads = setting(row.settings, "kv_heads");
  const auto head_dim = setting(row.settings, "head_dim");
  if (!dtype || !batch || !tokens || !heads || !kv_heads || !head_dim) {
    return skip("no batch, isl, q_heads, kv_heads, head_dim and fp16/bf16");
  }
  const Op op("attention", OpKind::Attention,
              workloads::AttentionShape{*batch, *heads, *kv_heads, *tokens, *tokens, *head_dim, true, 0});
  return predict_kernel(hardware, op, *dtype);
}

// Bytes of one element of a collective's `dtype=` setting.
std::optional<double> collective_element_bytes(const std::string& settings) {
  for (const auto& [name, bytes] : {std::pair{"dtype=half", 2.0}, {"dtype=bfloat16", 2.0}, {"dtype=int8", 1.0},
                                     {"dtype=float", 4.0}, {"dtype=fp8", 1.0}}) {
    const size_t at = settings.find(name);
    const size_t end = at + std::string(name).size();
    if (at != std::string::npos && (end == settings.size() || settings[end] == ' ')) return bytes;
  }
  return std::nullopt;
}

// NCCL's all-reduce of message_size elements (aiconfigurator's nccl_perf schema) on every GPU
// of the node, by the algorithm NCCL would pick or the one `algorithm=` names (ring, tree,
// in-switch, ...).
Prediction predict_collective_row(Hardware& hardware, const Measurement& row) {
  if (!contains(row.workload, "all_reduce")) return skip("only all-reduce is modelled among collectives");
  const auto gpus = gpus_in(row.hardware);
  const auto elements = setting(row.settings, "message_size");
  const auto element_bytes = collective_element_bytes(row.settings);
  if (!gpus || !elements || !element_bytes) return skip("no 'Nx' GPUs in hardware, message_size and dtype in settings");
  std::optional<arch::CollectiveAlgorithm> pinned;
  if (const auto algorithm = word_setting(row.settings, "algorithm")) {
    pinned = arch::parse_collective_algorithm(*algorithm);
    if (!pinned) return skip("unknown algorithm '" + *algorithm + "' in settings");
  }
  return predict_all_reduce(hardware, *gpus, static_cast<double>(*elements) * *element_bytes, pinned);
}

Prediction predict(Hardware& hardware, const Measurement& row) {
  if (row.category == "GEMM") return predict_gemm_row(hardware, row);
  if (row.category == "attention-prefill") return predict_attention_row(hardware, row);
  if (row.category == "vector-op") return predict_vector_row(hardware, row);
  if (contains(row.source, "ae/figure5/ijkl/")) return predict_tp_layer_row(hardware, row);
  if (row.category == "transformer-layer-op") return predict_layer_op_row(hardware, row);
  if (row.category == "collective") return predict_collective_row(hardware, row);
  return skip("category not modelled yet");
}

}  // namespace

ValidationResult validate(Hardware& hardware, const std::vector<Measurement>& rows,
                              const ValidationOptions& options) {
  ValidationResult result;
  for (const Measurement& row : rows) {
    if (!options.category.empty() && row.category != options.category) continue;
    if (!options.hardware.empty() && !contains(row.hardware, options.hardware)) {
      result.skipped.push_back({row.id, row.category, "measured on " + row.hardware});
      continue;
    }
    const std::optional<double> measured = measured_ms(row);
    if (!measured) {
      result.skipped.push_back({row.id, row.category, "unit '" + row.unit + "' is not a latency"});
      continue;
    }
    const Prediction prediction = predict(hardware, row);
    if (!prediction.skip_reason.empty()) {
      result.skipped.push_back({row.id, row.category, prediction.skip_reason});
      continue;
    }
    const std::optional<TimingHarness> harness = timing_harness(row);
    double seconds = harness ? harness->timed_seconds(prediction.seconds) : prediction.seconds;
    std::string model = prediction.model + (harness ? ", " + harness->name : "");
    const std::optional<double> launch_gap = hardware.device->facts().launch_gap_s;
    if (launch_gap && profiler_timed(row)) {
      seconds -= *launch_gap;
      model += ", profiler-timed (no launch gap)";
    }
    result.cases.push_back({row.id, row.category, model, seconds * 1e3, *measured});
  }
  return result;
}

std::vector<CategoryError> mape_by_category(const std::vector<CaseResult>& cases) {
  std::vector<CategoryError> categories;
  for (const CaseResult& c : cases) {
    auto it = std::find_if(categories.begin(), categories.end(),
                           [&](const CategoryError& e) { return e.category == c.category; });
    if (it == categories.end()) it = categories.insert(categories.end(), {c.category, 0, 0.0});
    it->mape_percent = (it->mape_percent * static_cast<double>(it->cases) + std::fabs(c.error_percent())) /
                       static_cast<double>(it->cases + 1);
    ++it->cases;
  }
  return categories;
}

}  // namespace tessel::validation
