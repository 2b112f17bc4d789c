#include "serve/batch_scoring.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/strings.h"
#include "data/reader.h"
#include "serve/inference_protocol.h"

namespace clickprompt::serve {

namespace {

using core::ends_with;

bool is_json_lines(const std::string& path, const std::string& format) {
  if (format == "csv") return false;
  if (format == "jsonl") return true;
  if (format != "auto") throw Error("predict: unknown --format '" + format + "' (auto, csv, jsonl)");
  std::string p = ends_with(path, ".gz") ? path.substr(0, path.size() - 3) : path;
  return ends_with(p, ".jsonl") || ends_with(p, ".ndjson") || ends_with(p, ".json");
}

// One chunk of rows: a column of raw values per field, and the labels as written.
struct Chunk {
  std::vector<std::vector<std::string>> columns;
  std::vector<std::string> labels;
  int64_t rows = 0;
  explicit Chunk(size_t fields) : columns(fields) {}
  void clear() {
    for (auto& c : columns) c.clear();
    labels.clear();
    rows = 0;
  }
};

}  // namespace

PredictStats predict_file(bundle::Model& model, const std::string& in_path, const std::string& out_path,
                          const PredictOptions& opt) {
  if (opt.chunk_rows <= 0) throw Error("predict: the chunk size must be > 0");
  const auto& fields = model.fields();
  const size_t F = fields.size();
  const bool jsonl = is_json_lines(in_path, opt.format);
  const auto t0 = std::chrono::steady_clock::now();
  core::LineReader in(in_path);
  PredictStats stats;
  core::Progress progress("predict", 0, opt.progress);
  core::atomic_write(out_path, [&](const std::string& tmp) {
    std::FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) throw WriteError("cannot write " + out_path + ": " + std::strerror(errno));
    std::unique_ptr<std::FILE, decltype(&std::fclose)> guard(out, &std::fclose);
    Chunk chunk(F);
    bool has_label = false, header_written = false;
    std::vector<int> col_of(F, -1);  // CSV: column index of each field
    int label_col = -1;
    size_t header_cols = 0;
    auto write_header = [&] {
      std::fputs(has_label ? "score,label\n" : "score\n", out);
      header_written = true;
    };
    auto flush = [&] {
      if (!header_written) write_header();
      if (chunk.rows == 0) return;
      auto scores = model.score(chunk.columns);
      char buf[32];
      for (int64_t r = 0; r < chunk.rows; ++r) {
        int n = std::snprintf(buf, sizeof(buf), "%.6f", scores[r]);
        std::fwrite(buf, 1, static_cast<size_t>(n), out);
        if (has_label) {
          std::fputc(',', out);
          const auto esc = data::csv_escape(chunk.labels[r]);
          std::fwrite(esc.data(), 1, esc.size(), out);
        }
        std::fputc('\n', out);
      }
      if (std::ferror(out)) throw WriteError("cannot write " + out_path + ": " + std::strerror(errno));
      stats.rows += chunk.rows;
      progress.update(stats.rows, 0);
      chunk.clear();
    };
    std::string_view line;
    bool first = true;
    while (in.next(line)) {
      const std::string where = in_path + ":" + std::to_string(in.line_number());
      if (jsonl) {
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw Error(where + ": not a JSON object");
        if (first) has_label = j.contains("label");
        for (size_t f = 0; f < F; ++f) {
          auto it = j.find(fields[f].name);
          if (it == j.end()) throw Error(where + ": no field '" + fields[f].name + "'");
          chunk.columns[f].push_back(json_field_value(*it, where + ": field '" + fields[f].name + "'"));
        }
        if (has_label) {
          auto it = j.find("label");
          chunk.labels.push_back(it == j.end() ? "" : json_field_value(*it, where + ": label"));
        }
      } else if (!core::valid_utf8(line)) {
        throw Error(where + ": not valid UTF-8 (convert the file, e.g. iconv -f latin1 -t utf-8)");
      } else if (first) {
        auto header = data::parse_csv_line(line);
        header_cols = header.size();
        for (size_t c = 0; c < header.size(); ++c) {
          for (size_t f = 0; f < F; ++f)
            if (header[c] == fields[f].name) col_of[f] = static_cast<int>(c);
          if (header[c] == "label") label_col = static_cast<int>(c);
        }
        std::vector<std::string> missing;
        for (size_t f = 0; f < F; ++f)
          if (col_of[f] < 0) missing.push_back(fields[f].name);
        if (!missing.empty())
          throw Error(where + ": the header lacks the model's field(s) " + core::join(missing, ", ") +
                      " (it has: " + core::join(header, ", ") + ")");
        has_label = label_col >= 0;
        first = false;
        continue;
      } else {
        std::vector<std::string> cells;
        try {
          cells = data::parse_csv_line(line);
        } catch (const Error& e) {
          throw Error(where + ": " + e.what());
        }
        if (cells.size() != header_cols)
          throw Error(where + ": " + std::to_string(cells.size()) + " columns, the header has " +
                      std::to_string(header_cols));
        if (has_label) chunk.labels.push_back(cells[label_col]);
        for (size_t f = 0; f < F; ++f) chunk.columns[f].push_back(std::move(cells[col_of[f]]));
      }
      first = false;
      if (++chunk.rows >= opt.chunk_rows) flush();
    }
    if (!jsonl && first) throw Error(in_path + ": empty file (expected a CSV header naming the fields)");
    flush();
    if (std::fflush(out) != 0) throw WriteError("cannot write " + out_path + ": " + std::strerror(errno));
  });
  progress.finish();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace clickprompt::serve
