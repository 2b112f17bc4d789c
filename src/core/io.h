#pragma once
// File helpers: whole-file reads, read-only memory maps, gzip-transparent line
// reading, atomic writes (temp file + rename: a crash never leaves half a file),
// and content hashing for cache keys.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace clickprompt::core {

bool file_exists(const std::string& path);
std::string read_file(const std::string& path);  // gzip files are decompressed

// Write via `path.tmp.<pid>`, fsync and rename over `path`. The writer gets the
// temp path; when it (or the rename) fails the temp file is removed. Write
// failures are WriteErrors that carry the system's reason (disk full, read-only).
void atomic_write(const std::string& path, const std::function<void(const std::string& tmp_path)>& writer);
void atomic_write_string(const std::string& path, std::string_view content);
// Creates (truncates) `file` and writes `content`; errors name `name` (the
// final path when `file` is its temp) and the system's reason.
void write_new_file(const std::string& file, std::string_view content, const std::string& name, bool sync = false);
// write(2) all of `data` to fd, retrying short writes; WriteError names `path` and errno.
void write_all(int fd, std::string_view data, const std::string& path);
// Whether a process with this pid exists (the owner of a `.tmp.<pid>` file).
bool process_alive(long pid);

// Read-only memory map of a whole file. Move-only.
class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// 64-bit FNV-1a; `seed` chains several inputs.
uint64_t fnv1a(std::string_view data, uint64_t seed = 1469598103934665603ULL);
// The splitmix64 finalizer: a counter-based stream of well-mixed 64-bit values.
inline uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// Hash of a file's contents (streamed).
uint64_t hash_file(const std::string& path, uint64_t seed = 1469598103934665603ULL);
std::string hex64(uint64_t v);

// Call `fn(line, line_number)` for every line (1-based; '\r' stripped); gz aware.
void for_each_line(const std::string& path, const std::function<void(std::string_view, size_t)>& fn);

// Streams a text file line by line in bounded memory, plain or gzip (zlib
// reads both): a line is valid until the next call. '\r' before '\n' is stripped.
class LineReader {
 public:
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool next(std::string_view& line);
  size_t line_number() const { return line_no_; }  // of the line last returned (1-based)
  const std::string& path() const { return path_; }

 private:
  bool fill();
  std::string path_;
  void* gz_ = nullptr;  // gzFile
  std::string buf_, line_;
  size_t pos_ = 0, line_no_ = 0;
  bool eof_ = false;
};

void make_dirs(const std::string& path);

// A relative path named inside `base_file` (a config naming a spec, a spec
// naming its data): as given when it exists from the working directory, else
// relative to base_file's folder when it exists there, else as given.
std::string resolve_relative(const std::string& path, const std::string& base_file);

}  // namespace clickprompt::core
