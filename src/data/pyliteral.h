#pragma once
// One line of a JSON-lines file that may instead hold a Python literal (the 2014
// Amazon meta files were written with Python's repr: single-quoted strings,
// True/False/None, tuples). Returns the value as JSON.
#include <string_view>

#include <nlohmann/json.hpp>

namespace clickprompt::data {

// Strict JSON, else a Python literal: dicts, lists, tuples (as arrays), strings in
// ' or " with u/b prefixes and Python escapes (\xNN, \uNNNN, \UNNNNNNNN, \n ...),
// ints, floats, True/False/None (true/false/null too). Strings that do not decode
// to valid UTF-8 are read as Latin-1. Nesting deeper than 64 levels, trailing
// text or any other token is an Error naming `where`.
nlohmann::json parse_json_or_python(std::string_view line, const std::string& where);

}  // namespace clickprompt::data
