#include "plm/tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "plm/tokenizer/bpe_tokenizer.h"
#include "plm/tokenizer/unicode.h"
#include "plm/tokenizer/wordpiece_tokenizer.h"

namespace clickprompt::plm {

namespace {
constexpr size_t kMaxCacheEntries = 1u << 20;
}

void Tokenizer::set_vocab(std::unordered_map<std::string, int64_t> vocab, const std::string& source) {
  int64_t n = static_cast<int64_t>(vocab.size());
  std::vector<std::string> inv(static_cast<size_t>(n));
  std::vector<char> seen(static_cast<size_t>(n), 0);
  for (const auto& [tok, id] : vocab) {
    if (id < 0 || id >= n)
      throw Error(source + ": token id " + std::to_string(id) + " of '" + tok + "' is outside [0, " +
                  std::to_string(n) + "): ids must be dense");
    if (seen[static_cast<size_t>(id)])
      throw Error(source + ": id " + std::to_string(id) + " is used by two tokens ('" + tok + "' and '" +
                  inv[static_cast<size_t>(id)] + "')");
    seen[static_cast<size_t>(id)] = 1;
    inv[static_cast<size_t>(id)] = tok;
  }
  vocab_ = std::move(vocab);
  id_to_token_ = std::move(inv);
}

void Tokenizer::add_special(SpecialToken tok) {
  auto it = vocab_.find(tok.content);
  if (it == vocab_.end()) {
    // Not in the vocabulary: append it (as HF add_special_tokens does).
    tok.id = static_cast<int64_t>(id_to_token_.size());
    vocab_.emplace(tok.content, tok.id);
    id_to_token_.push_back(tok.content);
  } else {
    tok.id = it->second;
  }
  for (auto& s : specials_)
    if (s.content == tok.content) {
      s = tok;
      return;
    }
  specials_.push_back(std::move(tok));
}

void Tokenizer::finish_specials() {
  special_flag_.assign(id_to_token_.size(), 0);
  for (const auto& s : specials_) special_flag_[static_cast<size_t>(s.id)] = 1;
}

bool Tokenizer::is_special_id(int64_t id) const {
  return id >= 0 && id < static_cast<int64_t>(special_flag_.size()) && special_flag_[static_cast<size_t>(id)];
}

int64_t Tokenizer::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? unk_id_ : it->second;
}

bool Tokenizer::has_token(std::string_view token) const { return vocab_.count(std::string(token)) > 0; }

const std::string& Tokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw Error("token id " + std::to_string(id) + " is outside the vocabulary (size " +
                std::to_string(vocab_size()) + ")");
  return id_to_token_[static_cast<size_t>(id)];
}

std::string Tokenizer::prepare(std::string_view text) const {
  std::string s = unicode::sanitize(text);
  if (!lowercase_before_split_) return s;
  // HF: re.sub(r"(special...)|(.+?)", lambda m: m[1] or m[2].lower(), text):
  // every character but the special tokens is lower-cased on its own.
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const SpecialToken* hit = nullptr;
    for (const auto& sp : specials_)
      if (!sp.content.empty() && s.compare(i, sp.content.size(), sp.content) == 0) {
        hit = &sp;
        break;
      }
    if (hit) {
      out += hit->content;
      i += hit->content.size();
      continue;
    }
    int n = unicode::utf8_length(static_cast<unsigned char>(s[i]));
    auto cps = unicode::decode(std::string_view(s).substr(i, static_cast<size_t>(n)));
    for (char32_t c : cps) unicode::append_lower(out, c);
    i += static_cast<size_t>(n);
  }
  return out;
}

std::vector<std::string> Tokenizer::split_on_special(std::string_view text) const {
  // Pieces alternate between plain text and special tokens (HF Trie.split).
  std::vector<std::string> pieces;
  std::vector<const SpecialToken*> kinds;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const SpecialToken* best = nullptr;
    for (const auto& sp : specials_)
      if (!sp.content.empty() && text.compare(i, sp.content.size(), sp.content) == 0 &&
          (!best || sp.content.size() > best->content.size()))
        best = &sp;
    if (!best) {
      ++i;
      continue;
    }
    if (i > start) {
      pieces.emplace_back(text.substr(start, i - start));
      kinds.push_back(nullptr);
    }
    pieces.push_back(best->content);
    kinds.push_back(best);
    i += best->content.size();
    start = i;
  }
  if (start < text.size()) {
    pieces.emplace_back(text.substr(start));
    kinds.push_back(nullptr);
  }
  // Whitespace stripping around special tokens, in order (as HF tokenize()).
  for (size_t k = 0; k < pieces.size(); ++k) {
    const SpecialToken* sp = kinds[k];
    if (!sp) continue;
    bool strip_right_neighbour = sp->plain_string || sp->rstrip;
    bool strip_left_neighbour = sp->plain_string || sp->lstrip;
    if (strip_right_neighbour && k + 1 < pieces.size() && !pieces[k + 1].empty())
      pieces[k + 1] = std::string(unicode::py_lstrip(pieces[k + 1]));
    if (strip_left_neighbour && k > 0 && !pieces[k - 1].empty())
      pieces[k - 1] = std::string(unicode::py_rstrip(pieces[k - 1]));
  }
  std::vector<std::string> out;
  for (size_t k = 0; k < pieces.size(); ++k) {
    if (pieces[k].empty()) continue;
    // Special pieces are marked by a leading NUL, which never survives sanitize().
    out.push_back(kinds[k] ? std::string(1, '\0') + pieces[k] : pieces[k]);
  }
  return out;
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::string prepared = prepare(text);
  std::vector<std::string> out;
  for (auto& piece : split_on_special(prepared)) {
    if (!piece.empty() && piece[0] == '\0')
      out.push_back(piece.substr(1));
    else
      tokenize_plain(piece, out);
  }
  return out;
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int64_t> ids;
  for (const auto& t : tokenize(text)) ids.push_back(token_to_id(t));
  return add_special_tokens ? with_special_tokens(ids) : ids;
}

