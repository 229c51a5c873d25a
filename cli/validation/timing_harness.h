// How a measured row was timed, where the timing adds host time the GPU never spends. A row
// timed with a host clock around one Python call and a CUDA synchronisation measures the
// call's dispatch, the kernel and the return; a model of the GPU predicts only the kernel.
// These are properties of the measurement, not of the hardware: they are applied only to
// rows known to be timed so, and never enter a prediction of the GPU itself.
#pragma once

#include <algorithm>
#include <optional>
#include <string>

#include "cli/validation/measurements.h"

namespace tessel::validation {

struct TimingHarness {
  std::string name;        // e.g. "host-timed torch.compile call"
  double before_kernel_s;  // host time spent before the kernel starts, never hidden by it
  double floor_s;          // what a call takes when its kernel is negligible

  // The host work after the launch (floor_s - before_kernel_s) runs while the kernel does.
  double timed_seconds(double kernel_s) const { return std::max(floor_s, before_kernel_s + kernel_s); }
};

// The harness that timed `row`, or nothing when the row times the kernel alone (or, as
// LLMCompass's transformer-layer rows, times several kernels each its own way).
std::optional<TimingHarness> timing_harness(const Measurement& row);

// Whether `row` is a kernel's span in a profiler trace (CUPTI, PyTorch's kineto: DeepGEMM's
// bench_kineto): the kernel alone, without the gap from one launch to the next that a GPU's
// kernel time in tessel includes (DeviceFacts::launch_gap_s).
bool profiler_timed(const Measurement& row);

// How LLMCompass's transformer-layer runner (ae/figure5/ijkl, software_model/transformer.py)
// timed the operator it names `op` ("Q_K_V", "Softmax", "LayerNorm_MHA", ...): with the harness
// of its operator sweeps. Nothing for the all-reduces, which that runner does not time.
std::optional<TimingHarness> llmcompass_layer_op_harness(const std::string& op);

}  // namespace tessel::validation
