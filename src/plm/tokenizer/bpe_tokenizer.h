#pragma once
// Byte-level BPE (GPT-2 / RoBERTa), matching HF's slow RobertaTokenizer:
// GPT-2 pre-tokenization regex (RE2, with the `\s+(?!\S)` look-ahead branch done
// by hand), bytes mapped to printable code points, then BPE merges by rank.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::plm {

struct BpeOptions {
  bool add_prefix_space = false;
  std::string bos_token = "<s>";   // also the cls token
  std::string eos_token = "</s>";  // also the sep token
  std::string unk_token = "<unk>";
  std::string pad_token = "<pad>";
  std::string mask_token = "<mask>";
  bool mask_lstrip = true;  // RoBERTa: AddedToken("<mask>", lstrip=True)
};

class BpeTokenizer : public Tokenizer {
 public:
  using Merge = std::pair<std::string, std::string>;

  BpeTokenizer(std::unordered_map<std::string, int64_t> vocab, std::vector<Merge> merges,
               const BpeOptions& opt = {}, const std::string& source = "bpe vocabulary");
  ~BpeTokenizer() override;

  // vocab.json + merges.txt (as written by HF / GPT-2).
  static std::shared_ptr<BpeTokenizer> from_files(const std::string& vocab_json, const std::string& merges_txt,
                                                  const BpeOptions& opt = {});
  // HF fast-tokenizer file with a BPE model (added tokens and their strip flags are read).
  static std::shared_ptr<BpeTokenizer> from_tokenizer_json(const std::string& path);

  std::string kind() const override { return "bpe"; }
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const override;
  const std::vector<Merge>& merges() const { return merges_; }
  // Writes vocab.json and merges.txt into `dir` (atomic writes).
  void save(const std::string& dir) const;

  // GPT-2 pre-tokenization of raw text (exposed for tests and the trainer).
  static std::vector<std::string> pre_tokenize(std::string_view text);
  // The printable code point (as UTF-8) that stands for byte b.
  static const std::string& byte_symbol(unsigned char b);

 protected:
  void tokenize_plain(std::string_view text, std::vector<std::string>& out) const override;
  std::string prepare(std::string_view text) const override;

 private:
  void bpe(const std::string& word, std::vector<std::string>& out) const;

  std::vector<Merge> merges_;
  std::unordered_map<std::string, int> ranks_;  // "a b" -> rank
  BpeOptions opt_;
  mutable std::mutex word_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::string>> word_cache_;
};

}  // namespace clickprompt::plm
