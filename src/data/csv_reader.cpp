#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/reader.h"

namespace clickprompt::data {

void split_csv_line(std::string_view line, char sep, std::vector<std::string_view>& out, std::string& scratch) {
  out.clear();
  if (line.find('"') == std::string_view::npos) {  // the common case: views into the line
    size_t start = 0;
    for (size_t i = line.find(sep); i != std::string_view::npos; i = line.find(sep, start)) {
      out.push_back(line.substr(start, i - start));
      start = i + 1;
    }
    out.push_back(line.substr(start));
    return;
  }
  // Quoted fields are unescaped into `scratch`; it never outgrows the line, so
  // reserving the line's size keeps every view valid.
  scratch.clear();
  scratch.reserve(line.size());
  size_t field_start = 0;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          scratch.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        scratch.push_back(c);
      }
    } else if (c == '"' && scratch.size() == field_start && !quoted) {
      in_quotes = quoted = true;
    } else if (c == sep) {
      out.emplace_back(scratch.data() + field_start, scratch.size() - field_start);
      field_start = scratch.size();
      quoted = false;
    } else {
      scratch.push_back(c);
    }
  }
  if (in_quotes) throw Error("unterminated quoted field");
  out.emplace_back(scratch.data() + field_start, scratch.size() - field_start);
}

std::vector<std::string> parse_csv_line(std::string_view line) {
  std::vector<std::string_view> views;
  std::string scratch;
  split_csv_line(line, ',', views, scratch);
  return {views.begin(), views.end()};
}

std::string csv_escape(std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

RawTable read_csv(const std::string& path, const std::vector<std::string>& string_columns,
                  const std::vector<std::string>& numeric_columns, bool numeric_optional) {
  RawTable t;
  t.source_files = {path};
  std::vector<int> str_idx, num_idx;
  std::vector<StringColumn*> str_cols;
  std::vector<std::vector<double>*> num_cols;
  std::vector<std::string> num_what;
  size_t n_header = 0;
  std::vector<std::string_view> f;
  std::string scratch;
  core::for_each_line(path, [&](std::string_view line, size_t n) {
    if (n == 1) {
      if (!core::valid_utf8(line)) throw Error(path + ":1: header: not valid UTF-8");
      std::vector<std::string> header;
      try {
        header = parse_csv_line(line);
      } catch (const Error& e) {
        throw Error(path + ":1: header: " + e.what());
      }
      n_header = header.size();
      for (auto& h : header) h = std::string(core::trim(h));
      auto find = [&](const std::string& name, bool optional) -> int {
        for (size_t i = 0; i < header.size(); ++i)
          if (header[i] == name) return static_cast<int>(i);
        if (optional) return -1;
        throw Error(path + ": column '" + name + "' not in the header (" + core::suggest(name, header) + ")");
      };
      for (const auto& c : string_columns) {
        str_idx.push_back(find(c, false));
        str_cols.push_back(&t.strings[c]);
      }
      for (const auto& c : numeric_columns) {
        int i = find(c, numeric_optional);
        if (i < 0) continue;
        num_idx.push_back(i);
        num_cols.push_back(&t.numbers[c]);
        num_what.push_back("column '" + c + "'");
      }
      return;
    }
    if (line.empty()) return;
    if (!core::valid_utf8(line))
      throw Error(path + ":" + std::to_string(n) + ": not valid UTF-8 (convert the file, e.g. iconv -f latin1 -t utf-8)");
    try {
      split_csv_line(line, ',', f, scratch);
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(n) + ": " + e.what() + ": '" + std::string(line.substr(0, 200)) + "'");
    }
    if (f.size() != n_header)
      throw Error(path + ":" + std::to_string(n) + ": expected " + std::to_string(n_header) + " fields, found " +
                  std::to_string(f.size()) + ": '" + std::string(line.substr(0, 200)) + "'");
    for (size_t j = 0; j < str_idx.size(); ++j) str_cols[j]->push(f[str_idx[j]]);
    for (size_t j = 0; j < num_idx.size(); ++j) {
      try {
        num_cols[j]->push_back(core::parse_double(f[num_idx[j]], num_what[j]));
      } catch (const Error& e) {
        throw Error(path + ":" + std::to_string(n) + ": " + e.what());
      }
    }
    ++t.rows;
  });
  if (n_header == 0) throw Error(path + ": empty file (expected a header row)");
  return t;
}

std::vector<std::string> raw_files(const DatasetSpec& spec) {
  if (spec.format == "movielens") return {spec.path + "/users.dat", spec.path + "/movies.dat", spec.path + "/ratings.dat"};
  if (spec.format == "bookcrossing")
    return {spec.path + "/BX-Users.csv", spec.path + "/BX-Books.csv", spec.path + "/BX-Book-Ratings.csv"};
  // (A missing review file is reported by the caller, with its path hint.)
  if (spec.format == "amazon") return core::file_exists(spec.path) ? amazon_files(spec.path) : std::vector{spec.path};
  return {spec.path};
}

RawTable read_table(const DatasetSpec& spec) {
  RawTable t;
  if (spec.format == "movielens") {
    t = read_movielens(spec.path);
  } else if (spec.format == "bookcrossing") {
    t = read_bookcrossing(spec.path);
  } else if (spec.format == "amazon") {
    t = read_amazon(spec.path);
  } else {
    std::vector<std::string> strings, numbers{spec.label_column};
    for (const auto& f : spec.fields)
      if (std::find(strings.begin(), strings.end(), f.source) == strings.end()) strings.push_back(f.source);
    if (!spec.prob_column.empty()) numbers.push_back(spec.prob_column);
    numbers.push_back("timestamp");
    t = read_csv(spec.path, strings, numbers, /*numeric_optional=*/true);
    if (!t.numbers.count(spec.label_column))
      throw Error(spec.path + ": label column '" + spec.label_column + "' not in the header");
    if (!spec.prob_column.empty() && !t.numbers.count(spec.prob_column))
      throw Error(spec.path + ": prob_column '" + spec.prob_column + "' not in the header");
  }
  for (const auto& f : spec.fields)
    if (!t.strings.count(f.source))
      throw Error("dataset " + spec.name + ": field '" + f.name + "' reads column '" + f.source +
                  "', which the " + spec.format + " reader does not provide (" +
                  core::suggest(f.source, t.column_names()) + ")");
  if (!t.numbers.count(spec.label_column))
    throw Error("dataset " + spec.name + ": label column '" + spec.label_column + "' not provided (" +
                core::suggest(spec.label_column, t.column_names()) + ")");
  return t;
}

}  // namespace clickprompt::data
