#include "bundle/text_views.h"

#include <algorithm>
#include <map>

#include "core/error.h"

namespace clickprompt::bundle {

std::string TextViews::piece_text(const std::string& display, const std::string& value, bool first) {
  return (first ? "" : " ") + display + " is " + value + ".";
}

TextViews::TextViews(const std::vector<data::FieldMeta>& fields, std::shared_ptr<const plm::Tokenizer> tok)
    : tok_(std::move(tok)) {
  const int F = static_cast<int>(fields.size());
  pieces_.resize(F);
  index_.resize(F);
  max_length_ = static_cast<int64_t>(tok_->with_special_tokens({}).size());
  for (int f = 0; f < F; ++f) {
    fields_.push_back({fields[f].name, fields[f].display, {}, fields[f].separator});
    size_t longest = 0;
    pieces_[f].reserve(fields[f].values.size());
    index_[f].reserve(fields[f].values.size());
    for (size_t v = 0; v < fields[f].values.size(); ++v) {
      pieces_[f].push_back(tok_->encode_piece(piece_text(fields, f, static_cast<uint32_t>(v))));
      index_[f].emplace(fields[f].values[v], static_cast<uint32_t>(v));
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
  std::vector<const std::vector<int64_t>*> pieces(static_cast<size_t>(n * F));
  for (int64_t i = 0; i < n; ++i)
    for (int f = 0; f < F; ++f) {
      const auto code = static_cast<uint32_t>(codes[rows[i] * F + f]);
      if (code >= pieces_[f].size())
        throw Error("text views: code " + std::to_string(code) + " of field " + std::to_string(f) +
                    " is outside its dictionary of " + std::to_string(pieces_[f].size()) + " values");
      pieces[i * F + f] = &pieces_[f][code];
    }
  return assemble(pieces, n);
}

std::pair<torch::Tensor, torch::Tensor> TextViews::batch_values(const std::vector<std::vector<std::string>>& columns,
                                                                int64_t begin, int64_t end) const {
  const int F = static_cast<int>(pieces_.size());
  if (static_cast<int>(columns.size()) != F)
    throw Error("text views: " + std::to_string(columns.size()) + " columns for " + std::to_string(F) + " fields");
  const int64_t n = end - begin;
  std::vector<const std::vector<int64_t>*> pieces(static_cast<size_t>(n * F));
  std::vector<std::map<std::string, std::vector<int64_t>>> unseen(F);  // this call's values outside the dictionary
  for (int f = 0; f < F; ++f) {
    if (begin < 0 || n < 0 || static_cast<int64_t>(columns[f].size()) < end)
      throw Error("text views: rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside the columns");
    for (int64_t r = 0; r < n; ++r) {
      const std::string& v = columns[f][begin + r];
      auto it = index_[f].find(v);
      if (it != index_[f].end()) {
        pieces[r * F + f] = &pieces_[f][it->second];
        continue;
      }
      auto u = unseen[f].find(v);
      if (u == unseen[f].end()) u = unseen[f].emplace(v, tok_->encode_piece(piece_text(fields_[f].display, fields_[f].text(v), f == 0))).first;
      pieces[r * F + f] = &u->second;
    }
  }
  return assemble(pieces, n);
}

std::pair<torch::Tensor, torch::Tensor> TextViews::assemble(const std::vector<const std::vector<int64_t>*>& pieces,
                                                            int64_t n) const {
  const int F = static_cast<int>(pieces_.size());
  const auto special = tok_->with_special_tokens({});  // [cls, sep] or [<s>, </s>]
  const int64_t n_special = static_cast<int64_t>(special.size());
  std::vector<int64_t> len(n);
  int64_t longest = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = n_special;
    for (int f = 0; f < F; ++f) l += static_cast<int64_t>(pieces[i * F + f]->size());
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
    for (int f = 0; f < F; ++f) out = std::copy(pieces[i * F + f]->begin(), pieces[i * F + f]->end(), out);
    if (n_special > 1) *out++ = special.back();
    std::fill(mp + i * longest, mp + i * longest + len[i], 1);
  }
  return {ids, mask};
}

}  // namespace clickprompt::bundle
