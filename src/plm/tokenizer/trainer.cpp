#include "plm/tokenizer/trainer.h"

#include <algorithm>
#include <queue>
#include <set>
#include <tuple>
#include <unordered_set>

#include "core/error.h"
#include "plm/tokenizer/unicode.h"

namespace clickprompt::plm {

namespace {
// A pair of symbol ids as one hash key.
uint64_t key(int a, int b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); }

// `sym` with every (a, b) occurrence, left to right, replaced by `merged`; appended to `out`.
void merge_pair(const std::vector<int>& sym, int a, int b, int merged, std::vector<int>& out) {
  for (size_t i = 0; i < sym.size();) {
    if (i + 1 < sym.size() && sym[i] == a && sym[i + 1] == b) {
      out.push_back(merged);
      i += 2;
    } else {
      out.push_back(sym[i]);
      i += 1;
    }
  }
}
}  // namespace

BpeTrainer::BpeTrainer(BpeTrainerOptions opt) : opt_(std::move(opt)) {
  int64_t fixed = static_cast<int64_t>(opt_.special_tokens.size()) + 256 + 1;
  if (opt_.vocab_size < fixed)
    throw Error("BPE trainer: vocab_size " + std::to_string(opt_.vocab_size) + " is below the " +
                std::to_string(fixed) + " fixed entries (special tokens, 256 bytes, mask)");
  if (opt_.min_frequency < 1) throw Error("BPE trainer: min_frequency must be >= 1");
}

void BpeTrainer::add_text(std::string_view text, int64_t count) {
  std::string clean = unicode::sanitize(text);
  for (const auto& piece : BpeTokenizer::pre_tokenize(clean)) {
    std::string mapped;
    for (unsigned char b : piece) mapped += BpeTokenizer::byte_symbol(b);
    word_counts_[mapped] += count;
  }
}

