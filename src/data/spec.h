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
  std::string type = "categorical";  // categorical | numeric | multi | text (text view only)
  int min_count = 1;    // values seen fewer times in train map to OOV
  // numeric: the ID view sees a bucket, the text view the raw number. Either
  // `buckets` quantile buckets of the training values or fixed `edges`
  // (bucket k holds edges[k-1] <= x < edges[k]); an empty or non-numeric value is OOV.
  int buckets = 0;
  std::vector<double> edges;
  // multi: values split at `separator`, each its own id (min_count per value);
  // the ID view keeps up to `max_values` per row and pools them; the text view
  // shows the raw value.
  std::string separator;
  int max_values = 8;
  bool numeric() const { return type == "numeric"; }
  bool multi() const { return type == "multi"; }
  bool text() const { return type == "text"; }
};

// One file of a `table` data set: CSV/TSV (header row, or `columns` named) or
// JSON lines (top-level keys are columns), plain or gzip, in `encoding`.
struct FileSpec {
  std::string path;
  std::string type = "csv";  // csv | tsv | jsonl
  char delimiter = ',';
  bool header = true;
  std::vector<std::string> columns;  // names when there is no header row
  std::string encoding = "utf-8";    // utf-8 | latin1 | cp1252
};

// A side table (users, items) whose columns are joined to each row by key.
struct JoinSpec {
  FileSpec file;
  std::string key;        // column of the main table
  std::string table_key;  // column of the side table (defaults to key)
  std::vector<std::string> columns;  // columns taken (default: all but the key)
  bool drop_unmatched = false;       // else a row without a match gets empty values
};

struct SplitSpec {
  std::string kind = "random";  // random | time | column
  std::vector<double> ratios{0.8, 0.1, 0.1};
  uint64_t seed = 2024;
  std::string column;  // time: the time column (table format); column: the split column
  std::vector<std::vector<std::string>> values;  // column: values meaning train, valid, test
};

struct DatasetSpec {
  std::string name;
  std::string format;  // movielens | bookcrossing | amazon | goodreads | csv | table
  std::string path;    // directory (movielens, bookcrossing, goodreads) or file (amazon: the 5-core reviews; csv, table); may be .gz
  FileSpec file;       // table: how `path` is read
  std::vector<JoinSpec> joins;  // table: side tables
  YAML::Node reader_options;    // `reader:` (goodreads: genre, max_rows), checked by the reader
  std::vector<FieldSpec> fields;
  std::string label_column;    // numeric source column
  // With a threshold, label = value > threshold (any finite value); without
  // one the column must hold 0 and 1 only. NaN is always an error. With
  // `label_values` (table format) the column is text and label = value in the set.
  bool has_label_threshold = false;
  double label_threshold = 0;
  std::vector<std::string> label_values;
  std::string prob_column;     // optional: true click probability (synthetic data)
  std::string user_field, item_field;  // for long-tail breakdowns (optional)
  SplitSpec split;
  YAML::Node yaml;  // the spec as used (for the cache key and result.json)

  static DatasetSpec from_yaml(const YAML::Node& node, const std::string& context);
  static DatasetSpec load(const std::string& path);
  int field_index(const std::string& name) const;  // -1 if absent
};

}  // namespace clickprompt::data
