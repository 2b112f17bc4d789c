#include "plm/tokenizer/unicode.h"

#include <utf8proc.h>

#include <cstdlib>

#include "core/error.h"

namespace clickprompt::plm::unicode {

int utf8_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;
}

namespace {
// Decodes one code point at s[i]; returns its byte length, or 0 if invalid.
int decode_one(std::string_view s, size_t i, char32_t& cp) {
  utf8proc_int32_t c = 0;
  auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                            static_cast<utf8proc_ssize_t>(s.size() - i), &c);
  if (n <= 0) return 0;
  cp = static_cast<char32_t>(c);
  return static_cast<int>(n);
}
}  // namespace

std::vector<char32_t> decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    int n = decode_one(s, i, cp);
    if (n == 0) {
      out.push_back(0xFFFD);
      i += 1;
    } else {
      out.push_back(cp);
      i += static_cast<size_t>(n);
    }
  }
  return out;
}

std::string sanitize(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s)
    if (c >= 0x80) { ascii = false; break; }
  if (ascii) return std::string(s);
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    int n = decode_one(s, i, cp);
    if (n == 0) {
      append_utf8(out, 0xFFFD);
      i += 1;
    } else {
      out.append(s.data() + i, static_cast<size_t>(n));
      i += static_cast<size_t>(n);
    }
  }
  return out;
}

std::string encode(const std::vector<char32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) append_utf8(out, c);
  return out;
}

bool is_py_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_control_category(char32_t cp) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
         cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO;
}

bool is_punctuation_category(char32_t cp) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_space_separator(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ZS;
}

bool is_nonspacing_mark(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_MN;
}

void append_lower(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp));
    return;
  }
  if (cp == 0x130) {  // the one unconditional multi-character lower-case mapping
    out.push_back('i');
    append_utf8(out, 0x307);
    return;
  }
  append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
}

std::string lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : decode(s)) append_lower(out, c);
  return out;
}

std::string nfd(std::string_view s) {
  bool ascii = true;
  for (unsigned char c : s)
    if (c >= 0x80) { ascii = false; break; }
  if (ascii || s.empty()) return std::string(s);
  utf8proc_uint8_t* result = nullptr;
  auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                        static_cast<utf8proc_ssize_t>(s.size()), &result,
                        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
  if (n < 0) throw Error(std::string("unicode normalization failed: ") + utf8proc_errmsg(n));
  std::string out(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
  std::free(result);
  return out;
}

namespace {
// Length in bytes of the trailing/leading Python-whitespace run.
size_t leading_space_bytes(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    int n = decode_one(s, i, cp);
    if (n == 0 || !is_py_space(cp)) break;
    i += static_cast<size_t>(n);
  }
  return i;
}
}  // namespace

std::string_view py_lstrip(std::string_view s) { return s.substr(leading_space_bytes(s)); }

std::string_view py_rstrip(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t cp;
    int n = decode_one(s, start, cp);
    if (n == 0 || start + static_cast<size_t>(n) != end || !is_py_space(cp)) break;
    end = start;
  }
  return s.substr(0, end);
}

std::string_view py_strip(std::string_view s) { return py_rstrip(py_lstrip(s)); }

}  // namespace clickprompt::plm::unicode
