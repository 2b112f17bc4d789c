#pragma once
// Helpers shared by the tests: temp folders, the shared data path, running the CLI.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

#include "core/error.h"
#include "data/synthetic.h"

namespace clickprompt::test_util {

inline std::string shared_dir() {
  const char* env = std::getenv("CLICKPROMPT_SHARED");
  return env ? env : CP_SHARED_DIR;
}
// Writes `text` gzip-compressed (the raw formats of the public data sets).
inline void write_gzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f || gzwrite(f, text.data(), static_cast<unsigned>(text.size())) != static_cast<int>(text.size()))
    throw Error("test: cannot write " + path);
  gzclose(f);
}

inline std::string ml1m_dir() { return shared_dir() + "/data/ml-1m"; }
inline bool have_ml1m() { return std::filesystem::exists(ml1m_dir() + "/ratings.dat"); }

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "cp") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(file(name), std::ios::binary) << content;
  }

 private:
  std::string path_;
};

// n short ML-1M-like text views (user id, gender, age, title, genre), seeded: a corpus for
// the vocabulary trainers and MLM tests.
inline std::vector<std::string> movie_texts(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  const char* genders[] = {"F", "M"};
  const char* titles[] = {"Toy Story (1995)", "Léon: The Professional (1994)", "Heat (1995)", "Misérables, Les (1995)",
                          "Star Wars (1977)", "Fargo (1996)"};
  const char* genres[] = {"Animation, Comedy", "Crime, Drama", "Action, Sci-Fi", "Drama, Musical", "Thriller"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    int t = static_cast<int>(rng() % 6);
    out.push_back("User ID is " + std::to_string(rng() % 300) + ". Gender is " + genders[rng() % 2] + ". Age is " +
                  std::to_string(18 + 7 * (rng() % 5)) + ". Title is " + titles[t] + ". Film genre is " +
                  genres[t % 5] + ".");
  }
  return out;
}

// A small synthetic world in `d`: writes <name>.csv and <name>.yaml (its dataset spec); returns the spec's path.
inline std::string synthetic_spec(const TempDir& d, const std::string& name, int64_t samples, int users, int items) {
  data::SyntheticOptions so;
  so.samples = samples;
  so.users = users;
  so.items = items;
  data::write_synthetic(so, d.file(name + ".csv"));
  d.write(name + ".yaml", data::synthetic_spec_yaml(name, d.file(name + ".csv")));
  return d.file(name + ".yaml");
}

// The message of the clickprompt::Error that f() throws; "" when it throws none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct CliResult {
  int code;
  std::string output;  // stdout + stderr
};

// Runs a shell command under a time limit (SIGKILL after `timeout_s`: reported
// as 124, a hang), after a shell prefix (`VAR=value`, `ulimit -f 64;`).
inline CliResult run_command(const std::string& command, int timeout_s, const std::string& prefix = "") {
  std::string cmd = "( " + prefix + " timeout -s KILL " + std::to_string(timeout_s) + " " + command + " ) 2>&1";
  CliResult r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (r.code == 137) r.code = 124;  // killed by timeout's SIGKILL
  return r;
}

// The built CLI with `args` (a shell-quoted string), as run_command.
inline CliResult run_cli_in(const std::string& prefix, const std::string& args, int timeout_s) {
  return run_command(std::string(CP_CLI_PATH) + " " + args, timeout_s, prefix);
}

inline CliResult run_cli(const std::string& args) { return run_cli_in("", args, 1800); }

}  // namespace clickprompt::test_util
