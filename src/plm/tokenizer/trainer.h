#pragma once
// Byte-level BPE vocabulary training from a text corpus (for in-project
// pretraining when no HF checkpoint is at hand). The result is an ordinary
// BpeTokenizer (RoBERTa-style special tokens) that saves as vocab.json +
// merges.txt and loads back through load_tokenizer().
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plm/tokenizer/bpe_tokenizer.h"

namespace clickprompt::plm {

struct BpeTrainerOptions {
  // Total vocabulary: special tokens + 256 byte symbols + merges.
  int64_t vocab_size = 8000;
  // Pairs seen fewer times than this are never merged.
  int64_t min_frequency = 2;
  // Ids 0.. in this order (RoBERTa: <s>=0, <pad>=1, </s>=2, <unk>=3); the
  // mask token gets the last id.
  std::vector<std::string> special_tokens = {"<s>", "<pad>", "</s>", "<unk>"};
  std::string mask_token = "<mask>";
};

class BpeTrainer {
 public:
  explicit BpeTrainer(BpeTrainerOptions opt = {});
  // Pre-tokenizes (GPT-2 pattern) and counts the words of `text`, `count` times.
  void add_text(std::string_view text, int64_t count = 1);
  size_t distinct_words() const { return word_counts_.size(); }
  // Learns the merges; deterministic (ties go to the pair of older symbols).
  std::shared_ptr<BpeTokenizer> train() const;

 private:
  BpeTrainerOptions opt_;
  std::unordered_map<std::string, int64_t> word_counts_;  // byte-mapped words
};

}  // namespace clickprompt::plm
