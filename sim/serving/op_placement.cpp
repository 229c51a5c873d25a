#include "sim/serving/op_placement.h"

#include <fnmatch.h>

#include <algorithm>

#include "workloads/input_error.h"

namespace tessel::sim {

namespace {

using workloads::Op;
using workloads::OpKind;

bool matches(const std::string& pattern, const Op& op) {
  return pattern == workloads::kind_name(op.kind) || fnmatch(pattern.c_str(), op.name.c_str(), 0) == 0;
}

bool touches_kv_cache(const Op& op) {
  return op.kind == OpKind::KvCacheAppend || op.kind == OpKind::KvCacheRead || op.kind == OpKind::Attention;
}

}  // namespace

OpPlacement::OpPlacement(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
  if (patterns_.empty()) patterns_ = {"Rope", "KvCacheAppend", "KvCacheRead", "Attention"};
}

bool OpPlacement::apart(const Op& op) const {
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const std::string& p) { return matches(p, op); });
}

void OpPlacement::check(const workloads::OpGraph& graph) const {
  for (const std::string& pattern : patterns_) {
    bool found = false;
    graph.for_each_op([&](const Op& op, uint64_t) { found = found || matches(pattern, op); });
    if (!found) {
      throw workloads::InputError("placement: '" + pattern + "' names no op kind and matches no op name of " +
                                  graph.name + " (kinds such as Attention, names such as attn.*)");
    }
  }
  graph.for_each_op([&](const Op& op, uint64_t) {
    if (touches_kv_cache(op) && !apart(op)) {
      throw workloads::InputError("placement: op '" + op.name + "' (" + workloads::kind_name(op.kind) +
                                  ") touches the KV cache, which the paired devices hold: place it with them");
    }
  });
}

}  // namespace tessel::sim
