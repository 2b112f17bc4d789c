#pragma once
// Dataset spec (configs/datasets/*.yaml): where the raw data is, which fields
// the models see (with the display names of the text view), the label rule and
// the split rule.
#include <string>
#include <vector>

#include "core/params.h"

namespace clickprompt::data {

struct FieldSpec {
  std::string name;     // key used in configs and CSV headers
  std::string display;  // "User ID": the text view says "<display> is <value>."
  std::string source;   // column of the raw table (defaults to name)
  std::string type = "categorical";
  int min_count = 1;    // values seen fewer times in train map to OOV
};

struct SplitSpec {
  std::string kind = "random";  // random | time
  std::vector<double> ratios{0.8, 0.1, 0.1};
  uint64_t seed = 2024;
};

struct DatasetSpec {
  std::string name;
  std::string format;  // movielens | bookcrossing | amazon | csv
  std::string path;    // directory (movielens, bookcrossing) or file (amazon: the 5-core reviews; csv); may be .gz
  std::vector<FieldSpec> fields;
  std::string label_column;    // numeric source column
  // With a threshold, label = value > threshold (any finite value); without
  // one the column must hold 0 and 1 only. NaN is always an error.
  bool has_label_threshold = false;
  double label_threshold = 0;
  std::string prob_column;     // optional: true click probability (synthetic data)
  std::string user_field, item_field;  // for long-tail breakdowns (optional)
  SplitSpec split;
  YAML::Node yaml;  // the spec as used (for the cache key and result.json)

  static DatasetSpec from_yaml(const YAML::Node& node, const std::string& context);
  static DatasetSpec load(const std::string& path);
  int field_index(const std::string& name) const;  // -1 if absent
};

}  // namespace clickprompt::data
