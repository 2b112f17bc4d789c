// One entry point for every micro benchmark in bench/.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
