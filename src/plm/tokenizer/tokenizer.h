#pragma once
// Tokenizer interface shared by the byte-level BPE (RoBERTa/GPT-2) and WordPiece
// (BERT) tokenizers. `tokenize` reproduces HuggingFace's slow
// `PreTrainedTokenizer.tokenize` as `from_pretrained` sets it up: special tokens
// are never split, `<mask>`-style tokens with lstrip eat the whitespace to their
// left, and lower-casing tokenizers lower-case everything but special tokens
// first. `encode` adds the model's special tokens (`<s> ... </s>`,
// `[CLS] ... [SEP]`). `encode_piece` is the cached path for short, repeated
// string pieces (ClickPrompt's per-field text views).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace clickprompt::plm {

// A token that is never split by the pre-tokenizer.
struct SpecialToken {
  std::string content;
  int64_t id = -1;
  bool lstrip = false;  // removes whitespace on its left
  bool rstrip = false;  // removes whitespace on its right
  // HF slow tokenizers strip BOTH neighbours of special tokens given as plain
  // strings (BERT) and follow lstrip/rstrip for AddedToken objects (RoBERTa).
  bool plain_string = false;
};

enum class Padding { None, Longest, MaxLength };

struct EncodeOptions {
  bool add_special_tokens = true;
  // Truncate to max_length (special tokens included) when > 0.
  int64_t max_length = 0;
  Padding padding = Padding::Longest;
};

// Row-major [batch x length] ids and mask, right-padded.
struct EncodedBatch {
  int64_t batch = 0;
  int64_t length = 0;
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;
  std::vector<int64_t> lengths;  // real tokens per row
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // "bpe" or "wordpiece".
  virtual std::string kind() const = 0;

  // Tokens (vocabulary strings) of `text`, without the model's special tokens.
  std::vector<std::string> tokenize(std::string_view text) const;
  // Ids of `text`, with `[CLS]/<s>` ... `[SEP]/</s>` when add_special_tokens.
  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Ids of `text` without special tokens, memoized per distinct string (thread-safe).
  std::vector<int64_t> encode_piece(std::string_view text) const;
  // cls + ids + sep.
  std::vector<int64_t> with_special_tokens(const std::vector<int64_t>& ids) const;
  EncodedBatch encode_batch(const std::vector<std::string>& texts, const EncodeOptions& opt = {}) const;
  // Pads/truncates already encoded rows (e.g. assembled from cached pieces).
  EncodedBatch pad(const std::vector<std::vector<int64_t>>& rows, const EncodeOptions& opt = {}) const;
  // Text of ids (special tokens skipped when skip_special).
  virtual std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const = 0;

  int64_t token_to_id(std::string_view token) const;  // unk id when absent
  bool has_token(std::string_view token) const;
  const std::string& id_to_token(int64_t id) const;  // throws Error when out of range
  int64_t vocab_size() const { return static_cast<int64_t>(id_to_token_.size()); }

  int64_t pad_id() const { return pad_id_; }
  int64_t cls_id() const { return cls_id_; }  // <s> for RoBERTa
  int64_t sep_id() const { return sep_id_; }  // </s> for RoBERTa
  int64_t mask_id() const { return mask_id_; }
  int64_t unk_id() const { return unk_id_; }
  const std::string& mask_token() const { return mask_token_; }
  const std::vector<SpecialToken>& special_tokens() const { return specials_; }
  bool is_special_id(int64_t id) const;

  size_t cache_size() const;
  void clear_cache() const;

 protected:
  Tokenizer() = default;
  // HF `_tokenize`: tokens of a piece that contains no special token.
  virtual void tokenize_plain(std::string_view text, std::vector<std::string>& out) const = 0;
  // Prepare the text (HF prepare_for_tokenization / tokenizer-level lower-casing).
  virtual std::string prepare(std::string_view text) const;
  // Splits on special tokens (earliest match, longest first), then strips.
  std::vector<std::string> split_on_special(std::string_view text) const;
  // Sets the vocabulary; id_to_token is filled from it (ids must be dense).
  void set_vocab(std::unordered_map<std::string, int64_t> vocab, const std::string& source);
  // Registers a special token that exists in the vocabulary (or is appended).
  void add_special(SpecialToken tok);
  void finish_specials();

  std::unordered_map<std::string, int64_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<SpecialToken> specials_;
  std::vector<char> special_flag_;  // per id
  bool lowercase_before_split_ = false;
  int64_t pad_id_ = -1, cls_id_ = -1, sep_id_ = -1, mask_id_ = -1, unk_id_ = -1;
  std::string mask_token_;

 private:
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> piece_cache_;
};

// Loads a tokenizer from a folder: tokenizer.json if present, else
// vocab.json + merges.txt (byte-level BPE), else vocab.txt (WordPiece,
// lower-casing unless `tokenizer_config.json` says do_lower_case=false).
std::shared_ptr<Tokenizer> load_tokenizer(const std::string& dir);

}  // namespace clickprompt::plm
