#pragma once
// A prepared data set: the raw table split train/valid/test, the feature
// encoder fitted on train, and the encoded splits as tensors (memory-mapped
// from the binary cache when loaded from it).
#include <torch/torch.h>

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctr/feature_info.h"
#include "data/spec.h"

namespace clickprompt::data {

struct FieldMeta {
  std::string name, display;
  std::vector<std::string> values;  // raw dictionary: codes index into it
};

// One vocabulary per field, fitted on the training split: local id 0 is OOV
// (unseen or rarer than min_count), 1..n the kept values by descending train
// frequency. Global id = offset of the field + local id (one embedding table).
// A numeric field (edges[f] set) has buckets instead: local id k >= 1 holds
// edges[k-2] <= x < edges[k-1] (open at both ends), vocab[f] their labels; an
// empty or non-numeric value is OOV.
class Encoder {
 public:
  std::vector<std::vector<std::string>> vocab;  // vocab[f][k-1] = value of local id k
  std::vector<std::optional<std::vector<double>>> edges;  // per field; nullopt: categorical
  std::vector<int64_t> offsets;

  int num_fields() const { return static_cast<int>(vocab.size()); }
  int64_t field_size(int f) const { return static_cast<int64_t>(vocab[f].size()) + 1; }
  int64_t total_size() const;
  int64_t oov_id(int f) const { return offsets[f]; }
  // Global id of a raw value (OOV id when unseen).
  int32_t encode(int f, const std::string& value) const;
  ctr::FeatureInfo feature_info(const std::vector<std::string>& field_names) const;
  void finalize();  // computes offsets and lookup maps (edges defaults to all categorical)
  // Local id of a numeric field's value (0 when not a finite number).
  int32_t bucket(int f, std::string_view value) const;
  // Bucket labels for edges: "< 3", "[3, 5)", ">= 5".
  static std::vector<std::string> bucket_labels(const std::vector<double>& edges);

 private:
  std::vector<std::unordered_map<std::string, int32_t>> lookup_;
};

// The encoder as JSON, one record per field (name, display, vocab, and edges for
// a numeric field): the form in encoder.json, bundles and the cache's meta.json.
nlohmann::json encoder_json(const std::vector<FieldMeta>& fields, const Encoder& enc);
// Reads it back: names and display names into `fields` (values empty), the
// encoder finalized. Throws nlohmann::json exceptions on a malformed record.
void read_encoder_json(const nlohmann::json& j, std::vector<FieldMeta>& fields, Encoder& enc);

struct Split {
  std::string name;
  int64_t rows = 0;
  torch::Tensor ids;     // int32 [rows, F] global ids
  torch::Tensor codes;   // int32 [rows, F] raw dictionary codes (for text and export)
  torch::Tensor labels;  // float32 [rows]
  torch::Tensor prob;    // float32 [rows] true click probability, or undefined
};

struct Dataset {
  DatasetSpec spec;
  std::vector<FieldMeta> fields;
  Encoder encoder;
  Split train, valid, test;
  std::string split_used;  // "random" or "time", with any fallback noted
  std::vector<std::string> reader_report;  // rows kept and dropped by the reader's rules
  std::string cache_dir;   // where the binary cache lives
  bool loaded_from_cache = false;
  double seconds = 0;  // prepare or load time

  const Split& split(const std::string& name) const;
  ctr::FeatureInfo feature_info() const;
  // "<display> is <value>." per field, joined by single spaces (modality transformation).
  std::string text_view(const Split& s, int64_t row) const;
  std::string value(const Split& s, int64_t row, int field) const;
};

struct PrepareOptions {
  std::string cache_root = ".cache";  // "" disables the cache
  bool rebuild = false;
};

Dataset prepare_dataset(const DatasetSpec& spec, const PrepareOptions& opt = {});

// Row order of the three splits (indices into the raw table); exposed for tests.
struct SplitIndices {
  std::vector<int64_t> train, valid, test;
  std::string kind_used;
};
// `split_of_row` (0/1/2 per row) is used when s.kind is "column".
SplitIndices make_split(const SplitSpec& s, size_t rows, const std::vector<double>* timestamps,
                        const std::vector<uint8_t>* split_of_row = nullptr);

// Writes a split as CSV: one column per field (raw values) + label (+ prob).
void export_csv(const Dataset& ds, const std::string& split, const std::string& path);

}  // namespace clickprompt::data
