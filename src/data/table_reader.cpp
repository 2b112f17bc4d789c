// The schema reader (`format: table`, and `format: csv`, its plain-CSV case):
// a main file of rows (CSV/TSV with a header or named columns, or JSON lines;
// plain or gzip; UTF-8, Latin-1 or cp1252) and side tables joined by key. Every
// column arrives as text; the field columns are interned, the label becomes a
// number (threshold or set of values), the split column an index.
#include <nlohmann/json.hpp>

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/reader.h"

namespace clickprompt::data {

namespace {

// A line as UTF-8: converted from the file's encoding, or checked.
template <class Where>
std::string_view to_utf8(std::string_view line, const FileSpec& f, std::string& buf, const Where& where) {
  if (f.encoding == "latin1") return buf = core::latin1_to_utf8(line);
  if (f.encoding == "cp1252") return buf = core::cp1252_to_utf8(line);
  if (!core::valid_utf8(line))
    throw Error(where() + ": not valid UTF-8 (set read.encoding: latin1 or cp1252, or convert the file)");
  return line;
}

// A JSON value as the text a column holds: strings as they are, numbers in
// their shortest form, lists joined by ", ", null as empty.
std::string json_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) {
      if (!out.empty()) out += ", ";
      out += json_text(e);
    }
    return out;
  }
  return v.dump();
}

}  // namespace

void read_rows(const FileSpec& f, const std::vector<std::string>& wanted, const RowFn& fn) {
  std::vector<std::string_view> cells(wanted.size());
  std::vector<std::string> owned(wanted.size());  // JSON values
  std::string conv, scratch, pending;
  std::vector<std::string_view> parts;
  std::vector<int> index;  // csv: column of each wanted name
  size_t n_columns = 0, pending_from = 0;
  std::vector<bool> seen(wanted.size(), false);  // jsonl: the key appeared in some line
  bool header_done = false;

  auto columns_known = [&](const std::vector<std::string>& names, const std::string& where) {
    n_columns = names.size();
    for (const auto& w : wanted) {
      auto it = std::find(names.begin(), names.end(), w);
      if (it == names.end()) throw Error(where + ": column '" + w + "' not in the header (" + core::suggest(w, names) + ")");
      index.push_back(static_cast<int>(it - names.begin()));
    }
    header_done = true;
  };
  if (f.type != "jsonl" && !f.header) columns_known(f.columns, f.path + " (read.columns)");

  core::for_each_line(f.path, [&](std::string_view raw, size_t n) {
    const size_t line_no = pending.empty() ? n : pending_from;
    auto where = [&] { return f.path + ":" + std::to_string(line_no); };
    if (f.type == "jsonl") {
      if (core::trim(raw).empty()) return;
      std::string_view line = to_utf8(raw, f, conv, where);
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) throw Error(where() + ": not a JSON object: '" + std::string(line.substr(0, 200)) + "'");
      for (size_t k = 0; k < wanted.size(); ++k) {
        auto it = j.find(wanted[k]);
        owned[k] = it == j.end() ? std::string() : json_text(*it);
        if (it != j.end()) seen[k] = true;
        cells[k] = owned[k];
      }
      fn(cells, line_no);
      return;
    }
    std::string_view line = to_utf8(raw, f, conv, where);
    if (!pending.empty()) {  // a quoted value holding a line break continues here
      pending += '\n';
      pending += line;
      line = pending;
    }
    if (!header_done) {
      std::vector<std::string> names;
      split_csv_line(line, f.delimiter, parts, scratch);
      for (auto p : parts) names.emplace_back(core::trim(p));
      columns_known(names, f.path + ":1: header");
      return;
    }
    if (line.empty()) return;
    try {
      split_csv_line(line, f.delimiter, parts, scratch);
    } catch (const Error&) {
      if (pending.size() > (1u << 20)) throw Error(where() + ": unterminated quoted value (runs past 1 MB)");
      if (pending.empty()) {
        pending.assign(line);
        pending_from = n;
      }
      return;
    }
    if (parts.size() != n_columns)
      throw Error(where() + ": expected " + std::to_string(n_columns) + " fields, found " + std::to_string(parts.size()) +
                  ": '" + std::string(line.substr(0, 200)) + "'");
    for (size_t k = 0; k < wanted.size(); ++k) cells[k] = parts[index[k]];
    fn(cells, line_no);
    pending.clear();
  });
  if (!pending.empty()) throw Error(f.path + ":" + std::to_string(pending_from) + ": unterminated quoted value");
  if (f.type != "jsonl" && !header_done) throw Error(f.path + ": empty file (expected a header row)");
  for (size_t k = 0; k < wanted.size(); ++k)
    if (f.type == "jsonl" && !seen[k]) throw Error(f.path + ": no line has the key '" + wanted[k] + "'");
}

