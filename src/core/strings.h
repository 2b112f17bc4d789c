#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace clickprompt::core {

std::vector<std::string_view> split(std::string_view s, std::string_view sep);
std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// Edit distance (insert/delete/substitute, each cost 1).
size_t edit_distance(std::string_view a, std::string_view b);
// "unknown model 'dcnv3' (did you mean 'dcnv2'?; known: ...)" style message tail.
std::string suggest(std::string_view given, const std::vector<std::string>& known);

// A double as %g ("0.001", "1e+30", "nan").
std::string format_number(double v);
// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);
// ISO-8859-1 bytes to UTF-8.
std::string latin1_to_utf8(std::string_view s);
// Windows-1252 bytes to UTF-8 (0x80-0x9F are curly quotes, dashes, the euro sign...;
// its five unassigned bytes map to the C1 controls, as Latin-1 does).
std::string cp1252_to_utf8(std::string_view s);
// Runs of spaces, tabs and line breaks -> one space; none at either end.
std::string collapse_spaces(std::string_view s);
// HTML character references to UTF-8: &amp; &lt; &gt; &quot; &apos; &nbsp; and the
// common typographic names, &#NNN; and &#xHH;. Anything else is left as written.
std::string html_unescape(std::string_view s);
// Appends code point `cp` as UTF-8.
void append_utf8(std::string& out, uint32_t cp);
// Throws Error("<context>: <name> must be a positive number, got <v>") unless v is finite and > 0.
void check_positive(const std::string& context, const std::string& name, double v);
// Parse a whole string as a number; throws Error with `what` as context on failure.
long long parse_int(std::string_view s, const std::string& what);
double parse_double(std::string_view s, const std::string& what);

}  // namespace clickprompt::core
