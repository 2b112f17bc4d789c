#pragma once
// Fuzz targets: each feeds arbitrary bytes to one parser or loader and lets
// only clickprompt::Error (a clear refusal) out. Built two ways: as libFuzzer
// binaries (cmake -DCLICKPROMPT_FUZZ=ON with clang; bench/fuzz.sh runs them)
// and into the test suite, which replays every file of fuzz/corpus/<target>/
// (seeds and every crash found) through its target.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace clickprompt::fuzz {

struct Target {
  const char* name;
  void (*run)(const uint8_t* data, size_t size);
};
const std::vector<Target>& targets();
// Runs one input through a target: returns "" or the unexpected exception's text
// (a crash stays a crash).
std::string run_one(const Target& t, const uint8_t* data, size_t size);

}  // namespace clickprompt::fuzz
