#pragma once
// Token ids of text views (DESIGN.md: "<field> is <value>." for every field,
// joined by spaces), assembled from per-field pieces that are tokenized once
// per distinct (field, value), never per batch. Training, PA-MLM, `predict`
// and the server all build a sample's tokens here, so a row reads the same
// tokens wherever it is scored.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "data/dataset.h"
#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::bundle {

class TextViews {
 public:
  // Tokenizes every value of every field's dictionary once (`fields`: display
  // names and dictionaries; a prepared data set's, a scored file's columns, or
  // a bundle's training vocabularies).
  TextViews(const std::vector<data::FieldMeta>& fields, std::shared_ptr<const plm::Tokenizer> tok);
  TextViews(const data::Dataset& ds, std::shared_ptr<const plm::Tokenizer> tok) : TextViews(ds.fields, std::move(tok)) {}
  // The text of field f's value as it appears in a row's text view
  // (a leading space for every field but the first).
  static std::string piece_text(const std::string& display, const std::string& value, bool first);
  static std::string piece_text(const std::vector<data::FieldMeta>& fields, int f, uint32_t code) {
    return piece_text(fields[f].display, fields[f].text(fields[f].values[code]), f == 0);
  }
  static std::string piece_text(const data::Dataset& ds, int f, uint32_t code) { return piece_text(ds.fields, f, code); }
  // {input_ids, attention_mask} [n, longest] int64 on the CPU for `rows` of
  // `codes` (int32 [rows, F] dictionary codes): special tokens around the
  // pieces, right-padded with the pad id.
  std::pair<torch::Tensor, torch::Tensor> batch(const torch::Tensor& codes, const int64_t* rows, int64_t n) const;
  std::pair<torch::Tensor, torch::Tensor> batch(const data::Split& split, const int64_t* rows, int64_t n) const {
    return batch(split.codes, rows, n);
  }
  // The same for rows [begin, end) given as raw values, columns[f][r] (serving): a value of
  // the dictionary uses its piece, any other value is tokenized here, once
  // per distinct value of the call (nothing is kept: unseen values cannot grow it).
  std::pair<torch::Tensor, torch::Tensor> batch_values(const std::vector<std::vector<std::string>>& columns, int64_t begin,
                                                       int64_t end) const;
  int64_t max_length() const { return max_length_; }  // longest text view of dictionary values, special tokens included
  const plm::Tokenizer& tokenizer() const { return *tok_; }

 private:
  // Assembles n rows from their pieces: pieces[r * F + f].
  std::pair<torch::Tensor, torch::Tensor> assemble(const std::vector<const std::vector<int64_t>*>& pieces,
                                                   int64_t n) const;
  std::shared_ptr<const plm::Tokenizer> tok_;
  std::vector<data::FieldMeta> fields_;  // display names and separators (values not kept)
  std::vector<std::unordered_map<std::string, uint32_t>> index_;  // [field] value -> code
  std::vector<std::vector<std::vector<int64_t>>> pieces_;         // [field][code] -> ids
  int64_t max_length_ = 0;
};

}  // namespace clickprompt::bundle
