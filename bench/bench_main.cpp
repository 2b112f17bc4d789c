// One entry point for every micro benchmark in bench/.
#include <benchmark/benchmark.h>

#include "core/runtime.h"

int main(int argc, char** argv) {
  // As the CLI does: freed tensor memory stays in the heap instead of going
  // back to the kernel, so a step does not pay page faults for new buffers.
  clickprompt::core::keep_freed_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
