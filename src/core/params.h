#pragma once
// Hyper-parameters from a YAML mapping, read with typed getters. Every key that
// is read is remembered, so `check_unused` can reject typos with a suggestion
// ("unknown key 'embeding_dim' in model dcnv2 (did you mean 'embedding_dim'?)").
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace clickprompt::core {

class Params {
 public:
  Params() : node_(YAML::NodeType::Map) {}
  Params(YAML::Node node, std::string context);

  template <typename T>
  T get(const std::string& key, const T& fallback) const {
    used_.insert(key);
    YAML::Node v = node_[key];
    if (!v || v.IsNull()) {
      node_[key] = fallback;  // record the default: node() is then the config as used
      return fallback;
    }
    T out = fallback;
    try {
      out = v.as<T>();
    } catch (const YAML::Exception&) {
      throw_bad_type(key);
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(out)) throw_not_finite(key);
    }
    return out;
  }
  // Where a number must lie: > 0, >= 0, [0, 1) or [0, 1].
  enum class Range { positive, non_negative, unit_open, unit };
  double get_number(const std::string& key, double fallback, Range range) const;
  // An integer in [lo, hi]; `what` ends the message ("a positive size").
  int64_t get_int(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const;
  template <typename T>
  T require(const std::string& key) const {
    if (!has(key)) throw_missing(key);
    return get<T>(key, T{});
  }
  bool has(const std::string& key) const;
  // Shares the node: defaults read through the child are recorded in the parent too.
  Params child(const std::string& key) const;
  void check_unused(const std::vector<std::string>& also_allowed = {}) const;
  const YAML::Node& node() const { return node_; }
  const std::string& context() const { return context_; }

 private:
  [[noreturn]] void throw_bad_type(const std::string& key) const;
  [[noreturn]] void throw_missing(const std::string& key) const;
  [[noreturn]] void throw_not_finite(const std::string& key) const;
  mutable YAML::Node node_;
  std::string context_;
  mutable std::set<std::string> used_;
};

// A YAML file whose top level is a mapping (configs, specs); errors name the file and line.
YAML::Node load_yaml(const std::string& path);
// The same from text already read (`context` names it in errors).
YAML::Node parse_yaml(const std::string& text, const std::string& context);
// Deep merge: values of `over` replace those of `base` (maps merged recursively).
YAML::Node merge_yaml(const YAML::Node& base, const YAML::Node& over);
// Apply "a.b.c=value" overrides (value parsed as YAML).
void apply_override(YAML::Node& root, const std::string& assignment);
std::string yaml_to_json_string(const YAML::Node& node);

}  // namespace clickprompt::core
