#include "plm/tokenizer/wordpiece_tokenizer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "plm/tokenizer/unicode.h"

namespace clickprompt::plm {

namespace {

bool bert_is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || unicode::is_space_separator(c);
}

bool bert_is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return unicode::is_control_category(c);
}

bool bert_is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return unicode::is_punctuation_category(c);
}

// Python str.split(): split on runs of str.isspace() characters.
void split_whitespace(const std::vector<char32_t>& cps, std::vector<std::vector<char32_t>>& out) {
  std::vector<char32_t> cur;
  for (char32_t c : cps) {
    if (unicode::is_py_space(c)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
}

}  // namespace

bool WordPieceTokenizer::is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

WordPieceTokenizer::WordPieceTokenizer(const std::vector<std::string>& vocab, const WordPieceOptions& opt,
                                       const std::string& source)
    : opt_(opt) {
  std::unordered_map<std::string, int64_t> v;
  v.reserve(vocab.size());
  std::vector<std::string> tokens;
  // HF load_vocab: a repeated token keeps its last index; ids stay the line numbers.
  for (size_t i = 0; i < vocab.size(); ++i) v[vocab[i]] = static_cast<int64_t>(i);
  if (v.size() != vocab.size()) {
    // Duplicates would leave holes; keep dense ids by making duplicates unique.
    v.clear();
    for (size_t i = 0; i < vocab.size(); ++i) {
      std::string t = vocab[i];
      while (v.count(t)) t += " ";
      v[t] = static_cast<int64_t>(i);
    }
  }
  set_vocab(std::move(v), source);
  lowercase_before_split_ = opt_.lowercase;
  auto add = [&](const std::string& t) {
    SpecialToken s;
    s.content = t;
    s.plain_string = true;
    add_special(s);
    return vocab_.at(t);
  };
  // Order as HF's all_special_tokens: unk, sep, pad, cls, mask.
  unk_id_ = add(opt_.unk_token);
  sep_id_ = add(opt_.sep_token);
  pad_id_ = add(opt_.pad_token);
  cls_id_ = add(opt_.cls_token);
  mask_id_ = add(opt_.mask_token);
  mask_token_ = opt_.mask_token;
  finish_specials();
}

std::shared_ptr<WordPieceTokenizer> WordPieceTokenizer::from_vocab_txt(const std::string& path,
                                                                       const WordPieceOptions& opt) {
  std::vector<std::string> vocab;
  std::string text = core::read_file(path);
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    vocab.emplace_back(text.substr(start, nl - start));  // HF: token.rstrip("\n")
    start = nl + 1;
  }
  if (vocab.empty()) throw Error(path + ": empty vocabulary");
  return std::make_shared<WordPieceTokenizer>(vocab, opt, path);
}