std::vector<int64_t> Tokenizer::encode_piece(std::string_view text) const {
  std::string key(text);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = piece_cache_.find(key);
    if (it != piece_cache_.end()) return it->second;
  }
  auto ids = encode(text, false);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (piece_cache_.size() >= kMaxCacheEntries) piece_cache_.clear();
  piece_cache_.emplace(std::move(key), ids);
  return ids;
}

size_t Tokenizer::cache_size() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  return piece_cache_.size();
}

void Tokenizer::clear_cache() const {
  std::lock_guard<std::mutex> lock(cache_mutex_);
  piece_cache_.clear();
}

std::vector<int64_t> Tokenizer::with_special_tokens(const std::vector<int64_t>& ids) const {
  std::vector<int64_t> out;
  out.reserve(ids.size() + 2);
  out.push_back(cls_id_);
  out.insert(out.end(), ids.begin(), ids.end());
  out.push_back(sep_id_);
  return out;
}

EncodedBatch Tokenizer::encode_batch(const std::vector<std::string>& texts, const EncodeOptions& opt) const {
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(texts.size());
  for (const auto& t : texts) rows.push_back(encode(t, opt.add_special_tokens));
  return pad(rows, opt);
}

EncodedBatch Tokenizer::pad(const std::vector<std::vector<int64_t>>& rows_in, const EncodeOptions& opt) const {
  if (opt.max_length < 0) throw Error("max_length must be >= 0, got " + std::to_string(opt.max_length));
  if (opt.padding == Padding::MaxLength && opt.max_length == 0)
    throw Error("padding to max_length needs max_length > 0");
  EncodedBatch b;
  b.batch = static_cast<int64_t>(rows_in.size());
  std::vector<std::vector<int64_t>> rows = rows_in;
  if (opt.max_length > 0) {
    size_t max_len = static_cast<size_t>(opt.max_length);
    for (auto& r : rows) {
      if (r.size() <= max_len) continue;
      // Keep the closing special token (sep / </s>) when the row has one.
      bool ends_special = opt.add_special_tokens && !r.empty() && r.back() == sep_id_ && max_len >= 2;
      r.resize(max_len);
      if (ends_special) r.back() = sep_id_;
    }
  }
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  size_t len = longest;
  if (opt.padding == Padding::MaxLength) len = static_cast<size_t>(opt.max_length);
  if (opt.padding == Padding::None) {
    for (const auto& r : rows)
      if (r.size() != longest)
        throw Error("rows have different lengths and padding is off; use Padding::Longest");
  }
  b.length = static_cast<int64_t>(len);
  b.input_ids.assign(rows.size() * len, pad_id_);
  b.attention_mask.assign(rows.size() * len, 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy(rows[i].begin(), rows[i].end(), b.input_ids.begin() + static_cast<std::ptrdiff_t>(i * len));
    std::fill_n(b.attention_mask.begin() + static_cast<std::ptrdiff_t>(i * len), rows[i].size(), 1);
    b.lengths.push_back(static_cast<int64_t>(rows[i].size()));
  }
  return b;
}

std::shared_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::path d(dir);
  if (core::file_exists((d / "tokenizer.json").string())) {
    auto j = nlohmann::json::parse(core::read_file((d / "tokenizer.json").string()), nullptr, false);
    if (j.is_discarded()) throw Error((d / "tokenizer.json").string() + ": not valid JSON");
    std::string type = j.contains("model") && j["model"].contains("type") && j["model"]["type"].is_string()
                           ? j["model"]["type"].get<std::string>()
                           : "";
    if (type == "BPE") return BpeTokenizer::from_tokenizer_json((d / "tokenizer.json").string());
    if (type == "WordPiece") return WordPieceTokenizer::from_tokenizer_json((d / "tokenizer.json").string());
    throw Error((d / "tokenizer.json").string() + ": model type '" + type +
                "' is not supported (expected BPE or WordPiece)");
  }
  if (core::file_exists((d / "vocab.json").string()) && core::file_exists((d / "merges.txt").string()))
    return BpeTokenizer::from_files((d / "vocab.json").string(), (d / "merges.txt").string());
  if (core::file_exists((d / "vocab.txt").string())) {
    WordPieceOptions opt;
    auto cfg_path = (d / "tokenizer_config.json").string();
    if (core::file_exists(cfg_path)) {
      auto j = nlohmann::json::parse(core::read_file(cfg_path), nullptr, false);
      if (!j.is_discarded() && j.contains("do_lower_case") && j["do_lower_case"].is_boolean())
        opt.lowercase = j["do_lower_case"].get<bool>();
    }
    return WordPieceTokenizer::from_vocab_txt((d / "vocab.txt").string(), opt);
  }
  throw Error("no tokenizer in " + dir + ": expected tokenizer.json, vocab.json + merges.txt, or vocab.txt");
}

}  // namespace clickprompt::plm
