// Offline scoring of a model bundle from raw values (what one server batch does:
// encode, text views for with-PLM bundles, forward), for bench/serve_load.sh's
// "256 rows per request against the offline rate" comparison.
//   CLICKPROMPT_BUNDLE=runs/serve-bench/dcnv2 CLICKPROMPT_ROWS=test.csv \
//     build/clickprompt_bench --benchmark_filter=BundleScore   (threads: CP_THREADS, default 2)
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "bundle/bundle.h"
#include "data/reader.h"

using namespace clickprompt;

namespace {
void BM_BundleScore(benchmark::State& st) {
  const char* dir = std::getenv("CLICKPROMPT_BUNDLE");
  const char* rows_csv = std::getenv("CLICKPROMPT_ROWS");
  if (!dir || !rows_csv) {
    st.SkipWithError("set CLICKPROMPT_BUNDLE (a bundle) and CLICKPROMPT_ROWS (a CSV of its fields)");
    return;
  }
  const char* t = std::getenv("CP_THREADS");
  at::set_num_threads(t ? std::atoi(t) : 2);
  auto model = bundle::load(dir);
  std::vector<std::string> names;
  for (const auto& f : model->fields()) names.push_back(f.name);
  auto table = data::read_csv(rows_csv, names, {}, true);
  const int64_t n = st.range(0);
  if (static_cast<int64_t>(table.rows) < n) {
    st.SkipWithError("fewer rows in CLICKPROMPT_ROWS than one batch");
    return;
  }
  std::vector<std::vector<std::string>> cols(names.size());
  for (size_t f = 0; f < names.size(); ++f) {
    const auto& c = table.strings.at(names[f]);
    for (int64_t r = 0; r < n; ++r) cols[f].push_back(c.values[c.codes[r]]);
  }
  for (auto _ : st) benchmark::DoNotOptimize(model->score(cols));
  st.counters["rows/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_BundleScore)->Arg(1)->Arg(256)->Arg(4096)->Unit(benchmark::kMicrosecond);
}  // namespace
