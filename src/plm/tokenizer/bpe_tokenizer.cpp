#include "plm/tokenizer/bpe_tokenizer.h"

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <array>
#include <climits>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "plm/tokenizer/unicode.h"

namespace clickprompt::plm {

namespace {

// GPT-2's bytes_to_unicode(): printable bytes map to themselves, the others to 256+n.
struct ByteTable {
  std::array<std::string, 256> symbol;
  std::unordered_map<std::string, unsigned char> inverse;
  ByteTable() {
    std::array<int, 256> cp{};
    std::array<bool, 256> direct{};
    for (int b = 0; b < 256; ++b)
      direct[b] = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    int n = 0;
    for (int b = 0; b < 256; ++b) cp[b] = direct[b] ? b : 256 + n++;
    for (int b = 0; b < 256; ++b) {
      std::string s;
      unicode::append_utf8(s, static_cast<char32_t>(cp[b]));
      symbol[b] = s;
      inverse[s] = static_cast<unsigned char>(b);
    }
  }
};

const ByteTable& byte_table() {
  static const ByteTable table;
  return table;
}

// regex's \s (Unicode White_Space); RE2's own \s is ASCII-only and lacks \v.
const char* kSpace = "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

bool is_regex_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::string merge_key(const std::string& a, const std::string& b) { return a + " " + b; }

const size_t kMaxWordCache = 1u << 20;

// GPT-2's pattern without the `\s+(?!\S)` branch (see pre_tokenize()).
const re2::RE2& gpt2_pattern() {
  static const re2::RE2* pattern = [] {
    std::string sp = kSpace;
    std::string pat = "('s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" + sp + "\\p{L}\\p{N}]+|[" + sp + "]+)";
    RE2::Options o;
    o.set_log_errors(false);
    auto* re = new re2::RE2(pat, o);
    if (!re->ok()) throw Error("internal: bad GPT-2 pre-tokenization pattern: " + re->error());
    return re;
  }();
  return *pattern;
}

}  // namespace

const std::string& BpeTokenizer::byte_symbol(unsigned char b) { return byte_table().symbol[b]; }

BpeTokenizer::BpeTokenizer(std::unordered_map<std::string, int64_t> vocab, std::vector<Merge> merges,
                           const BpeOptions& opt, const std::string& source)
    : merges_(std::move(merges)), opt_(opt) {
  set_vocab(std::move(vocab), source);
  for (size_t i = 0; i < merges_.size(); ++i) ranks_.emplace(merge_key(merges_[i].first, merges_[i].second), static_cast<int>(i));
  auto need = [&](const std::string& t, bool lstrip) {
    SpecialToken s;
    s.content = t;
    s.lstrip = lstrip;
    add_special(s);
    return vocab_.at(t);
  };
  // Order as HF's all_special_tokens: bos, eos, unk, sep, pad, cls, mask.
  cls_id_ = need(opt_.bos_token, false);
  sep_id_ = need(opt_.eos_token, false);
  unk_id_ = need(opt_.unk_token, false);
  pad_id_ = need(opt_.pad_token, false);
  mask_id_ = need(opt_.mask_token, opt_.mask_lstrip);
  mask_token_ = opt_.mask_token;
  finish_specials();
}

BpeTokenizer::~BpeTokenizer() = default;

std::shared_ptr<BpeTokenizer> BpeTokenizer::from_files(const std::string& vocab_json, const std::string& merges_txt,
                                                       const BpeOptions& opt) {
  auto j = nlohmann::json::parse(core::read_file(vocab_json), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(vocab_json + ": expected a JSON object {token: id}");
  std::unordered_map<std::string, int64_t> vocab;
  vocab.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer()) throw Error(vocab_json + ": id of token '" + it.key() + "' is not an integer");
    vocab.emplace(it.key(), it.value().get<int64_t>());
  }
  std::vector<Merge> merges;
  core::for_each_line(merges_txt, [&](std::string_view line, size_t n) {
    if (line.empty()) return;
    if (n == 1 && line.rfind("#version", 0) == 0) return;
    auto sp = line.find(' ');
    if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
      throw Error(merges_txt + ":" + std::to_string(n) + ": expected two symbols separated by one space, got '" +
                  std::string(line) + "'");
    merges.emplace_back(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
  });
  return std::make_shared<BpeTokenizer>(std::move(vocab), std::move(merges), opt, vocab_json);
}

std::shared_ptr<BpeTokenizer> BpeTokenizer::from_tokenizer_json(const std::string& path) {
  auto j = nlohmann::json::parse(core::read_file(path), nullptr, false);
  if (j.is_discarded()) throw Error(path + ": not valid JSON");
  const auto& model = j.at("model");
  std::unordered_map<std::string, int64_t> vocab;
  for (auto it = model.at("vocab").begin(); it != model.at("vocab").end(); ++it)
    vocab.emplace(it.key(), it.value().get<int64_t>());
  std::vector<Merge> merges;
  for (const auto& m : model.at("merges")) {
    if (m.is_string()) {
      auto s = m.get<std::string>();
      auto sp = s.find(' ');
      if (sp == std::string::npos) throw Error(path + ": bad merge '" + s + "'");
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw Error(path + ": bad merge entry " + m.dump());
    }
  }
  BpeOptions opt;
  if (j.contains("pre_tokenizer") && j["pre_tokenizer"].is_object() &&
      j["pre_tokenizer"].value("add_prefix_space", false))
    opt.add_prefix_space = true;
  if (j.contains("post_processor") && j["post_processor"].is_object()) {
    const auto& pp = j["post_processor"];
    if (pp.contains("cls") && pp["cls"].is_array()) opt.bos_token = pp["cls"][0].get<std::string>();
    if (pp.contains("sep") && pp["sep"].is_array()) opt.eos_token = pp["sep"][0].get<std::string>();
  }
  if (model.contains("unk_token") && model["unk_token"].is_string()) opt.unk_token = model["unk_token"].get<std::string>();
  bool mask_lstrip = opt.mask_lstrip;
  if (j.contains("added_tokens"))
    for (const auto& a : j["added_tokens"])
      if (a.value("content", "") == opt.mask_token) mask_lstrip = a.value("lstrip", mask_lstrip);
  opt.mask_lstrip = mask_lstrip;
  auto tok = std::make_shared<BpeTokenizer>(std::move(vocab), std::move(merges), opt, path);
  // Other added tokens are never split either; they follow their own strip flags.
  if (j.contains("added_tokens")) {
    for (const auto& a : j["added_tokens"]) {
      SpecialToken s;
      s.content = a.value("content", "");
      if (s.content.empty()) continue;
      s.lstrip = a.value("lstrip", false);
      s.rstrip = a.value("rstrip", false);
      bool known = false;
      for (const auto& e : tok->specials_) known = known || e.content == s.content;
      if (!known) tok->add_special(s);
    }
    tok->finish_specials();
  }
  return tok;
}

std::string BpeTokenizer::prepare(std::string_view text) const {
  std::string s = Tokenizer::prepare(text);
  if (opt_.add_prefix_space && !s.empty()) {
    auto cps = unicode::decode(std::string_view(s).substr(0, 4));
    if (!cps.empty() && !unicode::is_py_space(cps[0])) s.insert(s.begin(), ' ');
  }
  return s;
}

std::vector<std::string> BpeTokenizer::pre_tokenize(std::string_view text) {
  const re2::RE2& pattern = gpt2_pattern();
  std::vector<std::string> out;
  re2::StringPiece input(text.data(), text.size());
  size_t pos = 0;
  re2::StringPiece m;
  while (pos < text.size()) {
    if (!pattern.Match(input, pos, text.size(), RE2::UNANCHORED, &m, 1) || m.empty()) {
      out.emplace_back(text.substr(pos));  // unreachable for valid UTF-8: every character matches a branch
      break;
    }
    size_t start = static_cast<size_t>(m.data() - text.data());
    size_t len = m.size();
    // A pure whitespace match comes from the `\s+` branch. The regex tries
    // `\s+(?!\S)` first: when the run is followed by a non-space and has more
    // than one character, it gives back its last character.
    bool all_space = true;
    size_t last_start = start;
    for (size_t i = start; i < start + len;) {
      int n = unicode::utf8_length(static_cast<unsigned char>(text[i]));
      auto cps = unicode::decode(text.substr(i, static_cast<size_t>(n)));
      if (cps.size() != 1 || !is_regex_space(cps[0])) {
        all_space = false;
        break;
      }
      last_start = i;
      i += static_cast<size_t>(n);
    }
    if (all_space && start + len < text.size() && last_start > start) len = last_start - start;
    out.emplace_back(text.substr(start, len));
    pos = start + len;
  }
  return out;
}

void BpeTokenizer::bpe(const std::string& word, std::vector<std::string>& out) const {
  {
    std::lock_guard<std::mutex> lock(word_mutex_);
    auto it = word_cache_.find(word);
    if (it != word_cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  // Split the byte-mapped word into its code points (one symbol each).
  std::vector<std::string> sym;
  for (size_t i = 0; i < word.size();) {
    int n = unicode::utf8_length(static_cast<unsigned char>(word[i]));
    sym.emplace_back(word.substr(i, static_cast<size_t>(n)));
    i += static_cast<size_t>(n);
  }
  while (sym.size() > 1) {
    int best = INT_MAX;
    size_t best_i = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      auto it = ranks_.find(merge_key(sym[i], sym[i + 1]));
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        best_i = i;
      }
    }
    if (best == INT_MAX) break;
    const std::string first = sym[best_i], second = sym[best_i + 1];
    std::vector<std::string> merged;
    merged.reserve(sym.size());
    for (size_t i = 0; i < sym.size();) {
      if (i + 1 < sym.size() && sym[i] == first && sym[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(sym[i]);
        i += 1;
      }
    }
    sym.swap(merged);
  }
  out.insert(out.end(), sym.begin(), sym.end());
  std::lock_guard<std::mutex> lock(word_mutex_);
  if (word_cache_.size() >= kMaxWordCache) word_cache_.clear();
  word_cache_.emplace(word, std::move(sym));
}

void BpeTokenizer::tokenize_plain(std::string_view text, std::vector<std::string>& out) const {
  const auto& table = byte_table();
  for (const auto& piece : pre_tokenize(text)) {
    std::string mapped;
    mapped.reserve(piece.size() * 2);
    for (unsigned char b : piece) mapped += table.symbol[b];
    bpe(mapped, out);
  }
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids, bool skip_special) const {
  const auto& table = byte_table();
  std::string bytes;
  for (int64_t id : ids) {
    if (skip_special && is_special_id(id)) continue;
    const std::string& tok = id_to_token(id);
    if (is_special_id(id)) {
      bytes += tok;
      continue;
    }
    for (size_t i = 0; i < tok.size();) {
      int n = unicode::utf8_length(static_cast<unsigned char>(tok[i]));
      auto it = table.inverse.find(tok.substr(i, static_cast<size_t>(n)));
      if (it != table.inverse.end())
        bytes.push_back(static_cast<char>(it->second));
      else
        bytes.append(tok, i, static_cast<size_t>(n));
      i += static_cast<size_t>(n);
    }
  }
  return unicode::sanitize(bytes);
}

void BpeTokenizer::save(const std::string& dir) const {
  core::make_dirs(dir);
  nlohmann::json v = nlohmann::json::object();
  for (int64_t i = 0; i < vocab_size(); ++i) v[id_to_token_[static_cast<size_t>(i)]] = i;
  core::atomic_write_string(dir + "/vocab.json", v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::string m = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) m += a + " " + b + "\n";
  core::atomic_write_string(dir + "/merges.txt", m);
}

}  // namespace clickprompt::plm
