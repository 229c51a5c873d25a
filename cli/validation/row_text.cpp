#include "cli/validation/row_text.h"

#include <cctype>

namespace tessel::validation {

namespace {

std::optional<uint64_t> digits_at(const std::string& text, size_t at) {
  uint64_t value = 0;
  bool digits = false;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
    value = value * 10 + static_cast<uint64_t>(text[at++] - '0');
    digits = true;
  }
  if (!digits) return std::nullopt;
  return value;
}

// Where the value of the first `name=` at or after `from` that starts a word begins; npos when
// there is none.
size_t value_at(const std::string& text, const std::string& name, size_t from) {
  const std::string key = name + "=";
  for (size_t at = text.find(key, from); at != std::string::npos; at = text.find(key, at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '_')) continue;
    return at + key.size();
  }
  return std::string::npos;
}

}  // namespace

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::optional<uint64_t> setting(const std::string& text, const std::string& name) {
  for (size_t at = value_at(text, name, 0); at != std::string::npos; at = value_at(text, name, at)) {
    if (const auto value = digits_at(text, at)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> word_setting(const std::string& text, const std::string& name) {
  const size_t at = value_at(text, name, 0);
  if (at == std::string::npos) return std::nullopt;
  auto in_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
  size_t end = at;
  while (end < text.size() && in_word(text[end])) ++end;
  if (end == at) return std::nullopt;
  return text.substr(at, end - at);
}

std::optional<uint64_t> number_after(const std::string& text, const std::string& words) {
  const size_t at = text.find(words);
  if (at == std::string::npos) return std::nullopt;
  return digits_at(text, at + words.size());
}

std::optional<arch::DType> row_dtype(const Measurement& row) {
  const std::string text = row.workload + " " + row.settings;
  if (contains(row.settings, "dtype=fp8")) return arch::DType::Fp8;  // its workload names the bf16 output
  if (contains(text, "bfloat16") || contains(text, "bf16")) return arch::DType::Bf16;
  if (contains(text, "fp16")) return arch::DType::Fp16;
  return std::nullopt;
}

std::optional<uint32_t> gpus_in(const std::string& hardware) {
  const auto gpus = digits_at(hardware, 0);
  if (!gpus) return std::nullopt;
  const size_t digits = std::to_string(*gpus).size();
  if (hardware.compare(digits, 2, "x ") != 0) return std::nullopt;
  return static_cast<uint32_t>(*gpus);
}

}  // namespace tessel::validation
