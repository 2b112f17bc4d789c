#include "data/pyliteral.h"

#include <cctype>
#include <charconv>

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::data {

namespace {

class PyParser {
 public:
  PyParser(std::string_view s, const std::string& where) : s_(s), where_(where) {}

  nlohmann::json parse() {
    nlohmann::json v = value(0);
    skip_space();
    if (i_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(where_ + ": not JSON or a Python literal: " + what + " at column " + std::to_string(i_ + 1));
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    const size_t end = i_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    i_ = end;
    return true;
  }

  nlohmann::json value(int depth) {
    if (depth > 64) fail("nested deeper than 64 levels");
    skip_space();
    if (i_ >= s_.size()) fail("value expected");
    const char c = s_[i_];
    if (c == '{') return dict(depth);
    if (c == '[' || c == '(') return list(depth, c == '[' ? ']' : ')');
    if (c == '\'' || c == '"') return string();
    if ((c == 'u' || c == 'b' || c == 'U' || c == 'B') && i_ + 1 < s_.size() && (s_[i_ + 1] == '\'' || s_[i_ + 1] == '"'))
      return string();
    if (word("True") || word("true")) return true;
    if (word("False") || word("false")) return false;
    if (word("None") || word("null")) return nullptr;
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) return number();
    fail(std::string("unexpected character '") + c + "'");
  }

  nlohmann::json dict(int depth) {
    ++i_;
    nlohmann::json out = nlohmann::json::object();
    while (true) {
      if (eat('}')) return out;
      skip_space();
      nlohmann::json k = value(depth + 1);
      std::string key = k.is_string() ? k.get<std::string>() : k.dump();
      if (!eat(':')) fail("':' expected after a key");
      out[key] = value(depth + 1);
      if (eat('}')) return out;
      if (!eat(',')) fail("',' or '}' expected");
    }
  }

  nlohmann::json list(int depth, char close) {
    ++i_;
    nlohmann::json out = nlohmann::json::array();
    while (true) {
      if (eat(close)) return out;
      out.push_back(value(depth + 1));
      if (eat(close)) return out;
      if (!eat(',')) fail(std::string("',' or '") + close + "' expected");
    }
  }

  uint32_t hex(size_t digits) {
    if (i_ + digits > s_.size()) fail("short escape");
    uint32_t v = 0;
    for (size_t k = 0; k < digits; ++k) {
      const char h = s_[i_ + k];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else fail("bad hex digit in an escape");
    }
    i_ += digits;
    return v;
  }

  nlohmann::json string() {
    bool unicode = false;
    if (s_[i_] != '\'' && s_[i_] != '"') {
      unicode = s_[i_] == 'u' || s_[i_] == 'U';
      ++i_;
    }
    const char quote = s_[i_++];
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == quote) break;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case '0': out.push_back('\0'); break;
        case '\\': case '\'': case '"': case '/': out.push_back(e); break;
        case 'x': {
          const uint32_t v = hex(2);
          // In a plain (Python 2 byte) string \xNN is a byte of the UTF-8 text.
          if (unicode) core::append_utf8(out, v);
          else out.push_back(static_cast<char>(v));
          break;
        }
        case 'u': {
          uint32_t cp = hex(4);
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            const uint32_t lo = hex(4);
            if (lo >= 0xDC00 && lo <= 0xDFFF) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else cp = 0xFFFD;
          }
          if ((cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
          core::append_utf8(out, cp);
          break;
        }
        case 'U': {
          uint32_t cp = hex(8);
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
          core::append_utf8(out, cp);
          break;
        }
        default:  // Python keeps an unknown escape as written
          out.push_back('\\');
          out.push_back(e);
      }
    }
    if (!core::valid_utf8(out)) out = core::latin1_to_utf8(out);
    return out;
  }

  nlohmann::json number() {
    const size_t start = i_;
    bool is_float = false;
    if (s_[i_] == '-' || s_[i_] == '+') ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        ++i_;
      } else if (c == '.' || c == 'e' || c == 'E') {
        is_float = true;
        ++i_;
        if ((c == 'e' || c == 'E') && i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) ++i_;
      } else {
        break;
      }
    }
    std::string_view t = s_.substr(start, i_ - start);
    if (!t.empty() && t[0] == '+') t.remove_prefix(1);
    if (!is_float) {
      long long v = 0;
      auto r = std::from_chars(t.data(), t.data() + t.size(), v);
      if (r.ec == std::errc() && r.ptr == t.data() + t.size()) return v;
    }
    double d = 0;
    auto r = std::from_chars(t.data(), t.data() + t.size(), d);
    if (r.ec != std::errc() || r.ptr != t.data() + t.size()) {
      i_ = start;
      fail("bad number");
    }
    return d;
  }

  std::string_view s_;
  const std::string& where_;
  size_t i_ = 0;
};

}  // namespace

nlohmann::json parse_json_or_python(std::string_view line, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) return j;
  return PyParser(line, where).parse();
}

}  // namespace clickprompt::data
