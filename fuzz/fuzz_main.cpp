// libFuzzer entry: the target is chosen at build time (-DCP_FUZZ_TARGET="name").
// An exception other than clickprompt::Error is a finding: abort so libFuzzer
// saves the input.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const clickprompt::fuzz::Target* target = [] {
    for (const auto& t : clickprompt::fuzz::targets())
      if (std::strcmp(t.name, CP_FUZZ_TARGET) == 0) return &t;
    std::abort();
  }();
  std::string err = clickprompt::fuzz::run_one(*target, data, size);
  if (!err.empty()) {
    std::fprintf(stderr, "unexpected exception: %s\n", err.c_str());
    std::abort();
  }
  return 0;
}
