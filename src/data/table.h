#pragma once
// The column table readers produce: string columns dictionary-encoded at read
// time (one value list + one code per row: ML-1M has 1M rows but only ~10k
// distinct user/movie values), plus numeric columns (rating, timestamp, ...).
#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace clickprompt::data {

struct StringColumn {
  std::vector<std::string> values;  // distinct values, UTF-8
  std::vector<uint32_t> codes;      // one per row, index into values

  uint32_t intern(std::string_view v);  // returns the code of v, adding it if new
  void push(std::string_view v) { codes.push_back(intern(v)); }
  const std::string& value(size_t row) const { return values[codes[row]]; }

 private:
  // Open addressing (Abseil's Swiss table): interning is the hot loop of every
  // reader, and std::unordered_map's node chains made it 40 % of a CSV prepare.
  absl::flat_hash_map<std::string, uint32_t> index_;
};

struct RawTable {
  size_t rows = 0;
  std::map<std::string, StringColumn> strings;
  std::map<std::string, std::vector<double>> numbers;
  std::vector<std::string> source_files;  // for messages and the cache key
  std::vector<std::string> report;        // the reader's counts: rows kept and dropped by rule
  std::vector<uint8_t> split_of_row;      // 0 train, 1 valid, 2 test when the data names each row's split
  std::vector<std::string> column_names() const;
};

}  // namespace clickprompt::data