std::shared_ptr<WordPieceTokenizer> WordPieceTokenizer::from_tokenizer_json(const std::string& path) {
  auto j = nlohmann::json::parse(core::read_file(path), nullptr, false);
  if (j.is_discarded()) throw Error(path + ": not valid JSON");
  const auto& model = j.at("model");
  const auto& vj = model.at("vocab");
  std::vector<std::string> vocab(vj.size());
  for (auto it = vj.begin(); it != vj.end(); ++it) {
    auto id = it.value().get<int64_t>();
    if (id < 0 || id >= static_cast<int64_t>(vocab.size())) throw Error(path + ": token id out of range: " + it.key());
    vocab[static_cast<size_t>(id)] = it.key();
  }
  WordPieceOptions opt;
  if (model.contains("unk_token")) opt.unk_token = model["unk_token"].get<std::string>();
  if (model.contains("continuing_subword_prefix") && model["continuing_subword_prefix"].is_string())
    opt.continuing_prefix = model["continuing_subword_prefix"].get<std::string>();
  if (model.contains("max_input_chars_per_word"))
    opt.max_input_chars_per_word = model["max_input_chars_per_word"].get<size_t>();
  if (j.contains("normalizer") && j["normalizer"].is_object()) {
    const auto& n = j["normalizer"];
    opt.lowercase = n.value("lowercase", true);
    opt.clean_text = n.value("clean_text", true);
    opt.tokenize_chinese_chars = n.value("handle_chinese_chars", true);
    if (n.contains("strip_accents") && n["strip_accents"].is_boolean())
      opt.strip_accents = n["strip_accents"].get<bool>() ? 1 : 0;
  }
  if (j.contains("post_processor") && j["post_processor"].is_object()) {
    const auto& pp = j["post_processor"];
    if (pp.contains("cls") && pp["cls"].is_array()) opt.cls_token = pp["cls"][0].get<std::string>();
    if (pp.contains("sep") && pp["sep"].is_array()) opt.sep_token = pp["sep"][0].get<std::string>();
  }
  return std::make_shared<WordPieceTokenizer>(vocab, opt, path);
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(std::string_view text) const {
  auto cps = unicode::decode(text);
  std::vector<char32_t> cleaned;
  cleaned.reserve(cps.size() + 8);
  for (char32_t c : cps) {
    if (opt_.clean_text) {
      if (c == 0 || c == 0xFFFD || bert_is_control(c)) continue;
      if (bert_is_whitespace(c)) {
        cleaned.push_back(' ');
        continue;
      }
    }
    if (opt_.tokenize_chinese_chars && is_cjk(c)) {
      cleaned.push_back(' ');
      cleaned.push_back(c);
      cleaned.push_back(' ');
    } else {
      cleaned.push_back(c);
    }
  }
  std::vector<std::vector<char32_t>> words;
  split_whitespace(cleaned, words);
  bool strip = opt_.strip_accents == 1 || (opt_.strip_accents == -1 && opt_.lowercase);
  std::vector<std::string> out;
  for (auto& w : words) {
    std::string word = unicode::encode(w);
    bool never_split = false;
    for (const auto& sp : specials_) never_split = never_split || sp.content == word;
    if (never_split) {
      out.push_back(word);
      continue;
    }
    if (opt_.lowercase) word = unicode::lower(word);
    if (strip) {
      std::string stripped;
      for (char32_t c : unicode::decode(unicode::nfd(word)))
        if (!unicode::is_nonspacing_mark(c)) unicode::append_utf8(stripped, c);
      word.swap(stripped);
    }
    // Split punctuation into tokens of their own.
    std::string cur;
    for (char32_t c : unicode::decode(word)) {
      if (bert_is_punctuation(c)) {
        if (!cur.empty()) out.push_back(std::move(cur));
        cur.clear();
        std::string p;
        unicode::append_utf8(p, c);
        out.push_back(std::move(p));
      } else if (unicode::is_py_space(c)) {
        // whitespace_tokenize(" ".join(split_tokens)) re-splits on whitespace.
        if (!cur.empty()) out.push_back(std::move(cur));
        cur.clear();
      } else {
        unicode::append_utf8(cur, c);
      }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
  }
  return out;
}

void WordPieceTokenizer::wordpiece(const std::string& word, std::vector<std::string>& out) const {
  auto chars = unicode::decode(word);
  if (chars.size() > opt_.max_input_chars_per_word) {
    out.push_back(opt_.unk_token);
    return;
  }
  // Byte offset of every character boundary.
  std::vector<size_t> off(chars.size() + 1, 0);
  for (size_t i = 0; i < chars.size(); ++i) {
    std::string tmp;
    unicode::append_utf8(tmp, chars[i]);
    off[i + 1] = off[i] + tmp.size();
  }
  std::string enc = unicode::encode(chars);
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < chars.size()) {
    size_t end = chars.size();
    std::string found;
    bool ok = false;
    while (start < end) {
      std::string sub = enc.substr(off[start], off[end] - off[start]);
      if (start > 0) sub = opt_.continuing_prefix + sub;
      if (vocab_.count(sub)) {
        found = std::move(sub);
        ok = true;
        break;
      }
      --end;
    }
    if (!ok) {
      out.push_back(opt_.unk_token);
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

void WordPieceTokenizer::tokenize_plain(std::string_view text, std::vector<std::string>& out) const {
  for (const auto& w : basic_tokenize(text)) {
    bool never_split = false;
    for (const auto& sp : specials_) never_split = never_split || sp.content == w;
    if (never_split)
      out.push_back(w);
    else
      wordpiece(w, out);
  }
}

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  std::string out;
  for (int64_t id : ids) {
    if (skip_special && is_special_id(id)) continue;
    const std::string& t = id_to_token(id);
    if (t.rfind(opt_.continuing_prefix, 0) == 0 && !opt_.continuing_prefix.empty()) {
      out += t.substr(opt_.continuing_prefix.size());
    } else {
      if (!out.empty()) out += ' ';
      out += t;
    }
  }
  return out;
}

void WordPieceTokenizer::save(const std::string& dir) const {
  core::make_dirs(dir);
  std::string v;
  for (const auto& t : id_to_token_) v += t + "\n";
  core::atomic_write_string(dir + "/vocab.txt", v);
  nlohmann::json cfg = {{"do_lower_case", opt_.lowercase}, {"tokenizer_class", "BertTokenizer"},
                        {"model_max_length", 512}};
  core::atomic_write_string(dir + "/tokenizer_config.json", cfg.dump(2));
}

}  // namespace clickprompt::plm
