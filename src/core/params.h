#pragma once
// Hyper-parameters from a YAML mapping, read with typed getters. Every key that
// is read is remembered, so `check_unused` can reject typos with a suggestion
// ("unknown key 'embeding_dim' in model dcnv2 (did you mean 'embedding_dim'?)").
#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
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
    try {
      return v.as<T>();
    } catch (const YAML::Exception&) {
      throw_bad_type(key);
    }
    return fallback;
  }
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
  mutable YAML::Node node_;
  std::string context_;
  mutable std::set<std::string> used_;
};

YAML::Node load_yaml(const std::string& path);
// Deep merge: values of `over` replace those of `base` (maps merged recursively).
YAML::Node merge_yaml(const YAML::Node& base, const YAML::Node& over);
// Apply "a.b.c=value" overrides (value parsed as YAML).
void apply_override(YAML::Node& root, const std::string& assignment);
std::string yaml_to_json_string(const YAML::Node& node);

}  // namespace clickprompt::core