namespace {

// A side table in memory: key -> row, and per joined column the interned code of each row.
struct SideTable {
  const JoinSpec* spec = nullptr;
  std::vector<std::string> columns;              // joined columns, in the output table
  absl::flat_hash_map<std::string, uint32_t> row_of_key;
  std::vector<std::vector<uint32_t>> codes;      // codes[c][row]
  int64_t matched = 0, unmatched = 0;
};

}  // namespace

std::vector<std::string> file_columns(const FileSpec& f) {
  if (f.type != "jsonl" && !f.header) return f.columns;
  std::vector<std::string> names;
  core::LineReader in(f.path);
  std::string_view line;
  std::string conv, scratch;
  while (in.next(line)) {
    if (core::trim(line).empty()) continue;
    auto where = [&] { return f.path + ":" + std::to_string(in.line_number()); };
    line = to_utf8(line, f, conv, where);
    if (f.type == "jsonl") {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) throw Error(where() + ": not a JSON object");
      for (auto it = j.begin(); it != j.end(); ++it) names.push_back(it.key());
    } else {
      std::vector<std::string_view> parts;
      split_csv_line(line, f.delimiter, parts, scratch);
      for (auto p : parts) names.emplace_back(core::trim(p));
    }
    break;
  }
  if (names.empty() && f.type != "jsonl") throw Error(f.path + ": empty file (expected a header row)");
  return names;
}

