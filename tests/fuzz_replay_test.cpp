// Replays fuzz/corpus/<target>/* (the seeds and every crash a fuzzer found)
// through each fuzz target: each input must be accepted or refused with a
// clickprompt::Error, never crash or throw anything else.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/io.h"
#include "targets.h"

namespace clickprompt {

TEST(FuzzReplay, EveryCorpusInputIsAcceptedOrRefusedCleanly) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(CP_SOURCE_DIR) / "fuzz" / "corpus";
  int replayed = 0;
  for (const auto& t : fuzz::targets()) {
    const fs::path dir = root / t.name;
    ASSERT_TRUE(fs::is_directory(dir)) << "no seed corpus for fuzz target " << t.name << " in " << dir;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string bytes = core::read_file(e.path().string());
      std::string err = fuzz::run_one(t, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      EXPECT_EQ(err, "") << t.name << ": " << e.path();
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 30);
  // fuzz/targets.txt (what CMake builds as fuzzers) lists the same targets.
  std::string listed = core::read_file((fs::path(CP_SOURCE_DIR) / "fuzz" / "targets.txt").string()), names;
  for (const auto& t : fuzz::targets()) names += std::string(t.name) + "\n";
  EXPECT_EQ(listed, names);
}

}  // namespace clickprompt
