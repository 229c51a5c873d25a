#include "workloads/hf_config_file.h"

#include <fstream>
#include <utility>

#include "workloads/input_error.h"

namespace tessel::workloads {

using nlohmann::json;

namespace {

json parse_file(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) throw InputError(path + ": cannot open the file");
  json root;
  try {
    root = json::parse(stream);
  } catch (const json::exception& error) {  // a syntax error, or a number past a double's range
    throw InputError(path + ": not valid JSON: " + error.what());
  }
  if (!root.is_object()) throw InputError(path + ": the top level must be a JSON object");
  return root;
}

}  // namespace

ConfigFile::ConfigFile(std::string path) : path_(std::move(path)), root_(parse_file(path_)) {}

void ConfigFile::fail(const std::string& key, const std::string& problem) const {
  throw InputError(path_ + ": field '" + key + "': " + problem);
}

void ConfigFile::warn(const std::string& key, const std::string& problem) {
  warnings_.push_back(path_ + ": field '" + key + "': " + problem);
}

const json* ConfigFile::find(const std::string& field, std::initializer_list<const char*> keys) {
  const json* found = nullptr;
  for (const char* key : keys) {
    const auto entry = root_.find(key);
    if (entry == root_.end()) continue;
    read_.insert(key);
    if (entry->is_null()) continue;
    if (!found) {
      found = &*entry;
      keys_read_[field] = key;
    } else if (*entry != *found) {
      fail(key, entry->dump() + " contradicts '" + keys_read_[field] + "' (" + found->dump() + ")");
    }
  }
  return found;
}

// No model has a width, a layer count, a vocabulary, an expert count or a window past 2^24
// (16,777,216): the largest vocabularies hold about 256K tokens, the widest layers about 50K
// features, the deepest stacks a few hundred layers. Past it a value is a typo, and sizes derived
// from it (layers times widths) would run to gigabytes before any check of the run's size.
constexpr uint64_t kLargestSize = uint64_t{1} << 24;

uint64_t ConfigFile::within_span(const std::string& field, const json& value) {
  const uint64_t number = value.get<uint64_t>();
  if (number > kLargestSize) {
    fail(key_read(field), value.dump() + " is beyond any model: at most 2^24 (16777216)");
  }
  return number;
}

std::optional<uint64_t> ConfigFile::size(const std::string& field, std::initializer_list<const char*> keys) {
  const json* value = find(field, keys);
  if (!value) return std::nullopt;
  if (!value->is_number_unsigned() || value->get<uint64_t>() == 0) {
    fail(key_read(field), "must be a positive integer, got " + value->dump());
  }
  return within_span(field, *value);
}

std::optional<uint64_t> ConfigFile::count(const std::string& field, std::initializer_list<const char*> keys) {
  const json* value = find(field, keys);
  if (!value) return std::nullopt;
  if (!value->is_number_unsigned()) fail(key_read(field), "must be an integer >= 0, got " + value->dump());
  return within_span(field, *value);
}

uint64_t ConfigFile::required_size(const std::string& field, std::initializer_list<const char*> keys) {
  if (const auto value = size(field, keys)) return *value;
  fail_missing(keys);
}

void ConfigFile::fail_missing(std::initializer_list<const char*> keys) const {
  std::string others;
  for (auto key = keys.begin() + 1; key != keys.end(); ++key) {
    others += (others.empty() ? " (also read as '" : "', '") + std::string(*key);
  }
  fail(*keys.begin(), "missing" + (others.empty() ? "" : others + "')"));
}

std::optional<std::string> ConfigFile::text(const std::string& field, std::initializer_list<const char*> keys) {
  const json* value = find(field, keys);
  if (!value) return std::nullopt;
  if (!value->is_string()) fail(key_read(field), "must be a string, got " + value->dump());
  return value->get<std::string>();
}

std::optional<double> ConfigFile::number(const std::string& field, std::initializer_list<const char*> keys) {
  const json* value = find(field, keys);
  if (!value) return std::nullopt;
  if (!value->is_number()) fail(key_read(field), "must be a number, got " + value->dump());
  return value->get<double>();
}

std::optional<double> ConfigFile::probability(const std::string& field, std::initializer_list<const char*> keys) {
  const auto value = number(field, keys);
  if (value && (*value < 0 || *value >= 1)) {
    fail(key_read(field), "must be a probability in [0, 1), got " + root_.at(key_read(field)).dump());
  }
  return value;
}

std::optional<bool> ConfigFile::flag(const char* key) {
  const json* value = find(key, {key});
  if (!value) return std::nullopt;
  if (!value->is_boolean()) fail(key, "must be true or false, got " + value->dump());
  return value->get<bool>();
}

std::string ConfigFile::key_read(const std::string& field) const {
  const auto entry = keys_read_.find(field);
  return entry == keys_read_.end() ? field : entry->second;
}

std::vector<std::string> ConfigFile::unread_keys() const {
  std::vector<std::string> unread;
  for (const auto& [key, value] : root_.items()) {
    if (read_.count(key) == 0) unread.push_back(key);
  }
  return unread;
}

}  // namespace tessel::workloads
