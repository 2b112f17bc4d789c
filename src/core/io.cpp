#include "core/io.h"

#include <fcntl.h>
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

void atomic_write(const std::string& path, const std::function<void(const std::string&)>& writer) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    writer(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = std::strerror(errno);
    std::remove(tmp.c_str());
    throw Error("cannot move " + tmp + " to " + path + ": " + err);
  }
}

void atomic_write_string(const std::string& path, std::string_view content) {
  atomic_write(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw Error("write failed for " + tmp + " (disk full?)");
  });
}

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
  if (is_gzip(path)) {
    std::string all = read_file(path);
    emit_all(all);
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
  if (n < 0) {
    int err = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &err);
    throw Error("read error in " + path_ + ": " + (msg ? msg : "unknown") + " (corrupt or truncated gzip?)");
  }
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

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error("cannot create directory " + path + ": " + ec.message());
}

}  // namespace clickprompt::core
