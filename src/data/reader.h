#pragma once
// Readers: raw files -> RawTable. They know formats, not models.
#include <string>
#include <vector>

#include "data/spec.h"
#include "data/table.h"

namespace clickprompt::data {

// Reads the raw data a spec names (format movielens or csv).
RawTable read_table(const DatasetSpec& spec);

// MovieLens-1M `::` files in `dir`: users.dat, movies.dat (ISO-8859-1), ratings.dat
// with 3 (no timestamp) or 4 fields. String columns: user_id, gender, age,
// occupation, zipcode, movie_id, title, genre (first listed), genres (all, "a, b").
// Numeric: rating, timestamp (only when present). Values are human-readable.
RawTable read_movielens(const std::string& dir);

// CSV with a header row (RFC 4180 quoting). `string_columns` are kept as text,
// `numeric_columns` parsed as numbers; other columns are ignored.
RawTable read_csv(const std::string& path, const std::vector<std::string>& string_columns,
                  const std::vector<std::string>& numeric_columns, bool numeric_optional = false);

// Splits one CSV line into fields (quotes, doubled quotes). Throws on an open quote.
std::vector<std::string> parse_csv_line(std::string_view line);
// Quotes a value for CSV output when needed.
std::string csv_escape(std::string_view v);

}  // namespace clickprompt::data
