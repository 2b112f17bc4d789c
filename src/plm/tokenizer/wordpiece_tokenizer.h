#pragma once
// WordPiece (BERT), matching HF's slow BertTokenizer: basic tokenization
// (control-character cleanup, whitespace normalisation, CJK characters split
// off, lower-casing + accent stripping through NFD, punctuation split), then
// greedy longest-match-first WordPiece with `##` continuations and [UNK] for
// words longer than max_input_chars_per_word.
#include <memory>
#include <string>
#include <vector>

#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::plm {

struct WordPieceOptions {
  bool lowercase = true;
  int strip_accents = -1;  // -1: follow `lowercase`; 0: never; 1: always
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  std::string continuing_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

class WordPieceTokenizer : public Tokenizer {
 public:
  // `vocab[i]` is the token of id i.
  WordPieceTokenizer(const std::vector<std::string>& vocab, const WordPieceOptions& opt = {},
                     const std::string& source = "wordpiece vocabulary");

  static std::shared_ptr<WordPieceTokenizer> from_vocab_txt(const std::string& path,
                                                            const WordPieceOptions& opt = {});
  static std::shared_ptr<WordPieceTokenizer> from_tokenizer_json(const std::string& path);

  std::string kind() const override { return "wordpiece"; }
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const override;
  // Writes vocab.txt (+ tokenizer_config.json with do_lower_case) into `dir`.
  void save(const std::string& dir) const;

  // BERT BasicTokenizer: words and punctuation, before WordPiece.
  std::vector<std::string> basic_tokenize(std::string_view text) const;
  // WordPiece of one word (no whitespace inside).
  void wordpiece(const std::string& word, std::vector<std::string>& out) const;
  const WordPieceOptions& options() const { return opt_; }

  // True for the code points BERT treats as CJK characters.
  static bool is_cjk(char32_t cp);

 protected:
  void tokenize_plain(std::string_view text, std::vector<std::string>& out) const override;

 private:
  WordPieceOptions opt_;
};

}  // namespace clickprompt::plm
