#include <algorithm>

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
  FileSpec f;
  f.path = path;
  std::vector<std::string> wanted = string_columns;
  const std::vector<std::string> header = numeric_optional ? file_columns(f) : std::vector<std::string>{};
  std::vector<std::string> numeric, what;
  for (const auto& c : numeric_columns)
    if (!numeric_optional || std::find(header.begin(), header.end(), c) != header.end()) {
      numeric.push_back(c);
      what.push_back("column '" + c + "'");
    }
  wanted.insert(wanted.end(), numeric.begin(), numeric.end());
  std::vector<StringColumn*> str_cols;
  for (const auto& c : string_columns) str_cols.push_back(&t.strings[c]);
  std::vector<std::vector<double>*> num_cols;
  for (const auto& c : numeric) num_cols.push_back(&t.numbers[c]);
  read_rows(f, wanted, [&](const std::vector<std::string_view>& cells, size_t line) {
    for (size_t j = 0; j < str_cols.size(); ++j) str_cols[j]->push(cells[j]);
    try {
      for (size_t j = 0; j < num_cols.size(); ++j) num_cols[j]->push_back(core::parse_double(cells[str_cols.size() + j], what[j]));
    } catch (const Error& e) {
      throw Error(path + ":" + std::to_string(line) + ": " + e.what());
    }
    ++t.rows;
  });
  return t;
}

std::vector<std::string> raw_files(const DatasetSpec& spec) {
  if (spec.format == "movielens") return {spec.path + "/users.dat", spec.path + "/movies.dat", spec.path + "/ratings.dat"};
  if (spec.format == "bookcrossing")
    return {spec.path + "/BX-Users.csv", spec.path + "/BX-Books.csv", spec.path + "/BX-Book-Ratings.csv"};
  // (A missing review file is reported by the caller, with its path hint.)
  if (spec.format == "amazon") return core::file_exists(spec.path) ? amazon_files(spec.path) : std::vector{spec.path};
  if (spec.format == "goodreads") return goodreads_files(spec.path);
  std::vector<std::string> files{spec.path};
  for (const auto& j : spec.joins) files.push_back(j.file.path);
  return files;
}

RawTable read_table(const DatasetSpec& spec) {
  RawTable t;
  if (spec.format == "movielens") {
    t = read_movielens(spec.path);
  } else if (spec.format == "bookcrossing") {
    t = read_bookcrossing(spec.path);
  } else if (spec.format == "amazon") {
    t = read_amazon(spec.path);
  } else if (spec.format == "goodreads") {
    t = read_goodreads(spec.path, spec.reader_options);
  } else {
    t = read_table_file(spec);
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