std::shared_ptr<BpeTokenizer> BpeTrainer::train() const {
  // Symbols: 0..255 are the byte symbols; merged symbols follow.
  std::vector<std::string> symbols;
  std::unordered_map<std::string, int> byte_sym;
  for (int b = 0; b < 256; ++b) {
    symbols.push_back(BpeTokenizer::byte_symbol(static_cast<unsigned char>(b)));
    byte_sym[symbols.back()] = b;
  }
  struct Word {
    std::vector<int> sym;
    int64_t count;
  };
  std::vector<Word> words;
  words.reserve(word_counts_.size());
  // Sorted for determinism regardless of hash order.
  std::vector<std::pair<std::string, int64_t>> sorted(word_counts_.begin(), word_counts_.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [w, c] : sorted) {
    Word word{{}, c};
    for (size_t i = 0; i < w.size();) {
      int n = unicode::utf8_length(static_cast<unsigned char>(w[i]));
      word.sym.push_back(byte_sym.at(w.substr(i, static_cast<size_t>(n))));
      i += static_cast<size_t>(n);
    }
    words.push_back(std::move(word));
  }
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::unordered_set<int>> where;
  for (int wi = 0; wi < static_cast<int>(words.size()); ++wi) {
    const auto& w = words[static_cast<size_t>(wi)];
    for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
      uint64_t k = key(w.sym[i], w.sym[i + 1]);
      pair_count[k] += w.count;
      where[k].insert(wi);
    }
  }
  // Max-heap on (count, older pair first); stale entries are skipped lazily.
  using Entry = std::tuple<int64_t, uint64_t>;
  auto cmp = [](const Entry& a, const Entry& b) {
    if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
    return std::get<1>(a) > std::get<1>(b);
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(cmp)> heap(cmp);
  for (const auto& [k, c] : pair_count) heap.emplace(c, k);

  const int64_t max_symbols = opt_.vocab_size - static_cast<int64_t>(opt_.special_tokens.size()) - 1;
  std::unordered_map<std::string, int> sym_id(byte_sym.begin(), byte_sym.end());
  std::vector<BpeTokenizer::Merge> merges;
  while (static_cast<int64_t>(symbols.size()) < max_symbols && !heap.empty()) {
    auto [count, k] = heap.top();
    heap.pop();
    auto it = pair_count.find(k);
    if (it == pair_count.end() || it->second != count) continue;  // stale
    if (count < opt_.min_frequency) break;
    int a = static_cast<int>(k >> 32), b = static_cast<int>(k & 0xffffffffu);
    std::string merged_str = symbols[static_cast<size_t>(a)] + symbols[static_cast<size_t>(b)];
    int merged;
    if (auto s = sym_id.find(merged_str); s != sym_id.end()) {
      merged = s->second;  // another merge path already made this string
    } else {
      merged = static_cast<int>(symbols.size());
      symbols.push_back(merged_str);
      sym_id.emplace(merged_str, merged);
    }
    merges.emplace_back(symbols[static_cast<size_t>(a)], symbols[static_cast<size_t>(b)]);
    std::vector<int> affected(where[k].begin(), where[k].end());
    std::sort(affected.begin(), affected.end());
    std::unordered_map<uint64_t, int64_t> changed;
    for (int wi : affected) {
      auto& w = words[static_cast<size_t>(wi)];
      for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
        uint64_t pk = key(w.sym[i], w.sym[i + 1]);
        pair_count[pk] -= w.count;
        changed[pk];
      }
      std::vector<int> out;
      out.reserve(w.sym.size());
      merge_pair(w.sym, a, b, merged, out);
      w.sym.swap(out);
      for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
        uint64_t pk = key(w.sym[i], w.sym[i + 1]);
        pair_count[pk] += w.count;
        where[pk].insert(wi);
        changed[pk];
      }
    }
    for (const auto& [pk, unused] : changed) {
      auto pc = pair_count.find(pk);
      if (pc == pair_count.end()) continue;
      if (pc->second <= 0) {
        pair_count.erase(pc);
        where.erase(pk);
      } else {
        heap.emplace(pc->second, pk);
      }
    }
    pair_count.erase(k);
    where.erase(k);
  }

  std::unordered_map<std::string, int64_t> vocab;
  auto add = [&](const std::string& t) {
    if (vocab.count(t)) throw Error("BPE trainer: token '" + t + "' would appear twice in the vocabulary");
    int64_t id = static_cast<int64_t>(vocab.size());
    vocab.emplace(t, id);
  };
  for (const auto& s : opt_.special_tokens) add(s);
  for (size_t i = 0; i < symbols.size(); ++i) add(symbols[i]);
  add(opt_.mask_token);
  BpeOptions bo;
  if (opt_.special_tokens.size() >= 4) {
    bo.bos_token = opt_.special_tokens[0];
    bo.pad_token = opt_.special_tokens[1];
    bo.eos_token = opt_.special_tokens[2];
    bo.unk_token = opt_.special_tokens[3];
  }
  bo.mask_token = opt_.mask_token;
  return std::make_shared<BpeTokenizer>(std::move(vocab), std::move(merges), bo, "trained BPE vocabulary");
}

namespace {

// A WordPieceTokenizer that stops after BERT basic tokenization: tokenize()
// yields exactly the words the real tokenizer hands to WordPiece (after the
// same clean-up, lower-casing and special-token splitting), plus the special
// tokens it splits off.
class WordSplitter : public WordPieceTokenizer {
 public:
  using WordPieceTokenizer::WordPieceTokenizer;

 protected:
  void tokenize_plain(std::string_view text, std::vector<std::string>& out) const override {
    for (auto& w : basic_tokenize(text)) out.push_back(std::move(w));
  }
};

const char* const kBertSpecials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

}  // namespace

