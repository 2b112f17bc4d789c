#pragma once
// Small Unicode helpers for the tokenizers, on top of utf8proc: UTF-8
// decoding/encoding, Python-compatible character classes (str.isspace,
// unicodedata.category prefixes), per-character lower-casing as Python's
// str.lower() does it, and canonical decomposition (NFD).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"

namespace clickprompt::plm::unicode {

// Decodes UTF-8 into code points. Invalid bytes become U+FFFD (as Python's
// bytes.decode("utf-8", errors="replace") does, one per bad byte).
std::vector<char32_t> decode(std::string_view s);
// Replaces invalid UTF-8 sequences by U+FFFD; valid input is returned unchanged.
std::string sanitize(std::string_view s);
using core::append_utf8;  // one UTF-8 encoder (core/strings)
std::string encode(const std::vector<char32_t>& cps);
// Byte length of the UTF-8 sequence starting with lead byte `c` (1 for invalid).
int utf8_length(unsigned char c);

// Python's str.isspace() for one character.
bool is_py_space(char32_t cp);
// unicodedata.category(c)[0] / full-category tests.
bool is_control_category(char32_t cp);      // "C*"
bool is_punctuation_category(char32_t cp);  // "P*"
bool is_space_separator(char32_t cp);       // "Zs"
bool is_nonspacing_mark(char32_t cp);       // "Mn"

// Python's str.lower() of one character (full mapping: U+0130 -> "i\u0307").
void append_lower(std::string& out, char32_t cp);
std::string lower(std::string_view s);
// Canonical decomposition (NFD) of valid UTF-8.
std::string nfd(std::string_view s);

// Python's str.strip()/lstrip()/rstrip() without arguments.
std::string_view py_lstrip(std::string_view s);
std::string_view py_rstrip(std::string_view s);
std::string_view py_strip(std::string_view s);

}  // namespace clickprompt::plm::unicode
