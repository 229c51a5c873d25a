// Which ops of a served model run on the paired devices when some run apart from the rest
// (sim/serving/serve.h, AttentionPool): each pattern names an op kind ("Attention") or is a glob
// of op names ("attn.*", "mlp.down_proj"). The ops that touch the KV cache must be among them:
// the paired devices hold the cache.
#pragma once

#include <string>
#include <vector>

#include "workloads/op.h"
#include "workloads/op_graph.h"

namespace tessel::sim {

class OpPlacement {
 public:
  // Empty: the ops that touch the KV cache and the RoPE before them (Rope, KvCacheAppend,
  // KvCacheRead, Attention).
  explicit OpPlacement(std::vector<std::string> patterns = {});

  bool apart(const workloads::Op& op) const;
  const std::vector<std::string>& patterns() const { return patterns_; }

  // Throws workloads::InputError naming the pattern that matches no op of `graph` (a decode
  // step: every op a served step has), or the op touching the KV cache that would stay behind.
  void check(const workloads::OpGraph& graph) const;

 private:
  std::vector<std::string> patterns_;
};

}  // namespace tessel::sim