WordPieceTrainer::WordPieceTrainer(WordPieceTrainerOptions opt) : opt_(std::move(opt)) {
  const int64_t n_special = static_cast<int64_t>(opt_.special_tokens.size());
  if (opt_.vocab_size <= n_special)
    throw Error("WordPiece trainer: vocab_size " + std::to_string(opt_.vocab_size) + " leaves no room next to the " +
                std::to_string(n_special) + " special tokens; use a vocab_size above " + std::to_string(n_special) +
                " (BERT uses 30522)");
  if (opt_.min_frequency < 1)
    throw Error("WordPiece trainer: min_frequency must be >= 1, got " + std::to_string(opt_.min_frequency));
  if (opt_.max_input_chars_per_word < 1)
    throw Error("WordPiece trainer: max_input_chars_per_word must be >= 1, got " +
                std::to_string(opt_.max_input_chars_per_word));
  std::unordered_set<std::string> seen;
  for (const auto& t : opt_.special_tokens) {
    if (t.empty()) throw Error("WordPiece trainer: special_tokens has an empty entry");
    for (char32_t c : unicode::decode(t))
      if (unicode::is_py_space(c))
        throw Error("WordPiece trainer: special token '" + t +
                    "' contains whitespace; vocab.txt holds one token per line and BERT splits words on whitespace");
    if (!seen.insert(t).second) throw Error("WordPiece trainer: special token '" + t + "' is listed twice");
  }
  for (const char* role : kBertSpecials)
    if (!seen.count(role))
      throw Error(std::string("WordPiece trainer: special_tokens lacks ") + role +
                  "; the WordPiece tokenizer and vocab.txt know special tokens by BERT's names, so list all of "
                  "[PAD] [UNK] [CLS] [SEP] [MASK] (in any order; extra tokens are allowed)");
  splitter_ = std::make_shared<WordSplitter>(opt_.special_tokens, tokenizer_options(), "WordPiece trainer pre-tokenizer");
}

WordPieceOptions WordPieceTrainer::tokenizer_options() const {
  WordPieceOptions o;
  o.lowercase = opt_.lowercase;
  o.continuing_prefix = opt_.continuing_prefix;
  o.max_input_chars_per_word = static_cast<size_t>(opt_.max_input_chars_per_word);
  return o;
}

void WordPieceTrainer::add_text(std::string_view text, int64_t count) {
  if (count < 0) throw Error("WordPiece trainer: add_text count must be >= 0, got " + std::to_string(count));
  if (count == 0) return;
  for (auto& w : splitter_->tokenize(text)) {
    if (splitter_->has_token(w) && splitter_->is_special_id(splitter_->token_to_id(w))) continue;
    // Longer words are [UNK] whatever the vocabulary holds.
    if (static_cast<int64_t>(unicode::decode(w).size()) > opt_.max_input_chars_per_word) continue;
    word_counts_[std::move(w)] += count;
  }
}

