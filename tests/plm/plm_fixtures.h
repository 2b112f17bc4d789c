#pragma once
// Where the HF parity fixtures live: $CLICKPROMPT_PLM_FIXTURES, else
// CP_SHARED_DIR/fixtures/plm. Tests skip (GTEST_SKIP) when it is absent.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace clickprompt::plm::fixtures {

inline std::string fixture_dir() {
  if (const char* env = std::getenv("CLICKPROMPT_PLM_FIXTURES"); env && *env) return env;
#ifdef CP_SHARED_DIR
  return std::string(CP_SHARED_DIR) + "/fixtures/plm";
#else
  return "../shared/fixtures/plm";
#endif
}

// The tokenizer vocab files sit beside the fixture folder, in ../plm-vocab.
inline std::string vocab_dir() { return fixture_dir() + "/../plm-vocab"; }

inline bool fixture_exists(const std::string& rel) {
  return std::filesystem::exists(std::filesystem::path(fixture_dir()) / rel);
}

}  // namespace clickprompt::plm::fixtures

#define CP_REQUIRE_FIXTURE(rel)                                                                 \
  do {                                                                                          \
    if (!::clickprompt::plm::fixtures::fixture_exists(rel))                                      \
      GTEST_SKIP() << "PLM fixture '" << (rel) << "' not found under "                          \
                   << ::clickprompt::plm::fixtures::fixture_dir()                                \
                   << " (set CLICKPROMPT_PLM_FIXTURES to the fixture folder)";                  \
  } while (0)
