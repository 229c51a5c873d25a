// Predicts, on any device, the measurements of real hardware it can reproduce: GEMM rows, fused
// context attention, vector-op rows (softmax, layernorm, GELU), NCCL all-reduces, the
// per-operator rows of Llama layers (linears as GEMMs, norms, activation and RoPE as streaming
// kernels) and LLMCompass's tensor-parallel GPT-3 layer (tp_layer_rows.h). Every other row is skipped with its reason.
// Rows timed on the host around one call get that harness's host time (timing_harness.h).
#pragma once

#include <string>
#include <vector>

#include "cli/validation/measurements.h"
#include "cli/validation/prediction.h"

namespace tessel::validation {

struct ValidationOptions {
  std::string category;  // only rows of this category; empty: every row
  std::string hardware;  // only rows whose hardware contains this; empty: every row
};

struct CaseResult {
  std::string id;
  std::string category;
  std::string model;  // what was predicted, e.g. "gemm 64x12288x12288 bf16, tile 128x128x32/4, split-K 3"
  double predicted_ms;
  double measured_ms;

  double error_percent() const { return 100.0 * (predicted_ms - measured_ms) / measured_ms; }
};

struct SkippedRow {
  std::string id;
  std::string category;
  std::string reason;
};

struct ValidationResult {
  std::vector<CaseResult> cases;
  std::vector<SkippedRow> skipped;
};

ValidationResult validate(Hardware& hardware, const std::vector<Measurement>& rows,
                              const ValidationOptions& options);

struct CategoryError {
  std::string category;
  size_t cases;
  double mape_percent;  // mean of |error|
};

// In order of first appearance.
std::vector<CategoryError> mape_by_category(const std::vector<CaseResult>& cases);

}  // namespace tessel::validation
