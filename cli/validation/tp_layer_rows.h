// LLMCompass's tensor-parallel transformer layer (ae/figure5/ijkl): one GPT-3 175B layer split
// over the GPUs of a node as Megatron splits it (each GPU its share of the heads and of the
// FFN's columns, then rows), each operator of one GPU's shard timed alone on one GPU, and the
// all-reduce that sums the shards' outputs after attention and after the FFN. Rows name the
// operator after the phase ("GPT-3 175B layer prefill: Q_K_V", "... decode: Softmax", "...
// prefill total") and give the sizes in words (batch 8, seq 2048; KV length 2048+1024).
#pragma once

#include "cli/validation/prediction.h"
#include "cli/validation/measurements.h"
#include "cli/validation/prediction.h"

namespace tessel::validation {

// Each operator with the harness LLMCompass timed it with (timing_harness.h); "total" is the
// sum of the layer's twelve timings as the runner adds them.
Prediction predict_tp_layer_row(Hardware& hardware, const Measurement& row);

}  // namespace tessel::validation
