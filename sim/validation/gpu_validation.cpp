#include "sim/validation/gpu_validation.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "arch/gpu/collective_timing.h"
#include "mapper/gpu_mapper.h"
#include "mapper/gpu_streaming_op.h"
#include "sim/gpu_gemm_engine.h"
#include "sim/gpu_model_run.h"
#include "sim/validation/timing_harness.h"
#include "workloads/op.h"

namespace tessel::sim::validation {

namespace {

using workloads::Op;
using workloads::OpKind;

// A prediction, or the reason a row cannot be predicted.
struct Prediction {
  double seconds = 0;
  std::string model;
  std::string skip_reason;
};

Prediction skip(std::string reason) { return {0, "", std::move(reason)}; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The whole number after `name=` where `name` starts a word ("M=64 N=128", "TP=1").
std::optional<uint64_t> setting(const std::string& text, const std::string& name) {
  const std::string key = name + "=";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_')) continue;
    size_t end = at + key.size();
    uint64_t value = 0;
    bool digits = false;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) {
      value = value * 10 + static_cast<uint64_t>(text[end++] - '0');
      digits = true;
    }
    if (digits) return value;
  }
  return std::nullopt;
}

std::optional<arch::DType> row_dtype(const Measurement& row) {
  const std::string text = row.workload + " " + row.settings;
  if (contains(text, "bfloat16") || contains(text, "bf16")) return arch::DType::Bf16;
  if (contains(text, "fp16")) return arch::DType::Fp16;
  return std::nullopt;
}

Prediction gemm(const arch::GpuSpec& spec, uint64_t m, uint64_t n, uint64_t k, arch::DType dtype) {
  if (!spec.tensor_macs_per_cycle_per_sm(dtype)) {
    return skip(std::string(arch::to_string(dtype)) + " not on this GPU's tensor cores");
  }
  const mapper::GpuGemmPlan plan = mapper::map_gpu_gemm(spec, {m, n, k, dtype});
  const GpuGemmRun run = simulate_gpu_gemm(spec, plan);
  std::ostringstream model;
  model << "gemm " << m << "x" << n << "x" << k << " " << arch::to_string(dtype) << ", tile " << plan.tile.m << "x"
        << plan.tile.n << "x" << plan.tile.k << "/" << plan.tile.stages << ", split-K " << plan.split_k << ", "
        << plan.waves << " wave(s)";
  return {run.seconds, model.str(), ""};
}

Prediction streaming(const arch::GpuSpec& spec, const Op& op, arch::DType dtype) {
  return {mapper::gpu_streaming_op_cycles(spec, op, dtype) / spec.clock_hz,
          workloads::kind_name(op.kind) + " " + op.shape_text() + " " + std::string(arch::to_string(dtype)), ""};
}

Prediction predict_gemm_row(const arch::GpuSpec& spec, const Measurement& row) {
  const auto m = setting(row.settings, "M"), n = setting(row.settings, "N"), k = setting(row.settings, "K");
  const auto dtype = row_dtype(row);
  if (!m || !n || !k || !dtype) return skip("no M, N, K and fp16/bf16 in settings/workload");
  return gemm(spec, *m, *n, *k, *dtype);
}

Prediction predict_vector_row(const arch::GpuSpec& spec, const Measurement& row) {
  const auto dtype = row_dtype(row);
  if (!dtype) return skip("no fp16/bf16 in the workload");
  const auto rows = setting(row.settings, "M"), cols = setting(row.settings, "N");
  if (contains(row.workload, "softmax") && rows && cols) {
    return streaming(spec, Op("softmax", OpKind::Softmax, workloads::SoftmaxShape{*rows, *cols, false}), *dtype);
  }
  if (contains(row.workload, "layernorm") && rows && cols) {
    return streaming(spec, Op("layernorm", OpKind::LayerNorm, workloads::RowsShape{*rows, *cols}), *dtype);
  }
  if ((contains(row.workload, "GeLU") || contains(row.workload, "GELU")) && cols) {
    return streaming(spec, Op("gelu", OpKind::Gelu, workloads::RowsShape{1, *cols}), *dtype);
  }
  return skip("not a softmax, layernorm or GELU with its sizes");
}

// A Llama layer's operator as the Vidur profiler timed it on one tensor-parallel shard.
Prediction predict_layer_op_row(const arch::GpuSpec& spec, const Measurement& row) {
  const auto tokens = setting(row.settings, "num_tokens"), tp = setting(row.settings, "TP");
  const auto embd = setting(row.settings, "n_embd"), heads = setting(row.settings, "n_head");
  const auto kv_heads = setting(row.settings, "n_kv_head"), ffn = setting(row.settings, "ffn");
  const auto dtype = row_dtype(row);
  if (!tokens || !tp || !embd || !heads || !kv_heads || !ffn || !dtype) {
    return skip("not a per-operator row with num_tokens, TP, n_embd, n_head, n_kv_head, ffn and a dtype");
  }
  const uint64_t head_dim = *embd / *heads;
  const uint64_t up = contains(row.settings, "gated_mlp=True") ? 2 : 1;
  if (contains(row.workload, "attn_pre_proj")) return gemm(spec, *tokens, (*heads + 2 * *kv_heads) * head_dim / *tp, *embd, *dtype);
  if (contains(row.workload, "attn_post_proj")) return gemm(spec, *tokens, *embd, *heads * head_dim / *tp, *dtype);
  if (contains(row.workload, "mlp_up_proj")) return gemm(spec, *tokens, up * *ffn / *tp, *embd, *dtype);
  if (contains(row.workload, "mlp_down_proj")) return gemm(spec, *tokens, *embd, *ffn / *tp, *dtype);
  if (contains(row.workload, "mlp_act")) {
    return streaming(spec, Op("mlp_act", OpKind::SiluMul, workloads::RowsShape{*tokens, *ffn / *tp}), *dtype);
  }
  if (contains(row.workload, "input_layernorm")) {
    return streaming(spec, Op("input_layernorm", OpKind::RmsNorm, workloads::RowsShape{*tokens, *embd}), *dtype);
  }
  if (contains(row.workload, "attn_rope")) {
    const workloads::RopeShape shape{*tokens, (*heads + *kv_heads) / *tp, head_dim};
    return streaming(spec, Op("attn_rope", OpKind::Rope, shape), *dtype);
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
Prediction predict_attention_row(const arch::GpuSpec& spec, const Measurement& row) {
  const auto dtype = row_dtype(row);
  const auto batch = setting(row.settings, "batch"), tokens = setting(row.settings, "isl");
  const auto heads = setting(row.settings, "q_heads"), kv_heads = setting(row.settings, "kv_heads");
  const auto head_dim = setting(row.settings, "head_dim");
  if (!dtype || !batch || !tokens || !heads || !kv_heads || !head_dim) {
    return skip("no batch, isl, q_heads, kv_heads, head_dim and fp16/bf16");
  }
  const Op op("attention", OpKind::Attention,
              workloads::AttentionShape{*batch, *heads, *kv_heads, *tokens, *tokens, *head_dim, true, 0});
  ModelRunOptions options;
  options.gemm.dtype = *dtype;
  options.gemm.check = CheckMode::Never;
  const OpResult result = run_gpu_op(spec, op, options);
  return {static_cast<double>(result.cycles) / spec.clock_hz,
          "fused attention " + op.shape_text() + ", " + result.mapping, ""};
}

// GPUs in a node, from a hardware name such as "4x A100-SXM4-80GB (NVLink/NVSwitch node)".
std::optional<uint32_t> gpus_in(const std::string& hardware) {
  size_t digits = 0;
  while (digits < hardware.size() && std::isdigit(static_cast<unsigned char>(hardware[digits]))) ++digits;
  if (digits == 0 || hardware.compare(digits, 2, "x ") != 0) return std::nullopt;
  return static_cast<uint32_t>(std::stoul(hardware.substr(0, digits)));
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
// of the node.
Prediction predict_collective_row(const arch::GpuSpec& spec, const Measurement& row) {
  if (!contains(row.workload, "all_reduce")) return skip("only all-reduce is modelled among collectives");
  const auto gpus = gpus_in(row.hardware);
  const auto elements = setting(row.settings, "message_size");
  const auto element_bytes = collective_element_bytes(row.settings);
  if (!gpus || !elements || !element_bytes) return skip("no 'Nx' GPUs in hardware, message_size and dtype in settings");
  if (!spec.nvlink) return skip(spec.name + " has no nvlink section");
  const double bytes = static_cast<double>(*elements) * *element_bytes;
  std::ostringstream model;
  model << "ring all-reduce of " << bytes / 1e6 << " MB on " << *gpus << " GPUs";
  return {arch::gpu::all_reduce_seconds(spec, *gpus, bytes), model.str(), ""};
}

Prediction predict(const arch::GpuSpec& spec, const Measurement& row) {
  if (row.category == "GEMM") return predict_gemm_row(spec, row);
  if (row.category == "attention-prefill") return predict_attention_row(spec, row);
  if (row.category == "vector-op") return predict_vector_row(spec, row);
  if (row.category == "transformer-layer-op") {
    if (contains(row.hardware, "4x")) return skip("measured on several GPUs: collectives are not modelled");
    return predict_layer_op_row(spec, row);
  }
  if (row.category == "collective") return predict_collective_row(spec, row);
  return skip("category not modelled on GPUs yet");
}

}  // namespace

ValidationResult validate_gpu(const arch::GpuSpec& spec, const std::vector<Measurement>& rows,
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
    const Prediction prediction = predict(spec, row);
    if (!prediction.skip_reason.empty()) {
      result.skipped.push_back({row.id, row.category, prediction.skip_reason});
      continue;
    }
    const std::optional<TimingHarness> harness = timing_harness(row);
    const double seconds = harness ? harness->timed_seconds(prediction.seconds) : prediction.seconds;
    result.cases.push_back({row.id, row.category, prediction.model + (harness ? ", " + harness->name : ""),
                            seconds * 1e3, *measured});
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

}  // namespace tessel::sim::validation
