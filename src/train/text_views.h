#pragma once
// Token ids of a data set's text views (DESIGN.md: "<field> is <value>." for
// every field, joined by spaces), assembled from per-field pieces that are
// tokenized once per distinct (field, value), never per batch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::train {

class TextViews {
 public:
  // Tokenizes every value of every field's dictionary once (`fields`: display
  // names and dictionaries; a prepared data set's, or a scored CSV's columns).
  TextViews(const std::vector<data::FieldMeta>& fields, std::shared_ptr<const plm::Tokenizer> tok);
  TextViews(const data::Dataset& ds, std::shared_ptr<const plm::Tokenizer> tok) : TextViews(ds.fields, std::move(tok)) {}
  // The text of field f's value `code` as it appears in a row's text view
  // (a leading space for every field but the first).
  static std::string piece_text(const std::vector<data::FieldMeta>& fields, int f, uint32_t code);
  static std::string piece_text(const data::Dataset& ds, int f, uint32_t code) { return piece_text(ds.fields, f, code); }
  // {input_ids, attention_mask} [n, longest] int64 on the CPU for `rows` of
  // `codes` (int32 [rows, F] dictionary codes): special tokens around the
  // pieces, right-padded with the pad id.
  std::pair<torch::Tensor, torch::Tensor> batch(const torch::Tensor& codes, const int64_t* rows, int64_t n) const;
  std::pair<torch::Tensor, torch::Tensor> batch(const data::Split& split, const int64_t* rows, int64_t n) const {
    return batch(split.codes, rows, n);
  }
  int64_t max_length() const { return max_length_; }  // longest possible text view, special tokens included
  const plm::Tokenizer& tokenizer() const { return *tok_; }

 private:
  std::shared_ptr<const plm::Tokenizer> tok_;
  std::vector<std::vector<std::vector<int64_t>>> pieces_;  // [field][code] -> ids
  int64_t max_length_ = 0;
};

}  // namespace clickprompt::train
