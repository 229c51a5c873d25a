// The pieces check_op's kinds share to check an operator on a slice: what one unit of a slice
// costs and how many fit the limits, the report of an op left unchecked, the scope line that
// says what was checked, and the inputs drawn in the check's format.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "arch/types.h"
#include "sim/numerics/gemm_check.h"
#include "sim/numerics/op_check.h"
#include "workloads/op.h"

namespace tessel::sim {

std::string dtype_name(arch::DType dtype);

// checked = false, with `why` as the reference line.
NumericsReport not_checked(arch::DType dtype, std::string why);

// Prefixes the reference line with what was checked: "<scope>: <reference>".
NumericsReport with_scope(NumericsReport report, const std::string& scope);

// %.3g.
std::string number_text(double value);

// "rows 0-15 of 4096", or "all 16 rows" when the slice is the whole.
std::string range_text(const std::string& units, uint64_t first, uint64_t count, uint64_t total);

// What one unit of a slice (a row, a batch entry, a KV-head group) costs the check.
struct UnitCost {
  uint64_t elements;
  uint64_t macs = 0;  // weighted as OpCheckLimits::max_macs says
};

// How many of `total` units fit in the limits beside `fixed` elements every slice needs;
// 0 when not even one does.
uint64_t units_within(uint64_t total, UnitCost unit, uint64_t fixed, const OpCheckLimits& limits);

// The report of an op whose single unit already exceeds a limit.
NumericsReport too_large(arch::DType dtype, const std::string& unit_name, UnitCost unit, uint64_t fixed,
                         const OpCheckLimits& limits);

// The largest n <= most for which one unit of cost(n) fits in the limits, by bisection (a cost
// grows with n); 0 when not even n = 1 does.
template <typename Cost>
uint64_t largest_fitting(uint64_t most, const OpCheckLimits& limits, Cost cost) {
  uint64_t low = 0, high = most;
  while (low < high) {
    const uint64_t mid = (low + high + 1) / 2;
    if (units_within(1, cost(mid), 0, limits) == 1) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

// Normal draws rounded to the check's format: the inputs the datapath would read.
class InputDraws {
 public:
  InputDraws(uint64_t seed, arch::DType dtype) : engine_(seed), dtype_(dtype) {}

  std::vector<float> normal(uint64_t count, float mean, float stddev);
  // Uniform integers in [0, range), such as token ids.
  std::vector<uint64_t> indices(uint64_t count, uint64_t range);

 private:
  std::mt19937_64 engine_;
  arch::DType dtype_;
};

// The spread of the attention logits a softmax check draws (normal, stddev 3): rows get a few
// dominant entries and tails that underflow in fp16 and fp8, which a spread of 1 would not test.
inline constexpr float kScoreSpread = 3.0f;

// The rows of a softmax a check takes: the leading ones that fit, or for a causal mask the
// last ones, at most cols of them. The causal mask is aligned to the end: row i of r rows sees
// cols - r + i + 1 keys, so r of the op's rows keep their own masks as a problem of r rows
// only if they are its last r. An op of more rows than keys stacks one masked matrix per
// sequence and head, whose query count the shape does not give; its last r <= cols rows are
// checked as the last r queries of one matrix, which they are whenever matrices have r
// queries or more. rows = 0 when not even one row fits.
struct SoftmaxSlice {
  uint64_t first;
  uint64_t rows;
};
SoftmaxSlice softmax_slice(const workloads::SoftmaxShape& op_shape, UnitCost row, const OpCheckLimits& limits);

// "rows 48-63 of 64 (causal: the last 16 queries of 64 keys)".
std::string softmax_scope(const workloads::SoftmaxShape& op_shape, const SoftmaxSlice& slice);

// 64 keys per tile, as flash kernels commonly use; a quarter of the keys when there are
// fewer than 256, so that short sequences still take several tiles and their rescaling.
uint64_t attention_block_kv(uint64_t kv_len);

// What checking one KV-head group of an attention shape costs.
using GroupCost = UnitCost (*)(const workloads::AttentionShape&);

// The part of an attention op a check takes: one batch entry, its leading kv_groups whole
// KV-head groups and their last q_len queries (all of them unless not even one group fits).
// Leading whole groups are an attention of their own (query head h still reads KV head
// h / group), and so are a group's last queries: the end-aligned causal mask gives them the
// keys they see in the op. q_len = 0 when not even one query of a group fits.
struct AttentionSlice {
  uint64_t kv_groups;
  uint64_t q_len;
};
AttentionSlice attention_slice(const workloads::AttentionShape& op_shape, const OpCheckLimits& limits,
                               GroupCost group_cost);

// The report when attention_slice finds not even one query affordable.
NumericsReport one_query_too_large(const workloads::AttentionShape& op_shape, arch::DType dtype,
                                   const OpCheckLimits& limits, GroupCost group_cost);

// "batch entry 0 of 2, heads 0-3 of 8 (KV heads 0-0 of 2)", and the queries when not all.
std::string attention_scope(const workloads::AttentionShape& op_shape, const AttentionSlice& slice);

}  // namespace tessel::sim
