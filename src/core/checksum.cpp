#include "core/checksum.h"

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"

namespace clickprompt::core {

namespace {
struct Sha256 {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  Sha256() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw Error("sha256: OpenSSL init failed");
  }
  void update(const void* p, size_t n) { EVP_DigestUpdate(ctx.get(), p, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out.push_back(digits[md[i] >> 4]);
      out.push_back(digits[md[i] & 15]);
    }
    return out;
  }
};
}  // namespace

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.hex();
}

std::string sha256_file(const std::string& path) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error("cannot read " + path + ": " + std::strerror(errno));
  Sha256 h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) h.update(buf.data(), n);
  if (std::ferror(f.get())) throw Error("read error in " + path + ": " + std::strerror(errno));
  return h.hex();
}

std::string seal_path(const std::string& path) { return path + ".sha256"; }

namespace {

std::string seal_line(const std::string& path, const std::string& sum) {
  return sum + "  " + std::filesystem::path(path).filename().string() + "\n";
}

// The hex sum a seal file holds ("" when it does not parse).
std::string sum_in_seal(std::string_view text) {
  auto sp = text.find(' ');
  std::string_view sum = text.substr(0, sp);
  if (sum.size() != 64 || sum.find_first_not_of("0123456789abcdef") != std::string_view::npos) return "";
  return std::string(sum);
}

// Seal temps `PATH.sha256.tmp.<pid>` left by a writer killed between its two renames.
std::vector<std::string> pending_seals(const std::string& path) {
  std::vector<std::string> out;
  namespace fs = std::filesystem;
  fs::path p(path);
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string prefix = p.filename().string() + ".sha256.tmp.";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (starts_with(it->path().filename().string(), prefix)) out.push_back(it->path().string());
  return out;
}

void check(const std::string& path, const std::string& actual, const std::string& hint) {
  const std::string seal = seal_path(path);
  std::string expected;
  if (file_exists(seal)) {
    expected = sum_in_seal(read_file(seal));
    if (expected == actual) return;
  }
  // An interrupted write: the new file is in place, its seal still in its temp.
  for (const auto& pending : pending_seals(path)) {
    if (sum_in_seal(read_file(pending)) == actual && std::rename(pending.c_str(), seal.c_str()) == 0) return;
  }
  if (!file_exists(seal))
    throw CorruptFile(path + " has no checksum file " + seal +
                      " (written by an older clickprompt, or copied without it): cannot trust it; " + hint);
  if (expected.empty()) throw CorruptFile("checksum file " + seal + " is corrupt (no SHA-256 in it); " + hint);
  throw CorruptFile(path + " is corrupt: its SHA-256 is " + actual.substr(0, 16) + "..., " + seal + " says " +
                    expected.substr(0, 16) + "...; " + hint);
}

}  // namespace

void write_sealed(const std::string& path, const std::function<void(const std::string&)>& writer) {
  const std::string seal = seal_path(path), seal_tmp = seal + ".tmp." + std::to_string(::getpid());
  try {
    atomic_write(path, [&](const std::string& tmp) {
      writer(tmp);
      write_new_file(seal_tmp, seal_line(path, sha256_file(tmp)), seal, /*sync=*/true);
    });
    if (std::rename(seal_tmp.c_str(), seal.c_str()) != 0)
      throw WriteError("cannot move " + seal_tmp + " to " + seal + ": " + std::strerror(errno));
  } catch (...) {
    std::remove(seal_tmp.c_str());
    throw;
  }
}

void write_sealed(const std::string& path, std::string_view content) {
  write_sealed(path, [&](const std::string& tmp) { write_new_file(tmp, content, path); });
}

std::string read_sealed(const std::string& path, const std::string& hint) {
  std::string content = read_file(path);
  verify_sealed(path, content, hint);
  return content;
}

nlohmann::json read_sealed_json(const std::string& path, const std::string& hint) {
  auto j = nlohmann::json::parse(read_sealed(path, hint), nullptr, false);
  if (!j.is_object()) throw CorruptFile(path + " is not a JSON object; " + hint);
  return j;
}

void verify_sealed(const std::string& path, std::string_view content, const std::string& hint) {
  check(path, sha256_hex(content), hint);
}

void verify_sealed(const std::string& path, const std::string& hint) {
  if (!file_exists(path)) throw Error("file not found: " + path);
  check(path, sha256_file(path), hint);
}

int clean_temp_files(const std::string& dir) {
  namespace fs = std::filesystem;
  int removed = 0;
  std::error_code ec;
  std::vector<fs::path> temps;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at + 5 >= name.size()) continue;
    const std::string pid = name.substr(at + 5);
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (process_alive(std::stol(pid))) continue;
    temps.push_back(it->path());
  }
  for (const auto& t : temps) {
    const std::string name = t.filename().string();
    // A seal whose rename was interrupted: complete it if it matches its file.
    auto seal_at = name.rfind(".sha256.tmp.");
    if (seal_at != std::string::npos) {
      const std::string file = (t.parent_path() / name.substr(0, seal_at)).string();
      if (file_exists(file) && sum_in_seal(read_file(t.string())) == sha256_file(file) &&
          std::rename(t.c_str(), seal_path(file).c_str()) == 0)
        continue;
    }
    if (fs::remove(t, ec)) ++removed;
  }
  return removed;
}

}  // namespace clickprompt::core
