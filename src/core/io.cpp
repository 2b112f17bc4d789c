#include "core/io.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace clickprompt::core {

namespace {
bool is_gzip(const std::string& path) {
  return path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
}
}  // namespace

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_file(const std::string& path) {
  if (!file_exists(path)) throw Error("file not found: " + path);
  if (is_gzip(path)) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw Error("cannot open gzip file: " + path);
    std::string out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, n);
    int err = 0;
    const char* msg = gzerror(f, &err);
    std::string m = msg ? msg : "";
    gzclose(f);
    if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
      throw Error("corrupt gzip file " + path + ": " + m);
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open file: " + path + ": " + std::strerror(errno));
  std::string out;
  in.seekg(0, std::ios::end);
  out.resize(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  if (!in) throw Error("cannot read file: " + path);
  return out;
}

namespace {
std::string temp_name(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }
}  // namespace

void write_all(int fd, std::string_view data, const std::string& path) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw WriteError("cannot write " + path + ": " + std::strerror(errno));
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void atomic_write(const std::string& path, const std::function<void(const std::string&)>& writer) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) make_dirs(parent.string());
  const std::string tmp = temp_name(path);
  try {
    writer(tmp);
    // The data reaches the disk before the rename makes it visible: a crash
    // leaves the old file or the new one, never a torn one.
    int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
      int rc = ::fsync(fd);
      int err = errno;
      ::close(fd);
      if (rc != 0 && err != EINVAL) throw WriteError("cannot write " + path + ": " + std::strerror(err));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw WriteError("cannot move " + tmp + " to " + path + ": " + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

void write_new_file(const std::string& file, std::string_view content, const std::string& name, bool sync) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteError("cannot write " + name + ": " + std::strerror(errno));
  try {
    write_all(fd, content, name);
    if (sync && ::fsync(fd) != 0 && errno != EINVAL) throw WriteError("cannot write " + name + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw WriteError("cannot write " + name + ": " + std::strerror(errno));
}

void atomic_write_string(const std::string& path, std::string_view content) {
  atomic_write(path, [&](const std::string& tmp) { write_new_file(tmp, content, path); });
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

MappedFile::MappedFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error("cannot stat " + path);
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error("cannot mmap " + path + ": " + std::strerror(errno));
    }
    data_ = static_cast<const char*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<char*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept : data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

uint64_t fnv1a(std::string_view data, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t hash_file(const std::string& path, uint64_t seed) {
  if (!file_exists(path)) throw Error("file not found: " + path);
  MappedFile m(path);
  // Hash 8 bytes at a time (fast enough for 25 MB files) then the tail.
  uint64_t h = seed ^ m.size();
  const char* p = m.data();
  size_t n = m.size(), i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 1099511628211ULL;
    h ^= h >> 29;
  }
  return fnv1a(std::string_view(p + i, n - i), h);
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void for_each_line(const std::string& path, const std::function<void(std::string_view, size_t)>& fn) {
  auto emit_all = [&](std::string_view all) {
    size_t line_no = 0, start = 0;
    while (start < all.size()) {
      size_t end = all.find('\n', start);
      if (end == std::string_view::npos) end = all.size();
      std::string_view line = all.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      fn(line, ++line_no);
      start = end + 1;
    }
  };
  if (is_gzip(path)) {  // streamed: a gzip file may not fit in memory once inflated
    LineReader in(path);
    std::string_view line;
    while (in.next(line)) fn(line, in.line_number());
  } else {
    if (!file_exists(path)) throw Error("file not found: " + path);
    MappedFile m(path);
    emit_all(m.view());
  }
}

LineReader::LineReader(const std::string& path) : path_(path) {
  if (!file_exists(path)) throw Error("file not found: " + path);
  gz_ = gzopen(path.c_str(), "rb");
  if (!gz_) throw Error("cannot open " + path + ": " + std::strerror(errno));
  gzbuffer(static_cast<gzFile>(gz_), 1 << 20);
}

LineReader::~LineReader() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

bool LineReader::fill() {
  if (eof_) return false;
  buf_.erase(0, pos_);
  pos_ = 0;
  const size_t old = buf_.size(), chunk = 1 << 20;
  buf_.resize(old + chunk);
  int n = gzread(static_cast<gzFile>(gz_), buf_.data() + old, static_cast<unsigned>(chunk));
  int err = Z_OK;
  const char* msg = n <= 0 ? gzerror(static_cast<gzFile>(gz_), &err) : nullptr;
  // A truncated stream reads as end of file with Z_BUF_ERROR set.
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    throw Error("corrupt gzip file " + path_ + ": " + (msg && *msg ? msg : "read error") + " (corrupt or truncated?)");
  buf_.resize(old + static_cast<size_t>(n));
  if (n == 0) eof_ = true;
  return n > 0;
}

bool LineReader::next(std::string_view& line) {
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line_.assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      break;
    }
    if (!fill()) {
      if (pos_ >= buf_.size()) return false;
      line_.assign(buf_, pos_, std::string::npos);  // last line without '\n'
      pos_ = buf_.size();
      break;
    }
  }
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  ++line_no_;
  line = line_;
  return true;
}

std::string resolve_relative(const std::string& path, const std::string& base_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty() || fs::path(path).is_absolute() || fs::exists(path, ec)) return path;
  fs::path beside = fs::path(base_file).parent_path() / path;
  if (fs::exists(beside, ec)) return beside.lexically_normal().string();
  return path;
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw WriteError("cannot create directory " + path + ": " + ec.message());
}

}  // namespace clickprompt::core
