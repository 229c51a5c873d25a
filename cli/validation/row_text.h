// Reading a measurement row's free-text columns: the numbers and formats its settings,
// workload and hardware name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "arch/types.h"
#include "cli/validation/measurements.h"

namespace tessel::validation {

bool contains(const std::string& text, const std::string& part);

// The whole number after `name=` where `name` starts a word ("M=64 N=128", "TP=1").
std::optional<uint64_t> setting(const std::string& text, const std::string& name);

// The word (letters, digits, hyphens, underscores) after `name=` where `name` starts a word
// ("algorithm=ring").
std::optional<std::string> word_setting(const std::string& text, const std::string& name);

// The whole number right after `words` ("batch 8", "seq 2048").
std::optional<uint64_t> number_after(const std::string& text, const std::string& words);

// fp16 or bf16, from the workload and settings.
std::optional<arch::DType> row_dtype(const Measurement& row);

// GPUs in a node, from a hardware name such as "4x A100-SXM4-80GB (NVLink/NVSwitch node)".
std::optional<uint32_t> gpus_in(const std::string& hardware);

}  // namespace tessel::validation
