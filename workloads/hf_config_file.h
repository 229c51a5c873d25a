// A Hugging Face config.json as read by read_hf_config: typed values under their keys, errors
// that name the file and the key, and a record of the keys read, so that whatever tessel leaves
// unread can be told apart and reported.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tessel::workloads {

class ConfigFile {
 public:
  // Parses the file; throws InputError naming it when it cannot be opened, is not JSON or its
  // top level is not an object.
  explicit ConfigFile(std::string path);

  const std::string& path() const { return path_; }

  // Throws InputError "<path>: field '<key>': <problem>".
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  // "<path>: field '<key>': <problem>", kept for the model's warnings.
  void warn(const std::string& key, const std::string& problem);
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The value under the first of `keys` that is present and not null, or nullptr. Any other
  // of the keys present must hold the same value. Every key present counts as read, and the one
  // read is remembered for `field`.
  const nlohmann::json* find(const std::string& field, std::initializer_list<const char*> keys);

  // A positive integer, an integer of at least 0 (both at most 2^24, past any model), text, a
  // number, true or false: nothing when no key is present; InputError naming the key for a
  // value of another type or size.
  std::optional<uint64_t> size(const std::string& field, std::initializer_list<const char*> keys);
  std::optional<uint64_t> count(const std::string& field, std::initializer_list<const char*> keys);
  uint64_t required_size(const std::string& field, std::initializer_list<const char*> keys);
  std::optional<std::string> text(const std::string& field, std::initializer_list<const char*> keys);
  std::optional<double> number(const std::string& field, std::initializer_list<const char*> keys);
  std::optional<bool> flag(const char* key);
  // A probability in [0, 1).
  std::optional<double> probability(const std::string& field, std::initializer_list<const char*> keys);

  // Names the first key and the others it may be read as.
  [[noreturn]] void fail_missing(std::initializer_list<const char*> keys) const;

  // The key `field` was read from; the field's own name when it was not read.
  std::string key_read(const std::string& field) const;

  // Counts `key` as read: its value does not change what tessel computes.
  void mark_read(const std::string& key) { read_.insert(key); }
  // The file's keys not read, in key order.
  std::vector<std::string> unread_keys() const;
  bool has(const std::string& key) const { return root_.contains(key); }
  const nlohmann::json& value(const std::string& key) const { return root_.at(key); }

 private:
  uint64_t within_span(const std::string& field, const nlohmann::json& value);
  std::string path_;
  nlohmann::json root_;
  std::map<std::string, std::string> keys_read_;  // ModelConfig field -> key in the file
  std::set<std::string> read_;
  std::vector<std::string> warnings_;
};

}  // namespace tessel::workloads