std::shared_ptr<WordPieceTokenizer> WordPieceTrainer::train() const {
  // The vocabulary is `symbols` in id order; merged strings that already exist
  // (another merge path, or a special token) reuse their id.
  std::vector<std::string> symbols;
  std::unordered_map<std::string, int> sym_id;
  auto intern = [&](const std::string& s) {
    auto it = sym_id.find(s);
    if (it != sym_id.end()) return it->second;
    int id = static_cast<int>(symbols.size());
    symbols.push_back(s);
    sym_id.emplace(s, id);
    return id;
  };
  for (const auto& t : opt_.special_tokens) intern(t);

  // Words sorted for determinism regardless of hash order.
  std::vector<std::pair<std::string, int64_t>> sorted(word_counts_.begin(), word_counts_.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::vector<char32_t>> chars_of;
  chars_of.reserve(sorted.size());
  std::set<char32_t> alphabet, inside;  // every seen char / those seen after a word's first char
  for (const auto& [w, c] : sorted) {
    chars_of.push_back(unicode::decode(w));
    const auto& cps = chars_of.back();
    for (size_t i = 0; i < cps.size(); ++i) {
      alphabet.insert(cps[i]);
      if (i > 0) inside.insert(cps[i]);
    }
  }
  // Alphabet: every char bare, then the prefixed form of every char that can
  // stand inside a word (not punctuation, not a split-off CJK character), so
  // that any word of seen characters encodes without [UNK].
  std::unordered_map<char32_t, int> bare_id, cont_id;
  for (char32_t c : alphabet) {
    std::string s;
    unicode::append_utf8(s, c);
    bare_id[c] = intern(s);
    if (!inside.count(c) && splitter_->basic_tokenize("a" + s).size() == 1) inside.insert(c);
  }
  for (char32_t c : inside) {
    std::string s;
    unicode::append_utf8(s, c);
    cont_id[c] = intern(opt_.continuing_prefix + s);
  }

  struct Word {
    std::vector<int> sym;
    int64_t count;
  };
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (size_t wi = 0; wi < sorted.size(); ++wi) {
    Word word{{}, sorted[wi].second};
    const auto& cps = chars_of[wi];
    word.sym.reserve(cps.size());
    for (size_t i = 0; i < cps.size(); ++i) word.sym.push_back(i == 0 ? bare_id.at(cps[i]) : cont_id.at(cps[i]));
    words.push_back(std::move(word));
  }
  chars_of.clear();

  std::unordered_map<uint64_t, int64_t> pair_count;
  // Words that (may) hold the pair; duplicates and stale entries are weeded out on use.
  std::unordered_map<uint64_t, std::vector<int>> where;
  for (int wi = 0; wi < static_cast<int>(words.size()); ++wi) {
    const auto& w = words[static_cast<size_t>(wi)];
    for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
      uint64_t k = key(w.sym[i], w.sym[i + 1]);
      pair_count[k] += w.count;
      auto& list = where[k];
      if (list.empty() || list.back() != wi) list.push_back(wi);
    }
  }
  // Max-heap on count, ties to the lexicographically smaller (left, right)
  // pair of strings; stale entries are skipped lazily.
  using Entry = std::pair<int64_t, uint64_t>;
  auto lower_priority = [&symbols](const Entry& x, const Entry& y) {
    if (x.first != y.first) return x.first < y.first;
    const std::string& xl = symbols[static_cast<size_t>(x.second >> 32)];
    const std::string& yl = symbols[static_cast<size_t>(y.second >> 32)];
    if (xl != yl) return xl > yl;
    return symbols[static_cast<size_t>(x.second & 0xffffffffu)] > symbols[static_cast<size_t>(y.second & 0xffffffffu)];
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(lower_priority)> heap(lower_priority);
  for (const auto& [k, c] : pair_count) heap.emplace(c, k);

  const std::string& prefix = opt_.continuing_prefix;
  while (static_cast<int64_t>(symbols.size()) < opt_.vocab_size && !heap.empty()) {
    auto [count, k] = heap.top();
    heap.pop();
    auto it = pair_count.find(k);
    if (it == pair_count.end() || it->second != count) continue;  // stale
    if (count < opt_.min_frequency) break;
    int a = static_cast<int>(k >> 32), b = static_cast<int>(k & 0xffffffffu);
    const std::string& right = symbols[static_cast<size_t>(b)];
    bool strip = !prefix.empty() && right.compare(0, prefix.size(), prefix) == 0;
    int merged = intern(symbols[static_cast<size_t>(a)] + (strip ? right.substr(prefix.size()) : right));

    std::vector<int> affected = std::move(where[k]);
    where.erase(k);
    std::sort(affected.begin(), affected.end());
    affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
    std::unordered_map<uint64_t, int64_t> delta;
    std::vector<int> out;
    for (int wi : affected) {
      auto& w = words[static_cast<size_t>(wi)];
      bool has = false;
      for (size_t i = 0; i + 1 < w.sym.size() && !has; ++i) has = w.sym[i] == a && w.sym[i + 1] == b;
      if (!has) continue;  // stale entry: an earlier merge took the pair apart
      for (size_t i = 0; i + 1 < w.sym.size(); ++i) delta[key(w.sym[i], w.sym[i + 1])] -= w.count;
      out.clear();
      merge_pair(w.sym, a, b, merged, out);
      w.sym.swap(out);
      for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
        uint64_t pk = key(w.sym[i], w.sym[i + 1]);
        delta[pk] += w.count;
        auto& list = where[pk];
        if (list.empty() || list.back() != wi) list.push_back(wi);
      }
    }
    for (const auto& [pk, d] : delta) {
      if (d == 0) continue;
      auto pc = pair_count.find(pk);
      int64_t now = (pc == pair_count.end() ? 0 : pc->second) + d;
      if (now <= 0) {
        if (pc != pair_count.end()) pair_count.erase(pc);
        where.erase(pk);
      } else {
        pair_count[pk] = now;
        heap.emplace(now, pk);
      }
    }
    pair_count.erase(k);
  }
  return std::make_shared<WordPieceTokenizer>(symbols, tokenizer_options(), "trained WordPiece vocabulary");
}

}  // namespace clickprompt::plm
