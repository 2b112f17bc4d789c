// GoodReads (UCSD Book Graph; Wan & McAuley, RecSys 2018) with the ClickPrompt
// paper's 15 fields. No preprocessing of the paper survives; our documented
// choices (docs/datasets.md):
// - interactions from `goodreads_interactions.csv` (remapped ids; `book_id_map.csv`
//   maps them to the metadata's book ids) or `goodreads_interactions_dedup.json[.gz]`
//   (original ids); unrated rows (rating 0) dropped, label = rating > 3 (the spec's threshold);
// - book fields from `goodreads_books.json[.gz]`; the first listed author's id and
//   name (`goodreads_book_authors`); the work's media type (`goodreads_book_works`);
//   genres (`goodreads_book_genres_initial`) ordered by votes, then name, joined by "; ";
// - a missing value is "unknown"; numeric fields stay raw text here (the spec buckets them);
// - rows whose book has no metadata record are dropped and counted;
// - reader options: `genre` keeps the books voted into that genre, `max_rows`
//   stops after that many kept rows (a subset like the paper's ~20 M).
// Interactions are streamed: `stream_goodreads` hands each kept row to a callback
// (prepare_dataset's streaming build writes it to disk), so memory holds the
// dictionaries and the book table, not the rows.
#include <nlohmann/json.hpp>

#include <absl/container/flat_hash_map.h>

#include <algorithm>

#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/strings.h"
#include "data/reader.h"

