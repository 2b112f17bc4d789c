#include "plm/tokenizer/trainer.h"

#include <queue>
#include <tuple>
#include <unordered_set>

#include "core/error.h"
#include "plm/tokenizer/unicode.h"

namespace clickprompt::plm {

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
  auto key = [](int a, int b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); };
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
      for (size_t i = 0; i < w.sym.size();) {
        if (i + 1 < w.sym.size() && w.sym[i] == a && w.sym[i + 1] == b) {
          out.push_back(merged);
          i += 2;
        } else {
          out.push_back(w.sym[i]);
          i += 1;
        }
      }
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

}  // namespace clickprompt::plm
