#include "sim/numerics/op_check_slice.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "sim/numerics/formats.h"

namespace tessel::sim {

std::string dtype_name(arch::DType dtype) { return std::string(arch::to_string(dtype)); }

NumericsReport not_checked(arch::DType dtype, std::string why) {
  NumericsReport report;
  report.dtype = dtype_name(dtype);
  report.reference = std::move(why);
  return report;
}

NumericsReport with_scope(NumericsReport report, const std::string& scope) {
  report.reference = scope + ": " + report.reference;
  return report;
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

std::string range_text(const std::string& units, uint64_t first, uint64_t count, uint64_t total) {
  if (count == total) return "all " + std::to_string(total) + " " + units;
  return units + " " + std::to_string(first) + "-" + std::to_string(first + count - 1) + " of " + std::to_string(total);
}

uint64_t units_within(uint64_t total, UnitCost unit, uint64_t fixed, const OpCheckLimits& limits) {
  if (fixed > limits.max_elements || unit.elements > limits.max_elements - fixed) return 0;
  uint64_t units = std::min(total, (limits.max_elements - fixed) / std::max<uint64_t>(unit.elements, 1));
  if (unit.macs > 0) units = std::min(units, limits.max_macs / unit.macs);
  return units;
}

NumericsReport too_large(arch::DType dtype, const std::string& unit_name, UnitCost unit, uint64_t fixed,
                         const OpCheckLimits& limits) {
  const bool elements = fixed + unit.elements > limits.max_elements;
  return not_checked(dtype, "not checked: one " + unit_name + " needs " +
                                std::to_string(elements ? fixed + unit.elements : unit.macs) +
                                (elements ? " elements" : " MACs (weighted)") + ", over the check's limit of " +
                                std::to_string(elements ? limits.max_elements : limits.max_macs));
}

std::vector<float> InputDraws::normal(uint64_t count, float mean, float stddev) {
  std::normal_distribution<float> distribution(mean, stddev);
  std::vector<float> values(count);
  for (float& value : values) value = round_to_format(distribution(engine_), dtype_);
  return values;
}

std::vector<uint64_t> InputDraws::indices(uint64_t count, uint64_t range) {
  std::uniform_int_distribution<uint64_t> distribution(0, range - 1);
  std::vector<uint64_t> values(count);
  for (uint64_t& value : values) value = distribution(engine_);
  return values;
}

SoftmaxSlice softmax_slice(const workloads::SoftmaxShape& op_shape, UnitCost row, const OpCheckLimits& limits) {
  uint64_t rows = units_within(op_shape.rows, row, 0, limits);
  if (!op_shape.causal) return {0, rows};
  rows = std::min(rows, op_shape.cols);
  return {op_shape.rows - rows, rows};
}

std::string softmax_scope(const workloads::SoftmaxShape& op_shape, const SoftmaxSlice& slice) {
  std::string scope = range_text("rows", slice.first, slice.rows, op_shape.rows);
  if (op_shape.causal) {
    scope +=
        " (causal: the last " + std::to_string(slice.rows) + " queries of " + std::to_string(op_shape.cols) + " keys)";
  }
  return scope;
}

uint64_t attention_block_kv(uint64_t kv_len) { return std::min<uint64_t>(64, arch::ceil_div(kv_len, 4)); }

AttentionSlice attention_slice(const workloads::AttentionShape& op_shape, const OpCheckLimits& limits,
                               GroupCost group_cost) {
  const uint64_t kv_groups = units_within(op_shape.kv_heads, group_cost(op_shape), 0, limits);
  if (kv_groups > 0) return {kv_groups, op_shape.q_len};
  const auto last_queries = [&](uint64_t queries) {
    workloads::AttentionShape slice = op_shape;
    slice.q_len = queries;
    return group_cost(slice);
  };
  return {1, largest_fitting(op_shape.q_len, limits, last_queries)};
}

NumericsReport one_query_too_large(const workloads::AttentionShape& op_shape, arch::DType dtype,
                                   const OpCheckLimits& limits, GroupCost group_cost) {
  workloads::AttentionShape one_query = op_shape;
  one_query.q_len = 1;
  return too_large(dtype, "query of a KV-head group", group_cost(one_query), 0, limits);
}

std::string attention_scope(const workloads::AttentionShape& op_shape, const AttentionSlice& slice) {
  const uint64_t group = op_shape.heads / op_shape.kv_heads;
  std::string scope = "batch entry 0 of " + std::to_string(op_shape.batch) + ", " +
                      range_text("heads", 0, slice.kv_groups * group, op_shape.heads) + " (" +
                      range_text("KV heads", 0, slice.kv_groups, op_shape.kv_heads) + ")";
  if (slice.q_len < op_shape.q_len) {
    scope += ", " + range_text("queries", op_shape.q_len - slice.q_len, slice.q_len, op_shape.q_len) +
             " (the last: an end-aligned causal mask gives them the op's own)";
  }
  return scope;
}

}  // namespace tessel::sim
