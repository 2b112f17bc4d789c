#pragma once
// Vocabulary training from a text corpus (for in-project pretraining when no
// HF checkpoint is at hand):
// - BpeTrainer: byte-level BPE; the result is an ordinary BpeTokenizer
//   (RoBERTa-style special tokens) that saves as vocab.json + merges.txt.
// - WordPieceTrainer: BERT WordPiece, as HF tokenizers' WordPieceTrainer (BPE
//   merges over "##"-continued characters); the result is an ordinary
//   WordPieceTokenizer that saves as vocab.txt.
// Both load back through load_tokenizer().
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plm/tokenizer/bpe_tokenizer.h"
#include "plm/tokenizer/wordpiece_tokenizer.h"

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

struct WordPieceTrainerOptions {
  // Upper bound on special tokens + alphabet + merged tokens. Merging stops
  // when it is reached. The alphabet is never cut: when special tokens +
  // alphabet already reach vocab_size, no merges are made and the vocabulary
  // is larger than vocab_size (as HF does; every seen character stays
  // encodable). Must be > the number of special tokens.
  int64_t vocab_size = 8000;
  // Pairs seen fewer times than this are never merged (>= 1).
  int64_t min_frequency = 2;
  // BERT uncased: lower-case and strip accents (saved as do_lower_case).
  bool lowercase = true;
  // Ids 0.. in this order. Must contain BERT's [PAD] [UNK] [CLS] [SEP] [MASK]
  // (vocab.txt is read back with these names); further entries are reserved
  // plain vocabulary entries.
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  // Marks a piece that continues a word. Only "##" survives save() +
  // load_tokenizer() (vocab.txt has no place for another prefix).
  std::string continuing_prefix = "##";
  // Longer words become [UNK] in the tokenizer, so training skips them. Only
  // the default 100 survives save() + load_tokenizer().
  int64_t max_input_chars_per_word = 100;
};

class WordPieceTrainer {
 public:
  explicit WordPieceTrainer(WordPieceTrainerOptions opt = {});
  // Splits `text` into words exactly as the trained tokenizer will (BERT basic
  // tokenization with these options, special tokens left out) and counts
  // them, `count` times (>= 0).
  void add_text(std::string_view text, int64_t count = 1);
  size_t distinct_words() const { return word_counts_.size(); }
  // Vocabulary: special tokens (ids 0..), then the alphabet (every seen
  // character bare, sorted by code point; then the prefixed form of every
  // seen character that can occur inside a word, sorted), then the merged
  // tokens in merge order. Merges: most frequent adjacent pair first, ties to
  // the lexicographically smaller (left, right) pair of token strings.
  // Deterministic.
  std::shared_ptr<WordPieceTokenizer> train() const;
  // The tokenizer options the trained tokenizer gets.
  WordPieceOptions tokenizer_options() const;

 private:
  WordPieceTrainerOptions opt_;
  std::shared_ptr<const WordPieceTokenizer> splitter_;  // basic tokenization only
  std::unordered_map<std::string, int64_t> word_counts_;
};

}  // namespace clickprompt::plm