namespace clickprompt::data {

namespace {

const std::string kUnknown = "unknown";

// Book-side columns, in output order.
const std::vector<std::string> kBookColumns{"title",     "genres",     "average_rating", "text_reviews_count",
                                            "author_id", "author_name", "num_pages",     "is_ebook",
                                            "format",    "publisher",  "publication_year", "work_id",
                                            "media_type"};

// `name.json` or `name.json.gz` in dir ("" when neither exists).
std::string find_json(const std::string& dir, const std::string& name) {
  for (const char* ext : {".json.gz", ".json"})
    if (core::file_exists(dir + "/" + name + ext)) return dir + "/" + name + ext;
  return "";
}

std::string require_json(const std::string& dir, const std::string& name) {
  std::string p = find_json(dir, name);
  if (p.empty()) throw Error("goodreads: " + dir + "/" + name + ".json.gz (or .json) not found");
  return p;
}

// Each JSON line of a file as an object; an Error names file:line.
// (Blank lines are skipped: fn's count of records may trail the line number.)
template <class Fn>
void for_each_object(const std::string& path, Fn&& fn) {
  core::LineReader in(path);
  std::string_view line;
  while (in.next(line)) {
    if (core::trim(line).empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw Error(path + ":" + std::to_string(in.line_number()) + ": not a JSON object: '" + std::string(line.substr(0, 200)) + "'");
    try {
      fn(j);
    } catch (const nlohmann::json::exception& e) {
      throw Error(path + ":" + std::to_string(in.line_number()) + ": unexpected record (" + e.what() + ")");
    }
  }
}

// A metadata value as text: strings as they are (numbers arrive as strings), "" and null -> unknown.
std::string text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return kUnknown;
  std::string v = it->is_string() ? it->get<std::string>() : it->dump();
  v = core::collapse_spaces(core::trim(v));
  return v.empty() ? kUnknown : v;
}

}  // namespace

std::string goodreads_genres(const nlohmann::json& genres) {
  std::vector<std::pair<int64_t, std::string>> g;
  for (auto it = genres.begin(); it != genres.end(); ++it)
    g.emplace_back(it.value().is_number() ? it.value().get<int64_t>() : 0, it.key());
  std::sort(g.begin(), g.end(), [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::string out;
  for (const auto& [votes, name] : g) out += (out.empty() ? "" : "; ") + name;
  return out.empty() ? kUnknown : out;
}

std::vector<std::string> goodreads_files(const std::string& dir) {
  std::vector<std::string> files;
  const std::string csv = dir + "/goodreads_interactions.csv";
  if (core::file_exists(csv)) {
    files = {csv, dir + "/book_id_map.csv"};
  } else {
    std::string dedup = find_json(dir, "goodreads_interactions_dedup");
    files.push_back(dedup.empty() ? csv : dedup);  // a missing file is reported by the caller
  }
  for (const char* name : {"goodreads_books", "goodreads_book_authors", "goodreads_book_works", "goodreads_book_genres_initial"}) {
    std::string p = find_json(dir, name);
    files.push_back(p.empty() ? dir + "/" + name + ".json.gz" : p);
  }
  return files;
}

const std::vector<std::string>& goodreads_columns() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> c{"user_id", "book_id"};
    c.insert(c.end(), kBookColumns.begin(), kBookColumns.end());
    return c;
  }();
  return all;
}

void stream_goodreads(const std::string& dir, const YAML::Node& options, RawTable& t, const RowCodesFn& emit) {
  core::Params opt(options ? options : YAML::Node(YAML::NodeType::Map), "goodreads reader options");
  const std::string genre = opt.get<std::string>("genre", "");
  const int64_t max_rows = opt.get_int("max_rows", 0, 0, int64_t{1} << 40);
  opt.check_unused();

  t.source_files = goodreads_files(dir);
  std::vector<StringColumn*> book_cols;
  for (const auto& c : kBookColumns) book_cols.push_back(&t.strings[c]);
  StringColumn& users = t.strings["user_id"];
  StringColumn& books = t.strings["book_id"];
  std::vector<uint32_t> row(goodreads_columns().size());
  int64_t kept = 0;

  // Side tables: author names, media types, genres; then one record of codes per book.
  absl::flat_hash_map<std::string, std::string> author_name, media_type, genres_of;
  for_each_object(require_json(dir, "goodreads_book_authors"),
                  [&](const nlohmann::json& j) { author_name[text(j, "author_id")] = text(j, "name"); });
  for_each_object(require_json(dir, "goodreads_book_works"),
                  [&](const nlohmann::json& j) { media_type[text(j, "work_id")] = text(j, "media_type"); });
  int64_t genre_books = 0;
  for_each_object(require_json(dir, "goodreads_book_genres_initial"), [&](const nlohmann::json& j) {
    const auto& g = j.at("genres");
    if (!genre.empty() && !g.contains(genre)) return;
    ++genre_books;
    genres_of[text(j, "book_id")] = goodreads_genres(g);
  });
  absl::flat_hash_map<std::string, std::vector<uint32_t>> book_codes;  // metadata book id -> codes
  int64_t books_read = 0, books_skipped_genre = 0;
  for_each_object(require_json(dir, "goodreads_books"), [&](const nlohmann::json& j) {
    ++books_read;
    const std::string id = text(j, "book_id");
    auto g = genres_of.find(id);
    if (!genre.empty() && g == genres_of.end()) {
      ++books_skipped_genre;
      return;
    }
    std::string author_id = kUnknown;
    if (auto a = j.find("authors"); a != j.end() && a->is_array() && !a->empty()) author_id = text((*a)[0], "author_id");
    auto name = author_name.find(author_id);
    const std::string work_id = text(j, "work_id");
    auto media = media_type.find(work_id);
    const std::string values[] = {text(j, "title"),
                                  g == genres_of.end() ? kUnknown : g->second,
                                  text(j, "average_rating"),
                                  text(j, "text_reviews_count"),
                                  author_id,
                                  name == author_name.end() ? kUnknown : name->second,
                                  text(j, "num_pages"),
                                  text(j, "is_ebook"),
                                  text(j, "format"),
                                  text(j, "publisher"),
                                  text(j, "publication_year"),
                                  work_id,
                                  media == media_type.end() ? kUnknown : media->second};
    std::vector<uint32_t> codes(kBookColumns.size());
    for (size_t c = 0; c < codes.size(); ++c) codes[c] = book_cols[c]->intern(values[c]);
    if (!book_codes.emplace(id, std::move(codes)).second)
      throw Error("goodreads: book_id " + id + " has two records in goodreads_books");
  });

  // Interactions, streamed.
  int64_t read = 0, unrated = 0, no_book = 0;
  bool full = false;
  const std::string& interactions = t.source_files[0];
  auto add = [&](std::string_view user, const std::string& book, double r, size_t line) {
    ++read;
    if (r == 0) {
      ++unrated;
      return;
    }
    if (!(r >= 1 && r <= 5))
      throw Error(interactions + ":" + std::to_string(line) + ": rating " + core::format_number(r) + " is not 0 (unrated) or 1-5");
    auto it = book_codes.find(book);
    if (it == book_codes.end()) {
      ++no_book;
      return;
    }
    row[0] = users.intern(user);
    row[1] = books.intern(book);
    std::copy(it->second.begin(), it->second.end(), row.begin() + 2);
    emit(row.data(), r);
    ++kept;
    full = max_rows > 0 && kept >= max_rows;
  };
  struct Stop {};  // thrown out of a row callback once max_rows rows are kept
  if (core::ends_with(interactions, ".csv")) {
    // book_id_map.csv: book_id_csv -> book_id.
    std::vector<std::string> book_of_csv_id;
    FileSpec map;
    map.path = dir + "/book_id_map.csv";
    read_rows(map, {"book_id_csv", "book_id"}, [&](const std::vector<std::string_view>& c, size_t line) {
      const auto k = core::parse_int(c[0], map.path + ":" + std::to_string(line) + ": book_id_csv");
      if (k < 0 || k > (int64_t{1} << 31)) throw Error(map.path + ":" + std::to_string(line) + ": book_id_csv out of range");
      if (static_cast<size_t>(k) >= book_of_csv_id.size()) book_of_csv_id.resize(static_cast<size_t>(k) + 1);
      book_of_csv_id[static_cast<size_t>(k)] = std::string(c[1]);
    });
    FileSpec f;
    f.path = interactions;
    try {
      read_rows(f, {"user_id", "book_id", "rating"}, [&](const std::vector<std::string_view>& c, size_t line) {
        auto where = [&] { return interactions + ":" + std::to_string(line); };
        int64_t k;
        double r;
        try {
          k = core::parse_int(c[1], "book_id");
          r = core::parse_double(c[2], "rating");
        } catch (const Error& e) {
          throw Error(where() + ": " + e.what());
        }
        if (k < 0 || static_cast<size_t>(k) >= book_of_csv_id.size() || book_of_csv_id[static_cast<size_t>(k)].empty())
          throw Error(where() + ": book_id " + std::string(c[1]) + " is not in book_id_map.csv");
        add(c[0], book_of_csv_id[static_cast<size_t>(k)], r, line);
        if (full) throw Stop{};
      });
    } catch (const Stop&) {
    }
  } else {
    try {
      size_t record = 0;
      for_each_object(interactions, [&](const nlohmann::json& j) {
        add(text(j, "user_id"), text(j, "book_id"), j.at("rating").get<double>(), ++record);
        if (full) throw Stop{};
      });
    } catch (const Stop&) {
    }
  }
  t.report.push_back("books: " + std::to_string(books_read) + " records, " + std::to_string(book_codes.size()) + " kept" +
                     (genre.empty() ? "" : " (genre '" + genre + "': " + std::to_string(genre_books) + " books voted into it, " +
                                               std::to_string(books_skipped_genre) + " book records outside it)"));
  t.report.push_back("interactions: " + std::to_string(read) + " read, " + std::to_string(unrated) + " unrated (rating 0) dropped, " +
                     std::to_string(no_book) + " of a book without metadata" + (genre.empty() ? "" : " or outside the genre") +
                     " dropped, " + std::to_string(kept) + " kept" + (full ? " (max_rows reached)" : ""));
}

RawTable read_goodreads(const std::string& dir, const YAML::Node& options) {
  RawTable t;
  std::vector<StringColumn*> cols;
  for (const auto& c : goodreads_columns()) cols.push_back(&t.strings[c]);
  auto& rating = t.numbers["rating"];
  stream_goodreads(dir, options, t, [&](const uint32_t* codes, double r) {
    for (size_t c = 0; c < cols.size(); ++c) cols[c]->codes.push_back(codes[c]);
    rating.push_back(r);
    ++t.rows;
  });
  return t;
}

}  // namespace clickprompt::data
