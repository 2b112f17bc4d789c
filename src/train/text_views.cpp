#include "train/text_views.h"

#include <algorithm>

#include "core/error.h"

namespace clickprompt::train {

std::string TextViews::piece_text(const std::vector<data::FieldMeta>& fields, int f, uint32_t code) {
  return (f ? " " : "") + fields[f].display + " is " + fields[f].values[code] + ".";
}

TextViews::TextViews(const std::vector<data::FieldMeta>& fields, std::shared_ptr<const plm::Tokenizer> tok)
    : tok_(std::move(tok)) {
  const int F = static_cast<int>(fields.size());
  pieces_.resize(F);
  max_length_ = static_cast<int64_t>(tok_->with_special_tokens({}).size());
  for (int f = 0; f < F; ++f) {
    size_t longest = 0;
    pieces_[f].reserve(fields[f].values.size());
    for (size_t v = 0; v < fields[f].values.size(); ++v) {
      pieces_[f].push_back(tok_->encode_piece(piece_text(fields, f, static_cast<uint32_t>(v))));
      longest = std::max(longest, pieces_[f].back().size());
    }
    max_length_ += static_cast<int64_t>(longest);
  }
}

std::pair<torch::Tensor, torch::Tensor> TextViews::batch(const torch::Tensor& codes_t, const int64_t* rows, int64_t n) const {
  const int F = static_cast<int>(pieces_.size());
  if (codes_t.scalar_type() != torch::kInt32 || codes_t.dim() != 2 || codes_t.size(1) != F || !codes_t.is_contiguous())
    throw Error("text views: codes must be contiguous int32 [rows, " + std::to_string(F) + "]");
  const int32_t* codes = codes_t.data_ptr<int32_t>();
  const auto special = tok_->with_special_tokens({});  // [cls, sep] or [<s>, </s>]
  const int64_t n_special = static_cast<int64_t>(special.size());
  std::vector<int64_t> len(n);
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = n_special;
    for (int f = 0; f < F; ++f) l += static_cast<int64_t>(pieces_[f][codes[rows[i] * F + f]].size());
    len[i] = l;
    longest = std::max(longest, l);
  }
  auto ids = torch::full({n, longest}, tok_->pad_id(), torch::kInt64);
  auto mask = torch::zeros({n, longest}, torch::kInt64);
  int64_t* ip = ids.data_ptr<int64_t>();
  int64_t* mp = mask.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t* out = ip + i * longest;
    if (n_special) *out++ = special.front();
    for (int f = 0; f < F; ++f) {
      const auto& p = pieces_[f][codes[rows[i] * F + f]];
      out = std::copy(p.begin(), p.end(), out);
    }
    if (n_special > 1) *out++ = special.back();
    std::fill(mp + i * longest, mp + i * longest + len[i], 1);
  }
  return {ids, mask};
}

}  // namespace clickprompt::train
