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

#include "core/strings.h"
#include "ctr/feature_info.h"
#include "data/spec.h"

namespace clickprompt::data {

struct FieldMeta {
  std::string name, display;
  std::vector<std::string> values;  // raw dictionary: codes index into it
  std::string separator;            // multi-valued fields: between the values of a raw value
  // A raw value as the text view shows it: a multi-valued field's values joined by ", ".
  std::string text(const std::string& raw) const;
};

// One vocabulary per field, fitted on the training split: local id 0 is OOV
// (unseen or rarer than min_count), 1..n the kept values by descending train
// frequency. Global id = offset of the field + local id (one embedding table).
// A numeric field (edges[f] set) has buckets instead: local id k >= 1 holds
// edges[k-2] <= x < edges[k-1] (open at both ends), vocab[f] their labels; an
// empty or non-numeric value is OOV.
// A multi-valued field (separator[f] set) splits its raw value there; its
// vocabulary holds the single values, and a row has width[f] slots: the ids of
// its first width[f] values, then OOV ids (the model pools the slots that are
// not OOV). A text-only field (width 0) has no slot: it is in the text view
// only. The ID view is one slot per single-valued field, so rows of ids are
// num_slots() wide; slot_offset(f) is field f's first slot.
class Encoder {
 public:
  std::vector<std::vector<std::string>> vocab;  // vocab[f][k-1] = value of local id k
  std::vector<std::optional<std::vector<double>>> edges;  // per field; nullopt: categorical
  std::vector<int> width;                                 // slots per field (1 unless multi-valued; 0 text-only)
  std::vector<std::string> separator;                     // multi-valued fields: between values ("" otherwise)
  std::vector<int64_t> offsets;

  int num_fields() const { return static_cast<int>(vocab.size()); }
  int num_slots() const { return slot_offsets_.empty() ? 0 : slot_offsets_.back(); }
  int slot_offset(int f) const { return slot_offsets_[f]; }
  bool multi(int f) const { return !separator[f].empty(); }
  int64_t field_size(int f) const { return static_cast<int64_t>(vocab[f].size()) + 1; }
  int64_t total_size() const;
  int64_t oov_id(int f) const { return offsets[f]; }
  // Global id of a raw value (OOV id when unseen) of a single-valued field.
  int32_t encode(int f, const std::string& value) const;
  // The width(f) global ids of a raw value, any field.
  template <class T>
  void encode_into(int f, const std::string& value, T* out) const {
    if (width[f] == 0) return;  // text-only
    if (!multi(f)) {
      out[0] = static_cast<T>(encode(f, value));
      return;
    }
    int k = 0;
    for_each_value(f, value, [&](std::string_view v) {
      if (k < width[f]) out[k++] = static_cast<T>(lookup_id(f, v));
    });
    for (; k < width[f]; ++k) out[k] = static_cast<T>(offsets[f]);
  }
  // Calls fn on each non-empty value of a multi-valued field's raw value (trimmed).
  template <class Fn>
  void for_each_value(int f, std::string_view raw, Fn&& fn) const {
    for_each_part(raw, separator[f], fn);
  }
  template <class Fn>
  static void for_each_part(std::string_view raw, std::string_view sep, Fn&& fn) {
    size_t start = 0;
    while (start <= raw.size()) {
      size_t end = raw.find(sep, start);
      if (end == std::string_view::npos) end = raw.size();
      const std::string_view v = core::trim(raw.substr(start, end - start));
      if (!v.empty()) fn(v);
      start = end + sep.size();
    }
  }
  ctr::FeatureInfo feature_info(const std::vector<std::string>& field_names) const;
  void finalize();  // computes offsets, slots and lookup maps (edges, width default to categorical, 1)
  // Local id of a numeric field's value (0 when not a finite number).
  int32_t bucket(int f, std::string_view value) const;
  // A raw value as a number: the whole (trimmed) text parsed, finite; else nullopt.
  static std::optional<double> number(std::string_view value);
  // Bucket labels for edges: "< 3", "[3, 5)", ">= 5".
  static std::vector<std::string> bucket_labels(const std::vector<double>& edges);

 private:
  int32_t lookup_id(int f, std::string_view v) const;
  std::vector<std::unordered_map<std::string, int32_t>> lookup_;
  std::vector<int> slot_offsets_;  // F + 1 entries
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
