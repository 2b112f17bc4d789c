#pragma once
// Readers: raw files -> RawTable. They know formats, not models.
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "data/spec.h"
#include "data/table.h"

namespace clickprompt::data {

// Reads the raw data a spec names (format movielens, bookcrossing, amazon or csv).
RawTable read_table(const DatasetSpec& spec);
// The raw files a spec's reader reads (the data cache's key hashes them all).
std::vector<std::string> raw_files(const DatasetSpec& spec);

// MovieLens-1M `::` files in `dir`: users.dat, movies.dat (ISO-8859-1), ratings.dat
// with 3 (no timestamp) or 4 fields. String columns: user_id, gender, age,
// occupation, zipcode, movie_id, title, genre (first listed), genres (all, "a, b").
// Numeric: rating, timestamp (only when present). Values are human-readable.
RawTable read_movielens(const std::string& dir);

// BookCrossing's dump in `dir`: BX-Users.csv, BX-Books.csv, BX-Book-Ratings.csv
// (';'-separated, quoted, cp1252). String columns: user_id, location (the
// country), age (11 buckets), isbn, title, author, year, publisher; numeric:
// rating (0-10). Books with a non-alphanumeric ISBN and ratings of an unknown
// user or book are dropped and counted in the table's report.
RawTable read_bookcrossing(const std::string& dir);
// BX-Users.csv alone: one row per user (user_id, location, age).
RawTable read_bookcrossing_users(const std::string& path);
// The rules, exposed for tests: "stockton, california, usa" -> "usa"; "27" -> "25-29".
std::string bookcrossing_country(std::string_view location);
std::string bookcrossing_age(std::string_view age);

// Amazon reviews: a 5-core review file (2018 `<Category>_5.json.gz`, 2014
// `reviews_<Category>_5.json.gz`) joined with `meta_<Category>.json.gz` beside it
// (JSON or Python-literal lines). String columns: user_id, item_id, category,
// title, brand; numeric: rating (1-5), timestamp. Rows in (time, user, item)
// order; the rules are in amazon_reader.cpp and docs/datasets.md.
RawTable read_amazon(const std::string& reviews_path);
// The review file and the meta file beside it (an Error names the missing one).
std::vector<std::string> amazon_files(const std::string& reviews_path);
// The rules, exposed for tests: title/brand cleaning and the category value.
std::string amazon_clean_text(std::string_view raw);
std::string amazon_category(const std::vector<std::string>& entries, const std::string& main);

// The schema reader (format table, and csv): the main file with its side tables
// joined; the rules are in table_reader.cpp and docs/datasets.md.
RawTable read_table_file(const DatasetSpec& spec);
// The rows of a CSV/TSV/JSON-lines file: `fn` gets one cell per `wanted` column
// (in that order; views valid during the call) and the line number (of the
// row's first line). A wanted column missing from the header (or from every
// JSON line) is an error.
using RowFn = std::function<void(const std::vector<std::string_view>& cells, size_t line)>;
void read_rows(const FileSpec& file, const std::vector<std::string>& wanted, const RowFn& fn);
// The columns of a file: its header (or `columns`), or a JSON-lines file's first object's keys.
std::vector<std::string> file_columns(const FileSpec& file);

// GoodReads (UCSD Book Graph) in `dir`: interactions (goodreads_interactions.csv
// with book_id_map.csv, or goodreads_interactions_dedup.json[.gz]) and the
// books, authors, works and genres metadata (.json or .json.gz). String columns:
// user_id, book_id, title, genres, average_rating, text_reviews_count, author_id,
// author_name, num_pages, is_ebook, format, publisher, publication_year,
// work_id, media_type; numeric: rating (1-5; unrated rows dropped). Options
// (the spec's `reader:`): genre, max_rows. Rules in goodreads_reader.cpp.
RawTable read_goodreads(const std::string& dir, const YAML::Node& options);
// The same, streamed: `emit` gets each kept row as one code per goodreads_columns()
// entry (into t.strings' dictionaries, which grow; their codes stay empty) and the
// rating; t gets the source files and the report.
using RowCodesFn = std::function<void(const uint32_t* codes, double label_value)>;
void stream_goodreads(const std::string& dir, const YAML::Node& options, RawTable& t, const RowCodesFn& emit);
const std::vector<std::string>& goodreads_columns();
std::vector<std::string> goodreads_files(const std::string& dir);
// A book's genre votes {"fiction": 20, "history, ...": 3} -> "fiction; history, ...".
std::string goodreads_genres(const nlohmann::json& genres);

// CSV with a header row (RFC 4180 quoting). `string_columns` are kept as text,
// `numeric_columns` parsed as numbers; other columns are ignored.
RawTable read_csv(const std::string& path, const std::vector<std::string>& string_columns,
                  const std::vector<std::string>& numeric_columns, bool numeric_optional = false);

// Splits one CSV line into fields (quotes, doubled quotes). Throws on an open quote.
std::vector<std::string> parse_csv_line(std::string_view line);
// The same without allocating per field: `out` views into `line`, or into
// `scratch` for quoted fields (valid until the next call with that scratch).
void split_csv_line(std::string_view line, char sep, std::vector<std::string_view>& out, std::string& scratch);
// Quotes a value for CSV output when needed.
std::string csv_escape(std::string_view v);

}  // namespace clickprompt::data