RawTable read_table_file(const DatasetSpec& spec) {
  RawTable t;
  FileSpec main = spec.file;
  main.path = spec.path;  // `path` is the truth (a caller may have set it after parsing)
  t.source_files = {main.path};
  // The columns the spec needs: field sources, the label, the time or split column.
  std::vector<std::string> needed;
  auto need = [&](const std::string& c) {
    if (!c.empty() && std::find(needed.begin(), needed.end(), c) == needed.end()) needed.push_back(c);
  };
  for (const auto& fs : spec.fields) need(fs.source);
  const bool csv = spec.format == "csv";
  const std::vector<std::string> main_columns = file_columns(main);
  auto in_main = [&](const std::string& c) { return std::find(main_columns.begin(), main_columns.end(), c) != main_columns.end(); };
  // The plain CSV format reads a timestamp column when there is one (for split.kind time).
  const std::string time_column = spec.split.kind == "time" ? spec.split.column : "";

  // Side tables first: a field column comes from the first join that has it, else from the main file.
  std::vector<std::vector<std::string>> join_columns;
  for (const auto& js : spec.joins) join_columns.push_back(file_columns(js.file));
  std::vector<SideTable> sides(spec.joins.size());
  std::set<std::string> from_join;
  for (size_t i = 0; i < spec.joins.size(); ++i) {
    const JoinSpec& js = spec.joins[i];
    SideTable& side = sides[i];
    side.spec = &js;
    const std::vector<std::string>& have = join_columns[i];
    if (!js.columns.empty()) {
      side.columns = js.columns;
    } else {
      for (const auto& c : needed)
        if (c != js.table_key && !from_join.count(c) && std::find(have.begin(), have.end(), c) != have.end())
          side.columns.push_back(c);
    }
    for (const auto& c : side.columns) from_join.insert(c);
    std::vector<std::string> wanted{js.table_key};
    wanted.insert(wanted.end(), side.columns.begin(), side.columns.end());
    std::vector<StringColumn*> out;
    for (const auto& c : side.columns) out.push_back(&t.strings[c]);
    side.codes.assign(side.columns.size(), {});
    read_rows(js.file, wanted, [&](const std::vector<std::string_view>& cells, size_t line) {
      auto [it, fresh] = side.row_of_key.emplace(absl::string_view(cells[0].data(), cells[0].size()),
                                                 static_cast<uint32_t>(side.row_of_key.size()));
      if (!fresh) throw Error(js.file.path + ":" + std::to_string(line) + ": key " + js.table_key + "='" + std::string(cells[0]) + "' appears twice in the side table");
      for (size_t c = 0; c < out.size(); ++c) side.codes[c].push_back(out[c]->intern(cells[c + 1]));
    });
    t.source_files.push_back(js.file.path);
  }

  if (main.type != "jsonl") {  // (a JSON key may first appear on a later line: read_rows checks those)
    std::vector<std::string> known = main_columns;
    for (const auto& jc : join_columns) known.insert(known.end(), jc.begin(), jc.end());
    std::string files = main.path;
    for (const auto& js : spec.joins) files += ", " + js.file.path;
    for (const auto& c : needed)
      if (!from_join.count(c) && !in_main(c))
        throw Error("dataset " + spec.name + ": column '" + c + "' is in none of " + files + " (" + core::suggest(c, known) + ")");
  }

  // The main file: the columns no join provides, the join keys, label, time or split column.
  std::vector<std::string> wanted;
  auto want = [&](const std::string& c) {
    if (std::find(wanted.begin(), wanted.end(), c) == wanted.end()) wanted.push_back(c);
    return static_cast<int>(std::find(wanted.begin(), wanted.end(), c) - wanted.begin());
  };
  std::vector<std::pair<int, StringColumn*>> field_cells;  // (cell, column) interned per row
  for (const auto& c : needed)
    if (!from_join.count(c)) field_cells.emplace_back(want(c), &t.strings[c]);
  std::vector<int> key_cell;
  for (const auto& js : spec.joins) key_cell.push_back(want(js.key));
  const int label_cell = want(spec.label_column);
  const int prob_cell = spec.prob_column.empty() ? -1 : want(spec.prob_column);
  const int time_cell = !time_column.empty() && (!csv || main.type == "jsonl" || in_main(time_column)) ? want(time_column) : -1;
  const int split_cell = spec.split.kind == "column" ? want(spec.split.column) : -1;

  auto& label = t.numbers[spec.label_column];
  std::vector<double>* prob = prob_cell >= 0 ? &t.numbers[spec.prob_column] : nullptr;
  std::vector<double>* time = time_cell >= 0 ? &t.numbers["timestamp"] : nullptr;
  const std::string label_what = "label column '" + spec.label_column + "'", prob_what = "column '" + spec.prob_column + "'",
                    time_what = "time column '" + time_column + "'";
  absl::flat_hash_map<std::string, uint8_t> split_of_value;
  for (uint8_t part = 0; part < spec.split.values.size(); ++part)
    for (const auto& v : spec.split.values[part])
      if (!split_of_value.emplace(v, part).second)
        throw Error("dataset " + spec.name + ": split value '" + v + "' is listed for two splits");
  std::set<std::string, std::less<>> positive(spec.label_values.begin(), spec.label_values.end());
  std::vector<uint32_t> side_row(sides.size());
  std::vector<std::vector<StringColumn*>> side_out(sides.size());
  for (size_t i = 0; i < sides.size(); ++i)
    for (const auto& c : sides[i].columns) side_out[i].push_back(&t.strings[c]);
  int64_t dropped_unmatched = 0;

  read_rows(main, wanted, [&](const std::vector<std::string_view>& cells, size_t line) {
    auto where = [&] { return main.path + ":" + std::to_string(line); };
    for (size_t i = 0; i < sides.size(); ++i) {
      auto it = sides[i].row_of_key.find(absl::string_view(cells[key_cell[i]].data(), cells[key_cell[i]].size()));
      if (it == sides[i].row_of_key.end()) {
        ++sides[i].unmatched;
        if (sides[i].spec->drop_unmatched) {
          ++dropped_unmatched;
          return;
        }
        side_row[i] = UINT32_MAX;
      } else {
        ++sides[i].matched;
        side_row[i] = it->second;
      }
    }
    double y;
    try {
      y = positive.empty() ? core::parse_double(cells[label_cell], label_what)
                           : static_cast<double>(positive.count(cells[label_cell]));
      if (prob) prob->push_back(core::parse_double(cells[prob_cell], prob_what));
      if (time) time->push_back(core::parse_double(cells[time_cell], time_what));
    } catch (const Error& e) {
      throw Error(where() + ": " + e.what());
    }
    if (split_cell >= 0) {
      auto it = split_of_value.find(absl::string_view(cells[split_cell].data(), cells[split_cell].size()));
      if (it == split_of_value.end())
        throw Error(where() + ": split column '" + spec.split.column + "' holds '" + std::string(cells[split_cell]) +
                    "', which is in none of split.train, split.valid, split.test");
      t.split_of_row.push_back(it->second);
    }
    label.push_back(y);
    for (auto& [cell, col] : field_cells) col->push(cells[cell]);
    for (size_t i = 0; i < sides.size(); ++i)
      for (size_t c = 0; c < side_out[i].size(); ++c) {
        StringColumn& col = *side_out[i][c];
        col.codes.push_back(side_row[i] == UINT32_MAX ? col.intern("") : sides[i].codes[c][side_row[i]]);
      }
    ++t.rows;
  });
  t.report.push_back(main.path + ": " + std::to_string(t.rows + dropped_unmatched) + " rows read, " +
                     std::to_string(t.rows) + " kept");
  for (const auto& side : sides)
    t.report.push_back("join " + side.spec->file.path + " on " + side.spec->key + ": " + std::to_string(side.row_of_key.size()) +
                       " side rows; " + std::to_string(side.matched) + " rows matched, " + std::to_string(side.unmatched) +
                       (side.spec->drop_unmatched ? " without a match dropped" : " without a match (empty values)"));
  return t;
}

}  // namespace clickprompt::data
