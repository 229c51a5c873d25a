// How a GPU's and a CPU's `tessel map` reports end: the runners-up a line each and the JSON of
// the GEMM, the device, the plan chosen and the alternatives.
#pragma once

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "sim/device.h"

namespace tessel::sim {

// `out` holds the report's text so far; `plans` are ranked, the first chosen; `to_json` writes
// one plan; the top `top` runners-up are listed.
template <typename Plan, typename ToJson>
Device::MappingReport finish_plan_report(std::ostringstream& out, const std::vector<Plan>& plans, size_t top,
                                         const DeviceFacts& facts, const workloads::Gemm& gemm, arch::DType dtype,
                                         const ToJson& to_json) {
  const size_t shown = std::min(top, plans.size() - 1);
  if (shown > 0) out << "runners-up:\n";
  nlohmann::json alternatives = nlohmann::json::array();
  for (size_t i = 1; i <= shown; ++i) {
    out << "  " << i + 1 << ". " << std::setprecision(3) << std::fixed << plans[i].cycles / facts.clock_hz * 1e6
        << " us: " << plans[i].describe() << "\n";
    alternatives.push_back(to_json(plans[i]));
  }
  const nlohmann::json json = {{"gemm", {{"name", gemm.name}, {"M", gemm.m}, {"N", gemm.n}, {"K", gemm.k}}},
                               {"arch", facts.name},
                               {"arch_file", facts.source_file},
                               {"dtype", std::string(arch::to_string(dtype))},
                               {"objective", "latency"},
                               {"plan", to_json(plans.front())},
                               {"considered", plans.size()},
                               {"alternatives", alternatives}};
  return {out.str(), json};
}

}  // namespace tessel::sim
