#pragma once
// A prepared data set: the raw table split train/valid/test, the feature
// encoder fitted on train, and the encoded splits as tensors (memory-mapped
// from the binary cache when loaded from it).
#include <torch/torch.h>

#include <memory>
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
class Encoder {
 public:
  std::vector<std::vector<std::string>> vocab;  // vocab[f][k-1] = value of local id k
  std::vector<int64_t> offsets;

  int num_fields() const { return static_cast<int>(vocab.size()); }
  int64_t field_size(int f) const { return static_cast<int64_t>(vocab[f].size()) + 1; }
  int64_t total_size() const;
  int64_t oov_id(int f) const { return offsets[f]; }
  // Global id of a raw value (OOV id when unseen).
  int32_t encode(int f, const std::string& value) const;
  ctr::FeatureInfo feature_info(const std::vector<std::string>& field_names) const;
  void finalize();  // computes offsets and lookup maps

 private:
  std::vector<std::unordered_map<std::string, int32_t>> lookup_;
};

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
SplitIndices make_split(const SplitSpec& s, size_t rows, const std::vector<double>* timestamps);

// Writes a split as CSV: one column per field (raw values) + label (+ prob).
void export_csv(const Dataset& ds, const std::string& split, const std::string& path);

}  // namespace clickprompt::data
