// What an operator other than a product asks of a vector unit (Op::vector_work): for each kind
// the elementary operations of a straightforward kernel, per element and per row, and how many
// times it sweeps the data.
#pragma once

#include <optional>

#include "workloads/op.h"

namespace tessel::workloads {

// None for the kinds a vector unit does not run (products, the KV cache, collectives, sends).
std::optional<VectorWork> vector_work_of(const Op& op);

}  // namespace tessel::workloads
